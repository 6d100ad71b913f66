"""The jitter buffer through its Python binding: playout clock, reordering,
loss repair (in-band FEC, RED), concealment, delay adaptation, wrap-around,
duplicates, late packets, DTX, clock drift, sender restarts and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jitter_streams import (
    FRAME_SAMPLES,
    NOISE_RMS,
    PACKET_MS,
    RTP_PER_PACKET,
    Arrival,
    level_db,
    opus_packets,
    play,
    reference_decode,
    steady_arrivals,
)

from cloudlink import _native
from cloudlink.media.wav import read_wav

SPEECH_DIR = Path(__file__).resolve().parents[2] / "src" / "cloudlink" / "media" / "speech"

STAT_KEYS = {
    "packetsReceived",
    "packetsLost",
    "packetsDiscarded",
    "packetsDuplicated",
    "fecPacketsReceived",
    "fecPacketsRecovered",
    "jitterBufferDelay",
    "jitterBufferTargetDelay",
    "jitterBufferMinimumDelay",
    "jitterBufferEmittedCount",
    "totalSamplesReceived",
    "concealedSamples",
    "silentConcealedSamples",
    "concealmentEvents",
    "trailingConcealedSamples",
    "insertedSamplesForDeceleration",
    "removedSamplesForAcceleration",
}


STRETCH_INPUT_MS = 30  # audio a time stretch may rewrite (TimeStretcher)


def periodicity(samples: np.ndarray) -> float:
    """Largest normalised autocorrelation over pitch lags of 2.5-20 ms."""
    x = samples.astype(np.float64) - samples.mean()
    energy = float(np.dot(x, x)) + 1e-9
    return max(float(np.dot(x[:-lag], x[lag:])) / energy for lag in range(120, 960, 4))


def stretched(buffer: _native.JitterBuffer) -> int:
    stats = buffer.stats()
    return int(stats["removedSamplesForAcceleration"] + stats["insertedSamplesForDeceleration"])


def matches_reference(
    buffer: _native.JitterBuffer, arrivals: list[Arrival], reference: np.ndarray, pulls: int
) -> int:
    """Plays the stream and checks every frame against the lossless decode
    at the frame's playout timestamp; returns how many frames matched.
    A stretch rewrites the first 30 ms of the buffer (the stretcher's input:
    a crossfade of up to two 7.5 ms periods, or a copied period of up to
    15 ms and its crossfade), so the frame it happens in and the next two
    are skipped; from then on the audio is the reference again, shifted by
    exactly the samples removed or inserted."""
    events = sorted(arrivals, key=lambda a: a.arrival_ms)
    matched = 0
    e = 0
    touched = 0  # frames still holding audio rewritten by a stretch
    for step in range(pulls):
        now_ms = step * 10.0
        while e < len(events) and events[e].arrival_ms <= now_ms:
            a = events[e]
            buffer.insert(
                a.payload,
                sequence_number=a.sequence_number,
                timestamp=a.timestamp,
                arrival_time_ms=a.arrival_ms,
                payload_type=a.payload_type,
            )
            e += 1
        before = stretched(buffer)
        frame = buffer.pull(now_ms)
        start = buffer.playout_timestamp
        touched = STRETCH_INPUT_MS // 10 if stretched(buffer) != before else touched - 1
        if start is None or start + FRAME_SAMPLES > len(reference) or touched > 0:
            continue
        assert np.array_equal(frame, reference[start : start + FRAME_SAMPLES]), now_ms
        matched += 1
    return matched


# --- the playout clock ----------------------------------------------------


def test_every_pull_returns_one_10ms_frame_even_before_any_packet() -> None:
    buffer = _native.JitterBuffer()
    for now_ms in range(0, 200, 10):
        frame = buffer.pull(float(now_ms))
        assert frame.shape == (480,)
        assert frame.dtype == np.int16
        assert not frame.any()
    assert buffer.playout_timestamp is None
    assert buffer.stats()["totalSamplesReceived"] == 0


@pytest.mark.parametrize(("rate_hz", "channels"), [(48000, 1), (16000, 1), (8000, 1), (24000, 2)])
def test_frame_shape_follows_rate_and_channels(rate_hz: int, channels: int) -> None:
    buffer = _native.JitterBuffer(sample_rate_hz=rate_hz, channels=channels)
    assert buffer.frame_samples == rate_hz // 100
    assert (buffer.sample_rate_hz, buffer.channels) == (rate_hz, channels)
    result = play(buffer, steady_arrivals(opus_packets(25)), duration_ms=500)
    expected = (rate_hz // 100,) if channels == 1 else (rate_hz // 100, channels)
    assert all(f.shape == expected and f.dtype == np.int16 for f in result.frames)
    assert buffer.stats()["jitterBufferEmittedCount"] > 0
    assert np.abs(result.audio.astype(np.float64)).max() > 1000


def test_steady_stream_plays_every_packet_unchanged() -> None:
    packets = opus_packets(150)
    buffer = _native.JitterBuffer()
    matched = matches_reference(buffer, steady_arrivals(packets), reference_decode(packets), 280)
    # The delay falls from the 80 ms start to the one protection step the
    # pull clock allows here (10 ms): about eight stretches of three frames.
    assert matched > 240
    assert buffer.current_delay_ms < 15
    stats = buffer.stats()
    assert set(stats) == STAT_KEYS
    assert stats["packetsLost"] == 0
    assert stats["packetsDiscarded"] == 0
    assert stats["concealedSamples"] == 0
    # W3C: every decoded sample emitted is counted with its buffering delay.
    assert stats["jitterBufferEmittedCount"] == stats["totalSamplesReceived"]
    mean_delay_ms = 1000 * stats["jitterBufferDelay"] / stats["jitterBufferEmittedCount"]
    assert 0 < mean_delay_ms < 100


def test_playout_timestamp_advances_one_frame_per_pull() -> None:
    """One frame per pull, plus exactly what a stretch removed in that pull
    or minus what it inserted, as the W3C counters count it."""
    buffer = _native.JitterBuffer()
    events = sorted(steady_arrivals(opus_packets(60)), key=lambda a: a.arrival_ms)
    stamps: list[int] = []
    moves: list[int] = []
    e = 0
    for step in range(100):
        while e < len(events) and events[e].arrival_ms <= step * 10.0:
            a = events[e]
            buffer.insert(
                a.payload,
                sequence_number=a.sequence_number,
                timestamp=a.timestamp,
                arrival_time_ms=a.arrival_ms,
            )
            e += 1
        before = buffer.stats()
        buffer.pull(step * 10.0)
        after = buffer.stats()
        if buffer.playout_timestamp is None:
            continue
        stamps.append(buffer.playout_timestamp)
        moves.append(
            int(after["removedSamplesForAcceleration"] - before["removedSamplesForAcceleration"])
            - int(
                after["insertedSamplesForDeceleration"] - before["insertedSamplesForDeceleration"]
            )
        )
    steps = np.diff(stamps)
    assert np.array_equal(steps, FRAME_SAMPLES + np.array(moves[1:]))
    # The start delay (80 ms) comes down to the steady stream's target by
    # pitch periods (at most 15 ms each), in a few frames only.
    assert buffer.stats()["removedSamplesForAcceleration"] > 0
    assert max(abs(m) for m in moves) <= 720
    assert (steps == FRAME_SAMPLES).mean() > 0.9


def test_reordered_packets_come_out_in_order() -> None:
    packets = opus_packets(100)
    arrivals = steady_arrivals(packets)
    # Every even packet is overtaken by the odd one after it.
    for k in range(0, 98, 2):
        arrivals[k].arrival_ms = arrivals[k + 1].arrival_ms + 5.0
    buffer = _native.JitterBuffer()
    assert matches_reference(buffer, arrivals, reference_decode(packets), 180) > 120
    assert buffer.stats()["concealedSamples"] == 0
    assert buffer.stats()["packetsDiscarded"] == 0


# --- wrap-around, duplicates, late packets ------------------------------------


@pytest.mark.parametrize(
    ("first_sequence", "first_timestamp"),
    [(65500, 0), (0, 2**32 - 20 * RTP_PER_PACKET), (65530, 2**32 - 3 * RTP_PER_PACKET)],
)
def test_sequence_and_timestamp_wrap_are_seamless(
    first_sequence: int, first_timestamp: int
) -> None:
    packets = opus_packets(100)
    arrivals = steady_arrivals(
        packets, first_sequence=first_sequence, first_timestamp=first_timestamp
    )
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=1800)
    stats = buffer.stats()
    assert all(result.accepted)
    assert stats["packetsLost"] == 0
    assert stats["concealedSamples"] == 0
    assert stats["packetsReceived"] == sum(result.accepted)
    stamps = [t for t in result.timestamps if t is not None]
    assert min(stamps) < 2**20 or first_timestamp == 0  # it did cross the wrap


def test_duplicates_are_refused_and_counted() -> None:
    packets = opus_packets(50)
    arrivals = steady_arrivals(packets)
    copies = [
        Arrival(a.arrival_ms + 3.0, a.payload, a.sequence_number, a.timestamp)
        for a in arrivals[:40:5]
    ]
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals + copies, duration_ms=900)
    stats = buffer.stats()
    assert stats["packetsDuplicated"] == len(copies)
    assert result.accepted.count(False) == len(copies)
    assert stats["packetsLost"] == 0
    assert stats["concealedSamples"] == 0


def test_very_late_packet_is_discarded_and_its_slot_concealed() -> None:
    packets = opus_packets(80, fec=False)
    arrivals = steady_arrivals(packets)
    arrivals[30].arrival_ms += 600.0  # long after its playout time
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=1400)
    stats = buffer.stats()
    assert result.accepted.count(False) == 1
    assert stats["packetsDiscarded"] == 1
    assert stats["packetsLost"] == 0  # it did arrive
    assert stats["concealedSamples"] >= 960


def test_a_late_packet_at_the_target_is_cut_and_the_timeline_holds() -> None:
    """Once settled (protection 10 ms here), one packet 15 ms late is waited
    for with concealment; when it comes, the concealment stands in for its
    head, which is cut: the delay does not grow and playout stays on time."""
    packets = opus_packets(250, fec=False, pauses=False)
    arrivals = steady_arrivals(packets)
    arrivals[200].arrival_ms += 15.0
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=4800)
    before = result.delays_ms[395]  # 3.95 s, just before packet 200 is due
    stats = buffer.stats()
    assert 0 < stats["concealedSamples"] <= 3 * FRAME_SAMPLES
    assert stats["packetsDiscarded"] == 0  # its tail still played
    assert max(result.delays_ms[395:]) < before + 1.0
    assert abs(result.delays_ms[-1] - before) < 1.0
    # Every pull after it still plays 10 ms of media time further on.
    first, last = result.timestamps[395], result.timestamps[-1]
    assert first is not None and last is not None
    assert last - first == FRAME_SAMPLES * (len(result.timestamps) - 1 - 395)


def test_a_lasting_rise_in_delay_is_followed_by_waiting() -> None:
    """A route change adds 60 ms to every packet from 3 s on: the target
    rises with the first late packets, so the waits that follow are kept
    as delay and the buffer plays everything again at the new delay."""
    packets = opus_packets(300, fec=False, pauses=False)
    arrivals = steady_arrivals(packets)
    for a in arrivals[150:]:
        a.arrival_ms += 60.0
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=6200)
    assert sum(result.concealed[:300]) == 0
    assert 0 < sum(result.concealed[300:]) <= 0.2 * 48000
    assert sum(result.concealed[400:600]) == 0  # from 1 s after the change
    assert result.delays_ms[590] > result.delays_ms[290] + 55.0


def test_in_a_noisy_room_the_pauses_are_stretched_too() -> None:
    """With background noise at -35 dBov (above the stretcher's own quiet
    level), a fall in delay is also taken out of the pauses by stretching
    and trimming at any length, once the background is known; without
    the buffer's background estimate only whole quiet frames went there."""
    noise_rms = 32768 * 10 ** (-35 / 20)
    packets = opus_packets(400, fec=False, noise_rms=noise_rms)
    arrivals = steady_arrivals(packets, delay_ms=90.0)
    for a in arrivals[150:]:  # a shorter route from 3 s on
        a.arrival_ms -= 60.0
    result = play(_native.JitterBuffer(), arrivals, duration_ms=7900)
    # talk_signal pauses from 300 to 500 ms of every 500 ms
    in_pauses = [
        removed
        for removed, start in zip(result.removed, result.timestamps, strict=True)
        if removed and start is not None and 0.31 < (start / 48000) % 0.5 < 0.49
    ]
    assert any(r % FRAME_SAMPLES for r in in_pauses), in_pauses


