"""Property tests of the jitter buffer (hypothesis): whatever the network
and the sender do, every pull yields exactly one 10 ms frame, the counters
stay consistent, and repairable losses are repaired."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jitter_streams import PACKET_MS, RTP_PER_PACKET, opus_packets

from cloudlink import _native

RED_PT = 63
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    count = draw(st.integers(min_value=1, max_value=120))
    return {
        "count": count,
        "rate_hz": draw(st.sampled_from([48000, 16000, 8000])),
        "channels": draw(st.sampled_from([1, 2])),
        "first_sequence": draw(st.integers(0, 65535)),
        "first_timestamp": draw(st.integers(0, 2**32 - 1)),
        "loss": draw(st.lists(st.booleans(), min_size=count, max_size=count)),
        "duplicate": draw(st.lists(st.booleans(), min_size=count, max_size=count)),
        "jitter_ms": draw(st.lists(st.floats(0.0, 300.0), min_size=count, max_size=count)),
        "drift": draw(st.sampled_from([0.0, 0.005, -0.005, 0.02])),
        "restart_at": draw(st.one_of(st.none(), st.integers(0, count))),
        "dtx": draw(st.one_of(st.none(), st.tuples(st.integers(0, count), st.integers(1, 40)))),
        "red_copies": draw(st.integers(0, 2)),
        "garbage": draw(
            st.lists(
                st.tuples(st.integers(0, count), st.binary(max_size=40), st.integers(0, 127)),
                max_size=8,
            )
        ),
        "pull_jitter_ms": draw(st.floats(0.0, 4.0)),
    }


def events_of(s: dict[str, object]) -> list[tuple[float, bytes, int, int, int | None]]:
    """(arrival_ms, payload, sequence, timestamp, payload type) in any order."""
    count = int(s["count"])  # type: ignore[call-overload]
    packets = opus_packets(120)
    events = []
    sequence, timestamp = int(s["first_sequence"]), int(s["first_timestamp"])  # type: ignore[call-overload]
    send_ms = 0.0
    dtx = s["dtx"]
    for i in range(count):
        if s["restart_at"] == i:  # new random bases, as a restarted sender
            sequence, timestamp = (sequence + 20000) % 65536, (timestamp + 987654321) % 2**32
        if isinstance(dtx, tuple) and dtx[0] == i:  # silence: time passes, nothing is sent
            timestamp = (timestamp + dtx[1] * RTP_PER_PACKET) % 2**32
            send_ms += dtx[1] * PACKET_MS
        payload, pt = packets[i], None
        copies = int(s["red_copies"])  # type: ignore[call-overload]
        if copies:
            older = [
                (packets[j], (i - j) * RTP_PER_PACKET, 111) for j in range(i - copies, i) if j >= 0
            ]
            payload, pt = _native.red_pack(packets[i], payload_type=111, redundant=older), RED_PT
        arrival = send_ms * (1.0 + float(s["drift"])) + 20.0 + s["jitter_ms"][i]  # type: ignore[index]
        if not s["loss"][i]:  # type: ignore[index]
            events.append((arrival, payload, sequence, timestamp, pt))
            if s["duplicate"][i]:  # type: ignore[index]
                events.append((arrival + 7.0, payload, sequence, timestamp, pt))
        sequence, timestamp = (sequence + 1) % 65536, (timestamp + RTP_PER_PACKET) % 2**32
        send_ms += PACKET_MS
    for at, junk, pt in s["garbage"]:  # type: ignore[attr-defined]
        events.append((at * PACKET_MS + 1.0, junk, at % 65536, at * RTP_PER_PACKET, pt))
    return sorted(events, key=lambda e: e[0])


@PROPERTY_SETTINGS
@given(scenarios())
def test_exactly_one_frame_per_pull_whatever_arrives(s: dict[str, object]) -> None:
    rate_hz, channels = int(s["rate_hz"]), int(s["channels"])  # type: ignore[call-overload]
    buffer = _native.JitterBuffer(
        sample_rate_hz=rate_hz,
        channels=channels,
        red_payload_type=RED_PT if s["red_copies"] else None,
    )
    events = events_of(s)
    shape = (rate_hz // 100,) if channels == 1 else (rate_hz // 100, channels)
    end_ms = (events[-1][0] if events else 0.0) + 500.0
    rng = np.random.default_rng(int(s["count"]))  # type: ignore[call-overload]
    e = 0
    pulls = 0
    now_ms = 0.0
    while now_ms < end_ms:
        while e < len(events) and events[e][0] <= now_ms:
            arrival, payload, sequence, timestamp, pt = events[e]
            accepted = buffer.insert(
                payload,
                sequence_number=sequence,
                timestamp=timestamp,
                arrival_time_ms=arrival,
                payload_type=pt,
            )
            assert isinstance(accepted, bool)
            e += 1
        frame = buffer.pull(now_ms)
        pulls += 1
        assert frame.shape == shape
        assert frame.dtype == np.int16
        # The playout clock is steady on average even when the caller's is not.
        now_ms += 10.0 + float(rng.uniform(-1.0, 1.0)) * float(s["pull_jitter_ms"])  # type: ignore[arg-type]

    stats = buffer.stats()
    per_channel = rate_hz // 100
    assert stats["totalSamplesReceived"] <= pulls * per_channel
    assert stats["totalSamplesReceived"] % per_channel == 0
    assert 0 <= stats["silentConcealedSamples"] <= stats["concealedSamples"]
    assert stats["concealedSamples"] <= stats["totalSamplesReceived"]
    assert stats["jitterBufferEmittedCount"] <= stats["totalSamplesReceived"]
    assert stats["jitterBufferDelay"] >= 0.0
    assert stats["packetsLost"] >= 0
    assert stats["fecPacketsRecovered"] <= stats["packetsLost"] + stats["packetsDiscarded"]
    assert stats["packetsDuplicated"] <= sum(s["duplicate"])  # type: ignore[arg-type]
    assert stats["concealmentEvents"] <= pulls
    assert 0.0 <= buffer.target_delay_ms <= 2000.0


def carries_fec(packet: bytes) -> bool:
    """Whether the buffer sees in-band FEC in the packet (the encoder leaves
    it out of some frames)."""
    buffer = _native.JitterBuffer()
    buffer.insert(packet, sequence_number=0, timestamp=0, arrival_time_ms=0.0)
    return buffer.stats()["fecPacketsReceived"] == 1


@st.composite
def isolated_losses(draw: st.DrawFn) -> list[int]:
    """Lost packet indices after the first, never two in a row, and well
    before the end (a loss is only known once a later packet arrives)."""
    lost = draw(st.lists(st.integers(1, 90), max_size=12, unique=True))
    return sorted(i for i in lost if i - 1 not in lost)


@PROPERTY_SETTINGS
@given(isolated_losses(), st.booleans(), st.integers(0, 65535), st.integers(0, 2**32 - 1))
def test_isolated_losses_are_all_repaired_and_counted(
    lost: list[int], red: bool, first_sequence: int, first_timestamp: int
) -> None:
    """With enough delay for the next packet, every isolated loss is
    repaired, from RED copies or from the next packet's in-band FEC."""
    packets = opus_packets(100, pauses=False)  # LBRR in every packet
    buffer = _native.JitterBuffer(red_payload_type=RED_PT if red else None, min_delay_ms=40.0)
    arrivals = []
    for i, packet in enumerate(packets):
        if i in lost:
            continue
        payload, pt = packet, None
        if red:
            older = [(packets[i - 1], RTP_PER_PACKET, 111)] if i else []
            payload, pt = _native.red_pack(packet, payload_type=111, redundant=older), RED_PT
        arrivals.append((i * PACKET_MS + 25.0, payload, i, pt))
    e = 0
    for step in range(200):  # stops before the stream ends
        now_ms = step * 10.0
        while e < len(arrivals) and arrivals[e][0] <= now_ms:
            arrival, payload, i, pt = arrivals[e]
            buffer.insert(
                payload,
                sequence_number=(first_sequence + i) % 65536,
                timestamp=(first_timestamp + i * RTP_PER_PACKET) % 2**32,
                arrival_time_ms=arrival,
                payload_type=pt,
            )
            e += 1
        buffer.pull(now_ms)
    stats = buffer.stats()
    repairable = [i for i in lost if red or carries_fec(packets[i + 1])]
    assert stats["packetsLost"] == len(lost)
    assert stats["fecPacketsRecovered"] == len(repairable)
    assert stats["concealedSamples"] == (len(lost) - len(repairable)) * 960
