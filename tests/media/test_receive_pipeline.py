"""The receive pipeline round trip through the real engine: send pipeline,
jitter buffer, Opus decoder."""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native
from cloudlink.media.frame import AudioFrame
from cloudlink.media.playout_clock import PlayoutClock
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.simulated_link import place_by_timestamp
from cloudlink.media.sink import MemorySink
from cloudlink.media.synthetic import speech_source

RATE_HZ = 16000


def _speech(seconds: float) -> list[AudioFrame]:
    return list(speech_source("alice", sample_rate_hz=RATE_HZ))[: round(seconds * 100)]


def _snr_db(sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16]) -> float:
    a, b = sent.astype(np.float64), heard.astype(np.float64)
    return float(10 * np.log10(np.sum(a**2) / max(np.sum((a - b) ** 2), 1.0)))


def _best_lag(
    sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16], *, start: int, length: int
) -> int:
    """The shift of ``heard`` against ``sent`` (within 20 ms at 16 kHz) that
    correlates best."""
    a = sent[start : start + length].astype(np.float64)
    lags = range(-320, 321)
    scores = [float(np.dot(a, heard[start + lag : start + lag + length])) for lag in lags]
    return lags[int(np.argmax(scores))]


def _round_trip(
    frames: list[AudioFrame],
    *,
    lost: set[int] = frozenset(),  # type: ignore[assignment]
    fec: bool = True,
    red: bool = False,
    delay_ms: float = 20.0,
) -> tuple[ReceivePipeline, npt.NDArray[np.int16], int]:
    """Sends ``frames`` (packet indexes in ``lost`` dropped), pulls every
    10 ms; returns the receiver, the aligned output and the number of pulls."""
    send = SendPipeline(
        sample_rate_hz=RATE_HZ, fec=fec, red_payload_type=63 if red else None, initial_timestamp=7
    )
    receive = ReceivePipeline(sample_rate_hz=RATE_HZ, red_payload_type=63 if red else None)
    played: list[tuple[AudioFrame, int | None]] = []
    packets = 0
    extra = [AudioFrame.silence(sample_rate_hz=RATE_HZ)] * 30
    for tick, frame in enumerate(frames + extra, start=1):
        now_ms = 10.0 * tick
        for payload in send.process(frame):
            if packets not in lost:
                receive.insert(payload, arrival_time_ms=now_ms + delay_ms)
            packets += 1
        out = receive.pull(now_ms + delay_ms)
        assert out.samples.shape == (RATE_HZ // 100,)
        played.append((out, receive.playout_timestamp))
    length = len(frames) * RATE_HZ // 100
    heard = place_by_timestamp(
        played,
        initial_timestamp=send.initial_timestamp,
        lookahead_samples=send.lookahead_samples,
        length_samples=length,
    )
    return receive, heard, len(played)


def test_clean_path_round_trip_is_aligned_with_the_input() -> None:
    frames = _speech(2.0)
    receive, heard, pulls = _round_trip(frames)
    sent = np.concatenate([f.samples for f in frames])
    assert receive.frames_pulled == pulls
    assert _snr_db(sent[4000:], heard[4000:]) > 6.0  # direct decoding gives ~10 dB
    # Placing frames by their playout timestamp leaves no lag.
    assert _best_lag(sent, heard, start=8000, length=16000) == 0
    stats = receive.stats()
    assert stats["packetsLost"] == 0
    assert stats["concealedSamples"] == 0
    assert stats["meanPlayoutDelayMs"] >= 0.0
    assert receive.playout_timestamp is not None


@pytest.mark.parametrize(("fec", "red"), [(True, False), (False, True)])
def test_single_losses_are_recovered_by_fec_or_red(fec: bool, red: bool) -> None:
    frames = _speech(2.0)
    lost = set(range(10, 100, 10))
    receive, heard, _ = _round_trip(frames, lost=lost, fec=fec, red=red, delay_ms=40.0)
    stats = receive.stats()
    # RED repairs every single loss; Opus codes FEC only for active speech.
    assert stats["fecPacketsRecovered"] >= (len(lost) - 1 if red else len(lost) // 2)
    sent = np.concatenate([f.samples for f in frames])
    assert _snr_db(sent[4000:], heard[4000:]) > 3.0


def test_losses_without_fec_or_red_are_concealed() -> None:
    receive, _, _ = _round_trip(_speech(1.0), lost={10, 11, 12, 30}, fec=False)
    stats = receive.stats()
    assert stats["fecPacketsRecovered"] == 0
    assert stats["concealedSamples"] > 0
    assert stats["concealmentEvents"] >= 1


def test_malformed_payloads_are_dropped_not_raised() -> None:
    receive = ReceivePipeline(sample_rate_hz=RATE_HZ)
    bad = RtpPayload(sequence_number=1, timestamp=0, payload_type=111, payload=b"")
    assert receive.insert(bad, arrival_time_ms=0.0) is False
    foreign = RtpPayload(sequence_number=2, timestamp=960, payload_type=96, payload=b"\xfc\xff")
    assert receive.insert(foreign, arrival_time_ms=0.0) is False
    assert receive.pull(10.0).samples.shape == (160,)


def test_play_pulls_one_frame_per_tick_into_a_sink() -> None:
    receive = ReceivePipeline(sample_rate_hz=48000)
    sink = MemorySink(sample_rate_hz=48000)
    asyncio.run(receive.play(PlayoutClock(), sink, frames=5))
    assert [f.timestamp_samples for f in sink.frames] == [0, 480, 960, 1440, 1920]


def test_stereo_frames_keep_their_channels() -> None:
    send = SendPipeline(sample_rate_hz=48000, channels=2)
    receive = ReceivePipeline(sample_rate_hz=48000, channels=2)
    tone = np.stack([np.full(480, 500, np.int16), np.full(480, -500, np.int16)], axis=1)
    for tick in range(1, 20):
        for payload in send.process(AudioFrame(tone, 48000)):
            receive.insert(payload, arrival_time_ms=10.0 * tick)
        frame = receive.pull(10.0 * tick)
        assert frame.channels == 2
        assert frame.samples.shape == (480, 2)


@pytest.mark.parametrize(
    "options", [{"sample_rate_hz": 44100}, {"channels": 3}, {"max_delay_ms": -1}]
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReceivePipeline(**options)  # type: ignore[arg-type]


def test_send_and_receive_tasks_on_one_event_loop() -> None:
    # A sender task paces 10 ms frames on its own clock and queues payloads;
    # the receiver inserts them as they come and plays on the playout clock.
    send = SendPipeline(sample_rate_hz=RATE_HZ)
    receive = ReceivePipeline(sample_rate_hz=RATE_HZ)
    sink = MemorySink(sample_rate_hz=RATE_HZ)
    frames = _speech(0.4)

    async def sender(queue: asyncio.Queue[RtpPayload | None]) -> None:
        async for _ in PlayoutClock().ticks(len(frames)):
            for payload in send.process(frames.pop(0)):
                await queue.put(payload)
        await queue.put(None)

    async def receiver(queue: asyncio.Queue[RtpPayload | None], clock: PlayoutClock) -> None:
        while (payload := await queue.get()) is not None:
            receive.insert(payload, arrival_time_ms=clock.now_ms())

    async def call() -> None:
        queue: asyncio.Queue[RtpPayload | None] = asyncio.Queue()
        clock = PlayoutClock()
        await asyncio.gather(
            sender(queue), receiver(queue, clock), receive.play(clock, sink, frames=50)
        )

    asyncio.run(call())
    assert len(sink.frames) == 50
    assert receive.stats()["packetsReceived"] == 20
    assert np.abs(sink.samples()[-3200:]).max() > 500  # speech is playing by the end


def test_playout_feeds_the_echo_canceller_its_far_end() -> None:
    # Each frame played reaches the canceller's render side, so the capture
    # side that follows never runs short of far end.
    send = SendPipeline(
        sample_rate_hz=RATE_HZ, echo_canceller=_native.EchoCanceller(sample_rate_hz=RATE_HZ)
    )
    receive = ReceivePipeline(sample_rate_hz=RATE_HZ)
    sink = MemorySink(sample_rate_hz=RATE_HZ)
    asyncio.run(receive.play(PlayoutClock(), sink, frames=20, echo_reference=send))
    for frame in sink.frames:
        send.process(frame)
    assert send.echo_canceller is not None
    canceller = send.echo_canceller
    assert isinstance(canceller, _native.EchoCanceller)
    assert canceller.stats()["render_underruns"] == 0