# --- repair and concealment -----------------------------------------------------


def test_single_loss_is_repaired_from_the_next_packets_fec() -> None:
    packets = opus_packets(80, fec=True)
    lost = [5, 31, 56]  # in talk spurts: Opus sends LBRR only for speech
    # The repair needs the next packet by the lost one's playout time.
    buffer = _native.JitterBuffer(min_delay_ms=40.0)
    play(buffer, steady_arrivals(packets, skip=lost), duration_ms=1500)
    stats = buffer.stats()
    assert stats["packetsLost"] == len(lost)
    assert stats["fecPacketsReceived"] > 30  # Opus sends no LBRR in pauses
    assert stats["fecPacketsRecovered"] == len(lost)
    assert stats["concealedSamples"] == 0


def test_stream_without_fec_is_concealed_exactly_like_libopus() -> None:
    packets = opus_packets(80, fec=False)
    lost = 30
    decoder = _native.OpusDecoder()
    # (the buffer conceals in 10 ms steps, as its 10 ms playout clock asks)
    expected = np.concatenate(
        [
            np.concatenate([decoder.conceal(480), decoder.conceal(480)])
            if i == lost
            else decoder.decode(p)
            for i, p in enumerate(packets)
        ]
    )
    buffer = _native.JitterBuffer()
    arrivals = steady_arrivals(packets, skip=[lost])
    # (the stretches that bring the 80 ms start down to 10 ms skip ~25 frames)
    assert matches_reference(buffer, arrivals, expected, 140) > 100
    stats = buffer.stats()
    assert stats["fecPacketsReceived"] == 0
    assert stats["fecPacketsRecovered"] == 0
    assert stats["concealedSamples"] == 960
    assert stats["concealmentEvents"] == 1


