"""A loudspeaker in the room: what a client plays comes back into its own
microphone, and its echo canceller (fed with the meeting's mix as the far
end) takes it out before it is sent, so the others do not hear themselves."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from _client_world import (  # noqa: F401
    Received,
    rms,
    server_fixture,
    sign_in,
    until,
)

from cloudlink.client import Client
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import speech_source
from cloudlink.server.embedded import EmbeddedServer

RATE_HZ = 16000
FRAME_SAMPLES = RATE_HZ // 100
MEDIA_S = 5.0
# The room: the microphone hears the loudspeaker 30 ms late at half its level.
ECHO_DELAY_FRAMES = 3
ECHO_GAIN = 0.5
# What is measured: the last 2 s, once the canceller has converged.
MEASURED_FRAMES = 200


class EchoRoom:
    """A loudspeaker and a microphone in one room, and nobody talking in it.

    The loudspeaker and the microphone run on one device clock, so the echo
    in microphone frame n is loudspeaker frame n minus the acoustic delay,
    counted in frames from where both started; the two asyncio ticks that
    stand for that clock here may fire late or in bursts on a loaded
    machine without moving the echo path."""

    def __init__(self) -> None:
        self.played: dict[int, AudioFrame] = {}
        self.frames_played = 0

    def loudspeaker(self, frame: AudioFrame) -> None:
        self.played[self.frames_played] = frame
        self.played.pop(self.frames_played - 10 * ECHO_DELAY_FRAMES, None)
        self.frames_played += 1

    def microphone(self) -> Iterator[AudioFrame]:
        silence = np.zeros(FRAME_SAMPLES, np.int16)
        start = self.frames_played  # the loudspeaker frame playing as it opens
        for n in itertools.count():
            frame = self.played.get(start + n - ECHO_DELAY_FRAMES)
            if frame is None:
                yield AudioFrame(silence, RATE_HZ)
                continue
            echo = frame.samples.astype(np.float64) * ECHO_GAIN
            yield AudioFrame(np.round(echo).astype(np.int16), RATE_HZ)


@pytest.mark.parametrize(("echo_cancellation", "max_return_db", "min_return_db"), [
    (True, -15.0, -200.0),
    (False, 0.0, -12.0),
])  # fmt: skip
async def test_the_echo_of_the_loudspeaker_is_not_sent_back(
    server: EmbeddedServer, echo_cancellation: bool, max_return_db: float, min_return_db: float
) -> None:
    talker: Client = await sign_in(server, "ada")
    listener: Client = await sign_in(server, "bob")
    try:
        info = await talker.create_meeting("Echo")
        meeting_a = await talker.join(info.code, sample_rate_hz=RATE_HZ)
        meeting_b = await listener.join(info.code, sample_rate_hz=RATE_HZ)
        heard = Received()
        heard.attach(meeting_a)
        room = EchoRoom()
        speaker = meeting_b.play_audio(room.loudspeaker)
        await meeting_b.publish_audio(room.microphone, echo_cancellation=echo_cancellation)
        speech = list(
            itertools.islice(speech_source("alice", sample_rate_hz=RATE_HZ), int(MEDIA_S * 100))
        )
        await meeting_a.publish_audio(speech)
        await until(lambda: room.frames_played >= MEDIA_S * 100)

        # What came back to the talker from the listener's microphone,
        # against the talker's own speech in the same stretch.
        returned = heard.heard(meeting_b.participant_id)[-MEASURED_FRAMES * FRAME_SAMPLES :]
        played = np.concatenate([f.samples for f in speech[-MEASURED_FRAMES - 30 : -30]])
        return_db = 20.0 * np.log10(max(rms(returned), 1e-3) / rms(played))
        canceller = meeting_b.audio.echo_canceller if meeting_b.audio is not None else None
        assert min_return_db <= return_db <= max_return_db, (
            f"echo returned at {return_db:.1f} dB",
            str(canceller.stats()) if canceller is not None else None,
        )
        assert speaker.frames_played >= MEDIA_S * 100
        assert speaker.errors == 0
        stats = meeting_b.stats()["outbound"]["audio"]
        if echo_cancellation:
            assert stats["echoReturnLossEnhancement"] > 6.0, stats
        else:
            assert "echoReturnLossEnhancement" not in stats
    finally:
        await talker.close()
        await listener.close()


@pytest.mark.parametrize("play_first", [True, False])
async def test_the_loudspeaker_tick_captures_the_microphone(
    server: EmbeddedServer, play_first: bool
) -> None:
    """One device clock: once the meeting plays its audio, each loudspeaker
    tick is followed by the microphone's frame of the same tick, whichever
    of the two started first."""
    client = await sign_in(server, "ada")
    try:
        info = await client.create_meeting("Clock")
        meeting = await client.join(info.code, sample_rate_hz=RATE_HZ)
        silence = AudioFrame(np.zeros(FRAME_SAMPLES, np.int16), RATE_HZ)
        if play_first:
            speaker = meeting.play_audio(lambda _frame: None)
        track = await meeting.publish_audio(itertools.repeat(silence))
        if not play_first:
            await until(lambda: track.frames_sent >= 10)
            assert track.runs_own_clock
            speaker = meeting.play_audio(lambda _frame: None)
        await until(lambda: not track.runs_own_clock)
        played, sent = speaker.frames_played, track.frames_sent
        await until(lambda: speaker.frames_played >= played + 30)
        # Each played frame captured one, give or take the tick in progress.
        assert abs((track.frames_sent - sent) - (speaker.frames_played - played)) <= 1
        assert speaker.capture_errors == 0
    finally:
        await client.close()


async def test_a_meeting_plays_its_audio_once(server: EmbeddedServer) -> None:
    client = await sign_in(server, "ada")
    try:
        info = await client.create_meeting("Once")
        meeting = await client.join(info.code, sample_rate_hz=RATE_HZ)
        meeting.play_audio(lambda _frame: None)
        with pytest.raises(Exception, match="already plays"):
            meeting.play_audio(lambda _frame: None)
    finally:
        await client.close()