@pytest.mark.parametrize("lost", range(2, 14))
def test_loss_while_stretching_counts_exactly_the_concealed_audio(lost: int) -> None:
    """A loss in the first 300 ms, while the start delay is still being
    accelerated away: concealment left in front of the next packet's audio
    must not be stretched (it would count decoded samples as concealed)."""
    packets = opus_packets(80, fec=False)
    buffer = _native.JitterBuffer()
    play(buffer, steady_arrivals(packets, skip=[lost]), duration_ms=1400)
    stats = buffer.stats()
    assert stats["removedSamplesForAcceleration"] > 0
    assert stats["concealedSamples"] == 960
    assert stats["concealmentEvents"] == 1


@pytest.mark.parametrize("copies", [1, 2])
def test_red_recovers_losses_bit_exactly(copies: int) -> None:
    packets = opus_packets(100, fec=False)
    lost = {20, 50, 51} if copies == 2 else {20, 50}
    arrivals = []
    for i, p in enumerate(packets):
        if i in lost:
            continue
        older = [
            (packets[j], (i - j) * RTP_PER_PACKET, 111) for j in range(i - copies, i) if j >= 0
        ]
        red = _native.red_pack(p, payload_type=111, redundant=older)
        arrivals.append(Arrival(i * PACKET_MS + 30.0, red, i, i * RTP_PER_PACKET, payload_type=63))
    # Repairing two losses in a row needs the packet two after the first:
    # at least 40 ms of delay.
    buffer = _native.JitterBuffer(red_payload_type=63, min_delay_ms=50.0)
    matched = matches_reference(buffer, arrivals, reference_decode(packets), 190)
    assert matched > 150
    stats = buffer.stats()
    assert stats["fecPacketsRecovered"] == len(lost)
    assert stats["concealedSamples"] == 0
    assert stats["packetsLost"] == len(lost)


def test_plain_packets_are_taken_when_red_is_configured() -> None:
    packets = opus_packets(40)
    buffer = _native.JitterBuffer(red_payload_type=63)
    result = play(buffer, steady_arrivals(packets), duration_ms=700)
    assert all(result.accepted)
    assert buffer.stats()["concealedSamples"] == 0


def test_long_gap_fades_to_comfort_noise_and_merges_back() -> None:
    packets = opus_packets(150, fec=False)
    gap = range(50, 80)  # 600 ms lost in a row
    buffer = _native.JitterBuffer()
    result = play(buffer, steady_arrivals(packets, skip=gap), duration_ms=2800)
    stats = buffer.stats()
    assert stats["concealmentEvents"] == 1
    assert stats["concealedSamples"] >= len(gap) * 960
    concealed = [i for i, n in enumerate(result.concealed) if n]
    assert len(concealed) >= 60
    # Well inside the gap: noise at the stream's background level, neither
    # silence nor a buzzing repeat of the last pitch period. (Stretching
    # moves the playout off the packet grid: the gap's last frame may be
    # part decoded, so only wholly concealed frames are judged.)
    whole = [i for i in concealed if result.concealed[i] == FRAME_SAMPLES]
    late_gap = np.concatenate([result.frames[i] for i in whole[-10:]])
    assert abs(level_db(late_gap) - level_db(np.full(10, NOISE_RMS))) < 6.0
    assert periodicity(late_gap) < 0.5
    # The merge back is smooth: no sample-to-sample step beyond what the
    # decoded signal itself has.
    resume = concealed[-1] + 1
    around = result.audio.astype(np.float64)[
        (resume - 2) * FRAME_SAMPLES : (resume + 2) * FRAME_SAMPLES
    ]
    speech_steps = np.abs(np.diff(reference_decode(packets).astype(np.float64))).max()
    assert np.abs(np.diff(around)).max() <= speech_steps


def test_stereo_comfort_noise_keeps_each_channels_level_and_colour() -> None:
    """A room whose left channel hums low and loud and whose right hisses
    high and soft: in a long gap each channel's comfort noise has its own
    level and its own spectral tilt."""
    rng = np.random.default_rng(8)
    samples = 150 * 960
    white = rng.normal(0.0, 1.0, (samples, 2))
    low = np.convolve(white[:, 0], np.ones(24) / 24, mode="same")  # under ~1 kHz
    high = np.diff(white[:, 1], prepend=0.0)  # rising with frequency
    left = low / low.std() * 32768 * 10 ** (-30 / 20)
    right = high / high.std() * 32768 * 10 ** (-45 / 20)
    pcm = np.clip(np.stack([left, right], axis=1), -32768, 32767).astype(np.int16)
    encoder = _native.OpusEncoder(channels=2, fec=False, bitrate_bps=64000)
    packets = [encoder.encode(pcm[i * 960 : (i + 1) * 960]) for i in range(150)]
    gap = range(80, 120)  # 800 ms lost, after 1.6 s of the room
    buffer = _native.JitterBuffer(channels=2)
    result = play(buffer, steady_arrivals(packets, skip=gap), duration_ms=2900)
    whole = [i for i, n in enumerate(result.concealed) if n == FRAME_SAMPLES]
    noise = np.concatenate([result.frames[i] for i in whole[-20:]]).astype(np.float64)

    def high_share(x: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(x)) ** 2
        return float(power[len(power) // 4 :].sum() / power.sum())  # above 6 kHz

    for channel, (source, level) in enumerate([(left, -30.0), (right, -45.0)]):
        heard_dbov = 20 * np.log10(noise[:, channel].std() / 32768)
        assert abs(heard_dbov - level) < 4.0, (channel, heard_dbov)
        assert abs(high_share(noise[:, channel]) - high_share(source)) < 0.25, channel
    assert high_share(noise[:, 1]) > high_share(noise[:, 0]) + 0.3


def test_burst_concealment_ends_nearer_the_background_than_libopus() -> None:
    """Over a 200 ms burst libopus's concealment drifts away from the stream's
    background (a fading pitch buzz); ours ends as noise at its level."""
    packets = opus_packets(100, fec=False)
    burst = range(40, 50)
    buffer = _native.JitterBuffer()
    result = play(buffer, steady_arrivals(packets, skip=burst), duration_ms=2000)
    # Wholly concealed frames: with stretching the burst's edges fall inside
    # frames that are part decoded.
    concealed = [
        f for f, n in zip(result.frames, result.concealed, strict=True) if n == FRAME_SAMPLES
    ]
    assert len(concealed) >= 18
    ours = np.concatenate(concealed[-4:])
    decoder = _native.OpusDecoder()
    for p in packets[:40]:
        decoder.decode(p)
    libopus = np.concatenate([decoder.conceal(480) for _ in range(20)])[-4 * FRAME_SAMPLES :]
    background = level_db(np.full(10, NOISE_RMS))
    assert abs(level_db(ours) - background) < abs(level_db(libopus) - background)


# --- delay adaptation -----------------------------------------------------------


def jittered_arrivals(packets: tuple[bytes, ...], *, jitter_ms: float, seed: int) -> list[Arrival]:
    rng = np.random.default_rng(seed)
    arrivals = steady_arrivals(packets)
    for a in arrivals:
        a.arrival_ms += float(abs(rng.normal(0.0, jitter_ms / 1.96)))
    return arrivals


def test_target_follows_the_jitter() -> None:
    packets = opus_packets(400)
    calm = _native.JitterBuffer()
    play(calm, steady_arrivals(packets), duration_ms=8000)
    rough = _native.JitterBuffer()
    play(rough, jittered_arrivals(packets, jitter_ms=60.0, seed=3), duration_ms=8000)
    assert calm.target_delay_ms < 25.0
    assert 40.0 < rough.target_delay_ms < 110.0
    assert rough.stats()["concealedSamples"] < 0.05 * rough.stats()["totalSamplesReceived"]


def test_target_rises_at_once_on_a_spike_and_falls_slowly() -> None:
    """Five packets 150 ms late are 2-3% of the delay histogram's memory
    (about 200 packets), more than the 1% of late audio the target allows:
    the target holds for some 5 s, then falls with its 2 s time constant."""
    packets = opus_packets(600)
    arrivals = steady_arrivals(packets)
    for a in arrivals[150:155]:  # a 150 ms queue builds and drains
        a.arrival_ms += 150.0
    targets = play(_native.JitterBuffer(), arrivals, duration_ms=12000).targets_ms
    before = targets[int(3000 / 10)]
    spike = max(targets[300:360])
    assert before < 30.0
    assert spike > 100.0  # risen within the spike itself
    assert targets[int(6000 / 10)] > 0.5 * spike  # still high 3 s later
    assert targets[-1] < 0.5 * spike  # but it does come down within 9 s


def speech_packets() -> tuple[bytes, ...]:
    """Two of the committed talkers (about 20 s) at 48 kHz over a -61 dBFS
    noise floor, in 20 ms Opus packets without FEC."""
    resampler = _native.Resampler(input_rate_hz=16000, output_rate_hz=48000)
    talk = [read_wav(SPEECH_DIR / f"{name}.wav")[0] for name in ("alice", "bob")]
    pcm = resampler.process(np.concatenate(talk)).astype(np.float64)
    pcm += np.random.default_rng(1).normal(0.0, NOISE_RMS, len(pcm))
    pcm = np.clip(pcm[: len(pcm) // 960 * 960], -32768, 32767).astype(np.int16)
    encoder = _native.OpusEncoder(fec=False)
    return tuple(encoder.encode(frame) for frame in pcm.reshape(-1, 960))


def test_near_the_target_the_delay_moves_in_the_pauses() -> None:
    """Every 3 s three packets come 30 ms late, and the target rises and
    falls by less than 40 ms: the buffer lengthens and shortens in the
    pauses of the speech, not in the words (which it did, stretching
    pitch periods, wherever the target moved)."""
    packets = speech_packets()
    rng = np.random.default_rng(1)
    arrivals = steady_arrivals(packets)
    for a in arrivals:
        a.arrival_ms += float(abs(rng.normal(0.0, 10.0 / 1.96)))
    for first in range(100, len(arrivals) - 5, 150):
        for a in arrivals[first : first + 3]:
            a.arrival_ms += 30.0
    result = play(_native.JitterBuffer(), arrivals, duration_ms=20.0 * len(packets) - 300.0)
    # The level of each frame played with a stretch in it (after the first
    # 2 s, in which the start-up guess of 80 ms is given up).
    levels_dbov = [
        20 * np.log10(np.sqrt(np.mean(frame.astype(np.float64) ** 2)) / 32768 + 1e-9)
        for pull, frame in enumerate(result.frames)
        if pull >= 200 and (result.removed[pull] or result.inserted[pull])
    ]
    assert len(levels_dbov) >= 8, levels_dbov
    # The noise floor is at -61 dBov, the words at -15 to -30.
    assert max(levels_dbov) < -45.0, levels_dbov


@pytest.mark.parametrize("drift", [0.005, -0.005])
def test_clock_drift_neither_grows_nor_starves_the_buffer(drift: float) -> None:
    """The sender's clock runs 0.5% fast or slow for 40 s."""
    packets = opus_packets(2000)
    arrivals = [
        Arrival(i * PACKET_MS / (1.0 + drift) + 30.0, p, i % 65536, i * RTP_PER_PACKET)
        for i, p in enumerate(packets)
    ]
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=39000)
    delays = np.array(result.delays_ms[500:])
    assert delays.max() - delays.min() < 40.0
    assert delays[-500:].mean() < buffer.target_delay_ms + 25.0
    stats = buffer.stats()
    assert stats["concealedSamples"] < 0.01 * stats["totalSamplesReceived"]
    # It dropped or repeated (quiet) audio for most of the drift.
    moved = (
        stats["removedSamplesForAcceleration"]
        if drift > 0
        else stats["insertedSamplesForDeceleration"]
    )
    assert moved >= 0.5 * abs(drift) * 36 * 48000


# --- DTX, restarts -----------------------------------------------------------------


def test_dtx_gap_is_comfort_noise_not_loss() -> None:
    packets = opus_packets(150)
    # The sender stops sending for 1 s (packets 50..99 never sent) and goes
    # on with the next sequence number and a timestamp 1 s later.
    arrivals = [
        Arrival(i * PACKET_MS + 30.0, p, i if i < 50 else i - 50, i * RTP_PER_PACKET)
        for i, p in enumerate(packets)
        if not 50 <= i < 100
    ]
    buffer = _native.JitterBuffer()
    result = play(buffer, arrivals, duration_ms=2900)
    stats = buffer.stats()
    assert stats["packetsLost"] == 0
    assert stats["silentConcealedSamples"] >= 40 * 960
    assert stats["silentConcealedSamples"] <= stats["concealedSamples"]
    stamps = result.timestamps
    resumed = [
        f
        for f, t in zip(result.frames, stamps, strict=True)
        if t is not None and 100 * 960 <= t < 140 * 960
    ]
    assert len(resumed) > 60  # it played the audio after the gap


def test_sender_restart_resynchronises() -> None:
    packets = opus_packets(200)
    first = steady_arrivals(packets[:100])
    # A restarted sender: new random sequence and timestamp bases.
    second = steady_arrivals(packets[100:], first_sequence=40000, first_timestamp=123456789)
    for a in second:
        a.arrival_ms += 100 * PACKET_MS
    buffer = _native.JitterBuffer()
    result = play(buffer, first + second, duration_ms=4200)
    stats = buffer.stats()
    assert result.accepted.count(False) <= 1  # at most the probe packet
    assert stats["packetsLost"] == 0
    after = [t for t in result.timestamps[-100:] if t is not None]
    assert all(123456789 <= t <= 123456789 + 100 * RTP_PER_PACKET for t in after)
    assert stats["concealedSamples"] < 20 * 960


def test_a_single_stray_packet_does_not_restart_the_stream() -> None:
    packets = opus_packets(100)
    arrivals = steady_arrivals(packets)
    stray = Arrival(arrivals[50].arrival_ms + 1, packets[0], 30000, 999999)
    buffer = _native.JitterBuffer()
    result = play(buffer, [*arrivals, stray], duration_ms=1800)
    stats = buffer.stats()
    assert result.accepted.count(False) == 1
    assert stats["packetsDiscarded"] == 1
    assert stats["concealedSamples"] == 0


def test_reset_forgets_everything() -> None:
    buffer = _native.JitterBuffer()
    play(buffer, steady_arrivals(opus_packets(30)), duration_ms=500)
    assert buffer.stats()["packetsReceived"] > 0
    buffer.reset()
    assert buffer.playout_timestamp is None
    assert all(v == 0 for v in buffer.stats().values())
    assert not buffer.pull(1000.0).any()


# --- bad input --------------------------------------------------------------------


def test_garbage_never_raises_and_is_counted() -> None:
    buffer = _native.JitterBuffer(red_payload_type=63)
    rng = np.random.default_rng(7)
    accepted = 0
    for i in range(300):
        junk = rng.integers(0, 256, size=int(rng.integers(0, 80)), dtype=np.uint8).tobytes()
        accepted += buffer.insert(
            junk,
            sequence_number=i,
            timestamp=i * 960,
            arrival_time_ms=float(i * 20),
            payload_type=int(rng.choice([111, 63, 0, 96])),
        )
        assert buffer.pull(float(i * 20)).shape == (480,)
    stats = buffer.stats()
    assert stats["packetsDiscarded"] > 100
    assert stats["packetsReceived"] == accepted


@pytest.mark.parametrize(
    ("payload", "payload_type"),
    [
        (b"", 111),
        (b"\xff", 111),
        (b"\xff\xff\xff", 111),
        (b"\x0b" + bytes(5000), 111),
        (b"", 63),
        (b"\x80\x01", 63),
        (b"\xef\x00\x00\x05ab", 63),
        (b"\x60" + b"\x08", 63),
        (b"\x6f" + b"\xff\xff\xff", 63),
    ],
    ids=[
        "empty",
        "code3-truncated",
        "bad-count",
        "oversized",
        "red-empty",
        "red-header-truncated",
        "red-block-past-end",
        "red-primary-unknown-type",
        "red-primary-malformed-opus",
    ],
)
def test_malformed_payloads_are_dropped(payload: bytes, payload_type: int) -> None:
    buffer = _native.JitterBuffer(red_payload_type=63)
    assert not buffer.insert(
        payload, sequence_number=1, timestamp=960, arrival_time_ms=0.0, payload_type=payload_type
    )
    assert buffer.stats()["packetsDiscarded"] == 1
    assert buffer.stats()["packetsReceived"] == 0


def test_unknown_payload_type_and_bad_arrival_time_are_dropped() -> None:
    packet = opus_packets(1)[0]
    buffer = _native.JitterBuffer()
    assert not buffer.insert(
        packet, sequence_number=1, timestamp=0, arrival_time_ms=0.0, payload_type=96
    )
    assert not buffer.insert(packet, sequence_number=1, timestamp=0, arrival_time_ms=float("nan"))
    assert buffer.stats()["packetsDiscarded"] == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sequence_number", 65536),
        ("sequence_number", -1),
        ("timestamp", 2**32),
        ("payload_type", 128),
    ],
)
def test_out_of_range_header_fields_raise_value_error(field: str, value: int) -> None:
    args: dict[str, int | float] = {"sequence_number": 1, "timestamp": 0, "arrival_time_ms": 0.0}
    args[field] = value
    with pytest.raises(ValueError, match=field):
        _native.JitterBuffer().insert(b"\x08", **args)  # type: ignore[arg-type]


def test_payload_must_be_bytes() -> None:
    buffer = _native.JitterBuffer()
    not_bytes: Any = "text"
    with pytest.raises(TypeError):
        buffer.insert(not_bytes, sequence_number=1, timestamp=0, arrival_time_ms=0.0)


def test_pull_time_must_be_finite() -> None:
    with pytest.raises(ValueError, match="now_ms"):
        _native.JitterBuffer().pull(float("inf"))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("sample_rate_hz", 44100),
        ("channels", 3),
        ("payload_type", 200),
        ("red_payload_type", 111),
        ("red_payload_type", -5),
        ("min_delay_ms", -1.0),
        ("max_delay_ms", 5.0),
        ("min_delay_ms", 3000.0),
    ],
)
def test_bad_configuration_raises_value_error(option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        _native.JitterBuffer(**{option: value})  # type: ignore[arg-type]


def test_min_delay_is_honoured() -> None:
    buffer = _native.JitterBuffer(min_delay_ms=150.0)
    play(buffer, steady_arrivals(opus_packets(100)), duration_ms=1500)
    assert buffer.target_delay_ms >= 150.0
    assert buffer.current_delay_ms >= 140.0
    stats = buffer.stats()
    # The W3C minimum delay ignores the caller's floor.
    assert stats["jitterBufferMinimumDelay"] < stats["jitterBufferTargetDelay"]


def test_fec_detection_matches_what_libopus_recovers() -> None:
    """fecPacketsReceived counts exactly the packets whose in-band FEC
    decodes to something other than plain concealment."""
    packets = opus_packets(60, pauses=False)
    for i in range(1, 60):
        with_fec, without = _native.OpusDecoder(), _native.OpusDecoder()
        for p in packets[: i - 1]:
            with_fec.decode(p)
            without.decode(p)
        recovers = not np.array_equal(with_fec.decode_fec(packets[i], 960), without.conceal(960))
        buffer = _native.JitterBuffer()
        buffer.insert(packets[i], sequence_number=0, timestamp=0, arrival_time_ms=0.0)
        assert buffer.stats()["fecPacketsReceived"] == int(recovers), i


@pytest.mark.parametrize("frame_ms", [10, 40, 60])
def test_other_opus_frame_durations_play_seamlessly(frame_ms: int) -> None:
    samples = 48 * frame_ms
    count = 2000 // frame_ms
    encoder = _native.OpusEncoder(frame_ms=float(frame_ms))
    t = np.arange(count * samples) / 48000
    signal = (4000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    packets = [encoder.encode(f) for f in signal.reshape(count, samples)]
    arrivals = [Arrival(i * frame_ms + 30.0, p, i, i * samples) for i, p in enumerate(packets)]
    buffer = _native.JitterBuffer()
    decoder = _native.OpusDecoder()
    reference = np.concatenate([decoder.decode(p) for p in packets])
    assert matches_reference(buffer, arrivals, reference, 180) > 140
    assert buffer.stats()["concealedSamples"] == 0


def test_target_makes_room_for_repair_when_packets_are_lost() -> None:
    """With 10% loss and RED in the stream, the target grows by about one
    packet so that the packet carrying the repair is in time."""
    packets = opus_packets(500)
    rng = np.random.default_rng(5)
    lost = {i for i in range(1, 500) if rng.random() < 0.1}
    arrivals = []
    for i, p in enumerate(packets):
        older = [(packets[i - 1], RTP_PER_PACKET, 111)] if i else []
        red = _native.red_pack(p, payload_type=111, redundant=older)
        arrivals.append(Arrival(i * PACKET_MS + 30.0, red, i, i * RTP_PER_PACKET, 63))
    clean = _native.JitterBuffer(red_payload_type=63)
    play(clean, arrivals, duration_ms=9500)
    lossy = _native.JitterBuffer(red_payload_type=63)
    kept = [a for a in arrivals if a.sequence_number not in lost]
    play(lossy, kept, duration_ms=9500)
    assert lossy.target_delay_ms >= max(20.0, clean.target_delay_ms + 10.0)
    # Once the loss rate is known (after a second or two) losses are repaired.
    later = [i for i in lost if 2000 < i * PACKET_MS < 9000 and i - 1 not in lost]
    stats = lossy.stats()
    assert stats["fecPacketsRecovered"] >= len(later)


def test_absurd_arrival_times_are_survived() -> None:
    packets = opus_packets(40)
    buffer = _native.JitterBuffer()
    for i, arrival in enumerate([1e300, -1e300, 1e15, -1e15, 0.0, 5e307] * 6):
        buffer.insert(packets[i], sequence_number=i, timestamp=i * 960, arrival_time_ms=arrival)
        assert buffer.pull(float(i * 10)).shape == (480,)
    for now_ms in (1e300, -1e300, 0.0):
        assert buffer.pull(now_ms).shape == (480,)
    assert 0.0 <= buffer.target_delay_ms <= 2000.0


def test_concealment_after_the_last_packet_is_trailing_until_a_packet_ends_it() -> None:
    # Dense audio (no pauses) so that every frame until the end is decoded.
    packets = opus_packets(60, fec=False, pauses=False)
    gap = range(30, 40)  # 200 ms lost in a row
    arrivals = steady_arrivals(packets, skip=gap)
    before = [a for a in arrivals if a.sequence_number < gap.start]
    after = [a for a in arrivals if a.sequence_number >= gap.stop]
    buffer = _native.JitterBuffer()

    # Mid-gap: the concealment so far is the trailing run, but for what the
    # frame holding the last decoded audio concealed after it.
    play(buffer, before, duration_ms=gap.start * 20 + 150)
    stats = buffer.stats()
    assert stats["concealedSamples"] >= 4 * 960
    frame = 480
    assert 0 <= stats["concealedSamples"] - stats["trailingConcealedSamples"] < frame

    # The next packet plays: the run was a hole, and stays counted as one.
    resumed_ms = gap.start * 20 + 150
    play(buffer, after, start_ms=resumed_ms, duration_ms=gap.stop * 20 + 200 - resumed_ms)
    stats = buffer.stats()
    assert stats["trailingConcealedSamples"] == 0
    assert stats["concealedSamples"] >= len(gap) * 960

    # The sender stops: what is concealed after its last packet is trailing.
    concealed_in_gap = stats["concealedSamples"]
    ended_ms = gap.stop * 20 + 200
    play(buffer, [], start_ms=ended_ms, duration_ms=len(packets) * 20 + 300 - ended_ms)
    stats = buffer.stats()
    concealed_at_end = stats["concealedSamples"] - concealed_in_gap
    assert concealed_at_end >= 200 * 48
    assert 0 <= concealed_at_end - stats["trailingConcealedSamples"] < frame
