"""The frame assembler (the video jitter buffer): real VP8 frames of the
stamped test pattern, packetized (RFC 7741), sent through loss, reordering
and duplication, assembled, decoded and read back in order; NACK timing and
retry limit; PLI on an unrecoverable base-layer loss and recovery at the
next keyframe; temporal-layer losses that cost nothing below them; wraps;
malformed input; W3C freeze statistics; and a property test over arbitrary
arrival orders."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.media.test_pattern import TestPattern, read_test_pattern

WIDTH_PX, HEIGHT_PX = 320, 240
FRAME_TICKS = 3000  # 90 kHz at 30 fps
FRAME_MS = 1000 / 30
PATTERN = TestPattern(width_px=WIDTH_PX, height_px=HEIGHT_PX)


@dataclass(frozen=True)
class Packet:
    payload: bytes
    sequence_number: int
    timestamp: int
    marker: bool
    frame_number: int
    temporal_layer_id: int
    keyframe: bool


@dataclass
class Sender:
    """Encoder and packetizer of the test pattern, numbering like an RTP sender."""

    temporal_layers: int = 1
    first_sequence: int = 1000
    first_timestamp: int = 90000
    max_payload_bytes: int = 300
    encoder: _native.Vp8Encoder = field(init=False)
    packetizer: _native.Vp8Packetizer = field(init=False)
    frame_number: int = 0
    sequence: int = 0

    def __post_init__(self) -> None:
        self.encoder = _native.Vp8Encoder(
            width_px=WIDTH_PX,
            height_px=HEIGHT_PX,
            bitrate_bps=600_000,
            temporal_layers=self.temporal_layers,
        )
        self.packetizer = _native.Vp8Packetizer(max_payload_bytes=self.max_payload_bytes)
        self.sequence = self.first_sequence

    def frame(self, *, keyframe: bool = False, non_reference: bool = False) -> list[Packet]:
        encoded = self.encoder.encode(PATTERN.frame(self.frame_number), keyframe=keyframe)
        layer = encoded.temporal_layer_id if self.temporal_layers > 1 else None
        payloads = self.packetizer.packetize(
            encoded.data,
            temporal_layer_id=layer,
            layer_sync=encoded.layer_sync,
            non_reference=non_reference,
        )
        timestamp = (self.first_timestamp + self.frame_number * FRAME_TICKS) % 2**32
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(
                Packet(
                    payload,
                    self.sequence % 65536,
                    timestamp,
                    i == len(payloads) - 1,
                    self.frame_number,
                    encoded.temporal_layer_id,
                    encoded.keyframe,
                )
            )
            self.sequence += 1
        self.frame_number += 1
        return packets


def insert(assembler: _native.FrameAssembler, packet: Packet, now_ms: float) -> bool:
    return assembler.insert(
        packet.payload,
        sequence_number=packet.sequence_number,
        timestamp=packet.timestamp,
        marker=packet.marker,
        arrival_time_ms=now_ms,
    )


def decode_numbers(decoder: _native.Vp8Decoder, frames: list[_native.AssembledFrame]) -> list[int]:
    """Decodes released frames and reads each picture's frame number."""
    numbers = []
    for frame in frames:
        picture = decoder.decode(frame.data)
        assert picture is not None
        stamp = read_test_pattern(picture)
        assert stamp is not None, "a released frame decoded into a damaged picture"
        numbers.append(stamp.frame_number)
    return numbers


# --- round trip through a lossy network ---------------------------------------------


@pytest.mark.parametrize("temporal_layers", [1, 3])
@pytest.mark.parametrize("first_sequence", [1000, 65500])
def test_loss_reorder_duplication_with_nack_delivers_every_frame_in_order(
    temporal_layers: int, first_sequence: int
) -> None:
    # 10% loss of first transmissions and retransmissions, 0-40 ms jitter,
    # 10% duplicates; a 40 ms round trip. Every frame must come out, in order.
    rng = random.Random(temporal_layers * 7 + first_sequence)
    sender = Sender(temporal_layers=temporal_layers, first_sequence=first_sequence)
    assembler = _native.FrameAssembler(rtt_ms=40.0)
    decoder = _native.Vp8Decoder()
    by_sequence: dict[int, Packet] = {}
    in_flight: list[tuple[float, Packet]] = []
    numbers: list[int] = []
    frame_count = 60

    def send(packet: Packet, now_ms: float) -> None:
        # The first frame is spared: a stream whose very first packet is
        # lost cannot know it is missing, and the keyframe request path
        # (tested below) is what repairs that.
        if packet.frame_number > 0 and rng.random() < 0.1:
            return
        in_flight.append((now_ms + 20 + rng.uniform(0, 40), packet))
        if rng.random() < 0.1:
            in_flight.append((now_ms + 20 + rng.uniform(0, 60), packet))

    for tick in range(int(frame_count * FRAME_MS / 5) + 200):
        now_ms = tick * 5.0
        while sender.frame_number < frame_count + 3 and sender.frame_number * FRAME_MS <= now_ms:
            for packet in sender.frame():
                by_sequence[packet.sequence_number] = packet
                send(packet, now_ms)
        for item in [item for item in in_flight if item[0] <= now_ms]:
            in_flight.remove(item)
            insert(assembler, item[1], item[0])
        for sequence_number in assembler.nack_list(now_ms):
            send(by_sequence[sequence_number], now_ms)
        numbers += decode_numbers(decoder, assembler.pop_frames(now_ms))

    # The last frames may lose their tail with no later packet to reveal it.
    assert numbers[:frame_count] == list(range(frame_count))
    assert numbers == list(range(len(numbers)))
    stats = assembler.stats()
    assert stats["framesReceived"] >= frame_count
    assert stats["framesDecoded"] == len(numbers) and stats["framesDropped"] <= 3
    assert stats["keyFramesDecoded"] == 1 and stats["pliCount"] == 0
    assert stats["nackCount"] > 0 and stats["packetsRecovered"] > 0
    assert stats["packetsDuplicated"] > 0


def test_sequence_and_timestamp_wrap_together() -> None:
    sender = Sender(first_sequence=65530, first_timestamp=2**32 - 4 * FRAME_TICKS)
    assembler = _native.FrameAssembler()
    decoder = _native.Vp8Decoder()
    packets = [p for _ in range(10) for p in sender.frame()]
    assert packets[0].sequence_number > packets[-1].sequence_number
    assert packets[0].timestamp > packets[-1].timestamp
    # Reverse each pair of frames across the wraps.
    rng = random.Random(3)
    rng.shuffle(packets)
    for packet in packets:
        assert insert(assembler, packet, 0.0)
    assert decode_numbers(decoder, assembler.pop_frames(0.0)) == list(range(10))
    assert assembler.nack_list(0.0) == []


# --- NACK -------------------------------------------------------------------------


def test_nack_list_holds_exactly_the_missing_and_repeats_each_rtt_until_the_limit() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=100.0, max_nack_retries=3, max_frame_age_ms=5000)
    packets = [p for _ in range(4) for p in sender.frame()]
    assert len(packets) >= 8
    lost = {packets[3].sequence_number, packets[4].sequence_number, packets[-2].sequence_number}
    for packet in packets:
        if packet.sequence_number not in lost:
            insert(assembler, packet, 0.0)
    assert assembler.nack_list(0.0) == sorted(lost)
    # Not again before a round trip; then again; then no more after 3.
    assert assembler.nack_list(99.0) == []
    assert assembler.nack_list(100.0) == sorted(lost)
    assert assembler.nack_list(200.0) == sorted(lost)
    assert assembler.nack_list(300.0) == []
    assert assembler.nack_list(1000.0) == []
    assert assembler.stats()["nackCount"] == 3


def test_nack_list_follows_the_rtt_set_at_run_time_and_drops_what_arrived() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=100.0)
    packets = [p for _ in range(3) for p in sender.frame()]
    lost = [packets[2], packets[5]]
    for packet in packets:
        if packet not in lost:
            insert(assembler, packet, 0.0)
    assert assembler.nack_list(0.0) == [p.sequence_number for p in lost]
    assembler.set_rtt_ms(30.0)
    assert assembler.rtt_ms == 30.0
    insert(assembler, lost[0], 20.0)
    assert assembler.nack_list(30.0) == [lost[1].sequence_number]


def test_nack_repeat_delay_asks_once_more_before_the_round_trip() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=100.0, nack_repeat_delay_ms=20.0)
    assert assembler.nack_repeat_delay_ms == 20.0
    packets = [p for _ in range(3) for p in sender.frame()]
    lost = [packets[2], packets[5]]
    for packet in packets:
        if packet not in lost:
            insert(assembler, packet, 0.0)
    assert assembler.nack_list(0.0) == [p.sequence_number for p in lost]
    # One arrives reordered; the other is asked for again, then a round trip later.
    insert(assembler, lost[0], 10.0)
    assert assembler.nack_list(19.0) == []
    assert assembler.nack_list(20.0) == [lost[1].sequence_number]
    assert assembler.nack_list(119.0) == []
    assert assembler.nack_list(120.0) == [lost[1].sequence_number]


def test_a_retransmitted_packet_completes_its_frame() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler()
    decoder = _native.Vp8Decoder()
    frames = [sender.frame() for _ in range(5)]
    held = frames[2][len(frames[2]) // 2]
    for packet in (p for frame in frames for p in frame):
        if packet is not held:
            insert(assembler, packet, 10.0)
    # Frames 0 and 1 come out; 2 waits for its packet and holds 3 and 4 back.
    assert decode_numbers(decoder, assembler.pop_frames(10.0)) == [0, 1]
    assert assembler.nack_list(10.0) == [held.sequence_number]
    assert assembler.pop_frames(50.0) == []
    assert insert(assembler, held, 60.0)
    released = assembler.pop_frames(60.0)
    assert decode_numbers(decoder, released) == [2, 3, 4]
    assert released[0].complete_ms == 60.0 and released[0].first_arrival_ms == 10.0
    assert assembler.stats()["packetsRecovered"] == 1
    assert assembler.stats()["framesDropped"] == 0


def test_padding_only_packets_between_frames_are_no_gap() -> None:
    # A browser probing bandwidth sends empty payloads (RTP padding only) on
    # the video SSRC, numbered between frames and stamped with the last
    # frame's timestamp: no NACK for them, no frame lost.
    sender = Sender()
    assembler = _native.FrameAssembler()
    decoder = _native.Vp8Decoder()
    for frame_index in range(4):
        frame = sender.frame(keyframe=frame_index == 0)
        for packet in frame:
            insert(assembler, packet, 10.0 * frame_index)
        for _ in range(3):
            assert assembler.insert(
                b"",
                sequence_number=sender.sequence % 65536,
                timestamp=frame[-1].timestamp,
                marker=False,
                arrival_time_ms=10.0 * frame_index,
            )
            sender.sequence += 1
    assert assembler.nack_list(100.0) == []
    assert decode_numbers(decoder, assembler.pop_frames(100.0)) == [0, 1, 2, 3]
    stats = assembler.stats()
    assert (stats["packetsPadding"], stats["framesDropped"], stats["packetsMalformed"]) == (
        12,
        0,
        0,
    )


# --- keyframe requests --------------------------------------------------------------


def test_unrecoverable_base_loss_requests_a_rate_limited_pli_and_resumes_at_a_keyframe() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=20.0, max_nack_retries=2, pli_interval_ms=300.0)
    decoder = _native.Vp8Decoder()
    numbers: list[int] = []
    # Frames 0..9; one packet of frame 4 never arrives.
    frames = [sender.frame() for _ in range(10)]
    for packet in (p for frame in frames for p in frame):
        if packet is not frames[4][0]:
            insert(assembler, packet, 0.0)
    numbers += decode_numbers(decoder, assembler.pop_frames(0.0))
    assert numbers == [0, 1, 2, 3]
    assert not assembler.keyframe_request(0.0)
    # Two NACKs a round trip apart, then the packet is given up.
    for now_ms in (0.0, 20.0, 40.0):
        assembler.nack_list(now_ms)
    assert assembler.pop_frames(40.0) == []
    assert assembler.stats()["framesDropped"] == 6
    assert assembler.keyframe_needed
    # One PLI, none within 300 ms, the next after.
    assert assembler.keyframe_request(40.0)
    assert not assembler.keyframe_request(339.0)
    assert assembler.keyframe_request(340.0)
    assert assembler.stats()["pliCount"] == 2
    # The sender answers with a keyframe; decoding resumes from it.
    for packet in sender.frame(keyframe=True) + sender.frame():
        insert(assembler, packet, 400.0)
    numbers += decode_numbers(decoder, assembler.pop_frames(400.0))
    assert numbers == [0, 1, 2, 3, 10, 11]
    assert not assembler.keyframe_needed and not assembler.keyframe_request(1000.0)
    assert assembler.stats()["keyFramesDecoded"] == 2


def test_a_stream_joined_mid_way_waits_for_a_keyframe() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler()
    decoder = _native.Vp8Decoder()
    [sender.frame() for _ in range(3)]  # the receiver missed these
    for packet in sender.frame() + sender.frame():
        insert(assembler, packet, 0.0)
    assert assembler.pop_frames(0.0) == []
    assert assembler.keyframe_request(0.0)
    for packet in sender.frame(keyframe=True):
        insert(assembler, packet, 50.0)
    assert decode_numbers(decoder, assembler.pop_frames(50.0)) == [5]


def test_a_frame_is_given_up_when_too_old_even_without_nack() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(max_frame_age_ms=200.0)
    frames = [sender.frame() for _ in range(3)]
    for packet in frames[0] + frames[1][1:] + frames[2]:
        insert(assembler, packet, 0.0)
    assert len(assembler.pop_frames(200.0)) == 1
    assert assembler.buffered_frames == 2
    assert assembler.pop_frames(201.0) == []
    assert assembler.buffered_frames == 0
    assert assembler.stats()["framesDropped"] == 2
    # Its packet arriving now is late, not a new frame.
    assert not insert(assembler, frames[1][0], 210.0)
    assert assembler.stats()["packetsDiscarded"] == 1


def test_a_decoder_failure_reported_back_asks_for_a_keyframe() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler()
    for packet in sender.frame() + sender.frame():
        insert(assembler, packet, 0.0)
    assert len(assembler.pop_frames(0.0)) == 2
    assembler.frame_decoded(keyframe=True)
    assembler.frame_decoded(ok=False)
    assert assembler.keyframe_needed and assembler.keyframe_request(0.0)
    stats = assembler.stats()
    assert stats["framesDecoded"] == 1 and stats["keyFramesDecoded"] == 1
    assert stats["framesDropped"] == 1
    # The next inter frame is held back: its reference is broken.
    for packet in sender.frame():
        insert(assembler, packet, 10.0)
    assert assembler.pop_frames(10.0) == []


def test_a_complete_keyframe_ends_the_wait_for_older_frames() -> None:
    # Frame 2 waits for a packet still being chased; the keyframe that
    # follows needs nothing before it, so it comes out at once.
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=100.0)
    decoder = _native.Vp8Decoder()
    frames = [sender.frame() for _ in range(4)] + [sender.frame(keyframe=True), sender.frame()]
    for packet in (p for frame in frames for p in frame):
        if packet is not frames[2][1]:
            insert(assembler, packet, 0.0)
    assert assembler.nack_list(0.0) == [frames[2][1].sequence_number]
    assert decode_numbers(decoder, assembler.pop_frames(0.0)) == [0, 1, 4, 5]
    assert assembler.stats()["framesDropped"] == 2
    assert not assembler.keyframe_needed
    assert assembler.nack_list(500.0) == []


def test_losing_a_frame_marked_non_reference_breaks_nothing() -> None:
    # The N bit (RFC 7741) says no frame predicts from this one: giving it up
    # needs no keyframe, and the frames after it are released. (The encoder
    # here does not honour the bit, so only the assembler's choices are checked.)
    sender = Sender()
    assembler = _native.FrameAssembler(rtt_ms=10.0, max_nack_retries=1)
    frames = [sender.frame(non_reference=i == 2) for i in range(5)]
    for packet in (p for frame in frames for p in frame):
        if packet is not frames[2][1]:
            insert(assembler, packet, 0.0)
    for now_ms in (0.0, 10.0):
        assembler.nack_list(now_ms)
    released = assembler.pop_frames(10.0)
    assert [(f.timestamp - frames[0][0].timestamp) // FRAME_TICKS for f in released] == [0, 1, 3, 4]
    assert not assembler.keyframe_needed and not assembler.keyframe_request(10.0)
    assert assembler.stats()["framesDropped"] == 1


# --- temporal layers ----------------------------------------------------------------


def run_layered(
    temporal_layers: int, lose: str, frame_count: int = 16
) -> tuple[list[int], list[Packet], _native.FrameAssembler]:
    """Sends frame_count frames; the first top-layer frame after frame 4
    loses one packet (lose="packet") or all (lose="frame"), for good."""
    sender = Sender(temporal_layers=temporal_layers, max_payload_bytes=120)
    assembler = _native.FrameAssembler(rtt_ms=10.0, max_nack_retries=1)
    decoder = _native.Vp8Decoder()
    frames = [sender.frame() for _ in range(frame_count)]
    top = temporal_layers - 1
    victim = next(f for f in frames[5:] if f[0].temporal_layer_id == top)
    assert len(victim) >= 2
    lost = victim[1:2] if lose == "packet" else victim
    numbers: list[int] = []
    for i, packet in enumerate(p for frame in frames for p in frame):
        if packet not in lost:
            insert(assembler, packet, i * 1.0)
        assembler.nack_list(i * 1.0)
        numbers += decode_numbers(decoder, assembler.pop_frames(i * 1.0))
    for now_ms in (500.0, 1000.0):
        assembler.nack_list(now_ms)
        numbers += decode_numbers(decoder, assembler.pop_frames(now_ms))
    return numbers, victim, assembler


@pytest.mark.parametrize("temporal_layers", [2, 3])
@pytest.mark.parametrize("lose", ["packet", "frame"])
def test_a_lost_top_layer_frame_leaves_the_lower_layers_decodable(
    temporal_layers: int, lose: str
) -> None:
    numbers, victim, assembler = run_layered(temporal_layers, lose)
    lost_number = victim[0].frame_number
    pattern = [0, 1] if temporal_layers == 2 else [0, 2, 1, 2]
    top = temporal_layers - 1
    # Every frame below the top layer still decodes, in order; the top layer
    # stops at the loss (its next frames predict from the lost one).
    below = [n for n in range(16) if pattern[n % len(pattern)] < top]
    if lose == "frame" and temporal_layers == 3:
        # A wholly lost frame's layer is unknown: layer 1 is given up too
        # (conservative), the base layer still decodes.
        below = [n for n in range(16) if pattern[n % len(pattern)] == 0 or n < lost_number]
    expected = sorted(set(below) | set(range(lost_number)))
    assert numbers == expected
    assert assembler.keyframe_needed
    assert assembler.stats()["framesDropped"] == 16 - len(expected) - (lose == "frame")


def test_top_layer_frames_lost_before_any_arrived_leave_the_base_layer_decodable() -> None:
    # Every layer-1 frame vanishes from the first on, so the assembler never
    # sees layer 1: TL0PICIDX alone says the base layer lost nothing.
    sender = Sender(temporal_layers=2, max_payload_bytes=120)
    assembler = _native.FrameAssembler(rtt_ms=10.0, max_nack_retries=1)
    decoder = _native.Vp8Decoder()
    numbers: list[int] = []
    for i in range(12):
        now_ms = i * 10.0
        for packet in sender.frame():
            if packet.temporal_layer_id == 0:
                insert(assembler, packet, now_ms)
        assembler.nack_list(now_ms)
        numbers += decode_numbers(decoder, assembler.pop_frames(now_ms))
    for now_ms in (500.0, 1000.0):
        assembler.nack_list(now_ms)
        numbers += decode_numbers(decoder, assembler.pop_frames(now_ms))
    assert numbers == list(range(0, 12, 2))
    assert assembler.stats()["framesDropped"] == 0
    # Layer 1 is broken for a receiver that wants it: a keyframe would mend it.
    assert assembler.keyframe_needed


def test_a_lost_base_layer_frame_stops_every_layer() -> None:
    sender = Sender(temporal_layers=2, max_payload_bytes=120)
    assembler = _native.FrameAssembler(rtt_ms=10.0, max_nack_retries=1)
    decoder = _native.Vp8Decoder()
    frames = [sender.frame() for _ in range(8)]
    for packet in (p for frame in frames for p in frame):
        if packet is not frames[4][1]:
            insert(assembler, packet, 0.0)
    for now_ms in (0.0, 10.0):
        assembler.nack_list(now_ms)
    assert decode_numbers(decoder, assembler.pop_frames(10.0)) == [0, 1, 2, 3]
    assert assembler.buffered_frames == 0 and assembler.keyframe_request(10.0)


# --- bad input ----------------------------------------------------------------------


def test_malformed_payloads_are_counted_never_raised() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler()
    bad_keyframe = bytes([0x10]) + b"\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # no start code
    for sequence, payload in enumerate([b"\x80", b"\x90\x80", bad_keyframe, b"\x10"]):
        assert not assembler.insert(
            payload, sequence_number=sequence, timestamp=0, marker=True, arrival_time_ms=0.0
        )
    assert assembler.stats()["packetsMalformed"] == 4
    assert assembler.pop_frames(0.0) == []
    # A duplicate is refused and counted; the stream still assembles.
    packets = sender.frame()
    for packet in [*packets, packets[0]]:
        insert(assembler, packet, 1.0)
    assert assembler.stats()["packetsDuplicated"] == 1
    assert len(assembler.pop_frames(1.0)) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rtt_ms": -1.0}, "rtt_ms"),
        ({"rtt_ms": float("nan")}, "rtt_ms"),
        ({"max_nack_retries": 0}, "max_nack_retries"),
        ({"max_nack_retries": 101}, "max_nack_retries"),
        ({"nack_repeat_delay_ms": -1.0}, "nack_repeat_delay_ms"),
        ({"nack_repeat_delay_ms": 1000.0}, "nack_repeat_delay_ms"),
        ({"pli_interval_ms": -5.0}, "pli_interval_ms"),
        ({"max_frame_age_ms": 0.0}, "max_frame_age_ms"),
        ({"max_frame_age_ms": float("inf")}, "max_frame_age_ms"),
        ({"max_buffered_frames": 0}, "max_buffered_frames"),
    ],
)
def test_bad_configuration_raises_value_error_naming_it(
    options: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _native.FrameAssembler(**options)  # type: ignore[arg-type]


def test_bad_arguments_raise_clear_errors() -> None:
    assembler = _native.FrameAssembler()
    good = {"sequence_number": 1, "timestamp": 1, "marker": True, "arrival_time_ms": 0.0}
    for name, value in [
        ("sequence_number", 65536),
        ("sequence_number", -1),
        ("timestamp", 2**32),
        ("arrival_time_ms", float("nan")),
    ]:
        with pytest.raises(ValueError, match=name):
            assembler.insert(b"\x10\x00", **{**good, name: value})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        assembler.insert("text", **good)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        assembler.insert(np.zeros(4, dtype=np.int16), **good)  # type: ignore[arg-type]
    for call in (assembler.pop_frames, assembler.nack_list, assembler.keyframe_request):
        with pytest.raises(ValueError, match="now_ms"):
            call(float("inf"))
    with pytest.raises(ValueError, match="rtt_ms"):
        assembler.set_rtt_ms(-3.0)


# --- freeze statistics ----------------------------------------------------------------


def test_freeze_statistics_follow_the_w3c_definition() -> None:
    # W3C webrtc-stats: an interval is a freeze when it is at least
    # max(3 * avg, avg + 150 ms), avg over the last 30 intervals before it.
    assembler = _native.FrameAssembler()
    times = [i * 40.0 for i in range(11)]  # ten 40 ms intervals: avg 40, bound 190
    times.append(times[-1] + 190.0)  # exactly the bound: a freeze
    # avg (400 + 190) / 11 = 53.6: bound max(160.9, 203.6) = 203.6
    times.append(times[-1] + 203.0)  # just under: not a freeze
    # avg (590 + 203) / 12 = 66.1: bound max(198.25, 216.1) = 216.1
    times.append(times[-1] + 500.0)  # a freeze
    for t in times:
        assembler.frame_rendered(t)
    stats = assembler.stats()
    assert stats["framesRendered"] == len(times)
    assert stats["freezeCount"] == 2
    assert stats["totalFreezesDuration"] == pytest.approx(0.690)


def test_freeze_average_forgets_intervals_older_than_30_frames() -> None:
    assembler = _native.FrameAssembler()
    t = 0.0
    assembler.frame_rendered(t)
    for _ in range(30):  # a slow start: 30 intervals of 300 ms
        t += 300.0
        assembler.frame_rendered(t)
    for _ in range(30):  # then 30 of 20 ms: the 300 ms ones are out of the window
        t += 20.0
        assembler.frame_rendered(t)
    t += 175.0  # against avg 20: bound max(60, 170) = 170 -> a freeze
    assembler.frame_rendered(t)
    assert assembler.stats()["freezeCount"] == 1


# --- property: whatever arrives, what leaves is ordered, unique and decodable ---------


def reference_stream() -> tuple[list[list[Packet]], list[npt.NDArray[np.uint8]]]:
    sender = Sender(temporal_layers=3, max_payload_bytes=150, first_sequence=65520)
    frames = [sender.frame(keyframe=i == 9) for i in range(14)]
    decoder = _native.Vp8Decoder()
    pictures = []
    for frame in frames:
        picture = decoder.decode(_native.vp8_assemble([p.payload for p in frame]))
        assert picture is not None
        pictures.append(picture)
    return frames, pictures


STREAM, PICTURES = reference_stream()
PACKETS = [p for frame in STREAM for p in frame]


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(range(len(PACKETS))),
    lost=st.sets(st.integers(0, len(PACKETS) - 1), max_size=6),
    duplicated=st.sets(st.integers(0, len(PACKETS) - 1), max_size=6),
    pop_every=st.integers(1, 12),
)
def test_released_frames_are_ordered_unique_and_decode_to_the_lossless_pictures(
    order: list[int], lost: set[int], duplicated: set[int], pop_every: int
) -> None:
    # NACKs outlast the 95 ms of arrivals, so only real losses are given up.
    assembler = _native.FrameAssembler(rtt_ms=50.0, max_nack_retries=10, max_frame_age_ms=300.0)
    arrivals = [i for i in order if i not in lost] + sorted(duplicated - lost)
    released: list[_native.AssembledFrame] = []
    for step, index in enumerate(arrivals):
        # All within 100 ms, well inside max_frame_age_ms.
        now_ms = step * 0.5
        insert(assembler, PACKETS[index], now_ms)
        assembler.nack_list(now_ms)
        if step % pop_every == 0:
            released += assembler.pop_frames(now_ms)
    for now_ms in (1000.0, 1010.0, 1020.0, 2000.0):
        assembler.nack_list(now_ms)
        released += assembler.pop_frames(now_ms)
    assert assembler.buffered_frames == 0

    # Ordered (unwrapped from the first frame), never twice.
    first = PACKETS[0].timestamp
    offsets = [(f.timestamp - first) % 2**32 for f in released]
    assert offsets == sorted(set(offsets))
    # Each decodes, in a fresh decoder, to exactly the lossless picture:
    # no frame left with a broken reference.
    decoder = _native.Vp8Decoder()
    for frame in released:
        number = offsets[released.index(frame)] // FRAME_TICKS
        picture = decoder.decode(frame.data)
        assert picture is not None
        assert np.array_equal(picture, PICTURES[number]), f"frame {number} decoded differently"
    # Without loss, every frame comes out, except those still waiting for
    # reordered packets when the complete keyframe (frame 9) overtook them.
    stats = assembler.stats()
    if not lost:
        assert {o // FRAME_TICKS for o in offsets} >= set(range(9, len(STREAM)))
        assert len(released) + stats["framesDropped"] == len(STREAM)
    assert stats["framesReleased"] == len(released)


# --- bounds -------------------------------------------------------------------------


def test_the_buffer_gives_up_its_oldest_frame_beyond_max_buffered_frames() -> None:
    sender = Sender()
    assembler = _native.FrameAssembler(max_buffered_frames=3)
    frames = [sender.frame() for _ in range(8)]
    for packet in (p for frame in frames for p in frame):
        if packet is not frames[1][1]:
            insert(assembler, packet, 0.0)
    assert len(assembler.pop_frames(0.0)) == 1
    # Frame 1 is given up at once, and the rest lack its reference.
    assert assembler.buffered_frames <= 3
    assert assembler.stats()["framesDropped"] == 7
    assert assembler.keyframe_needed


def test_one_timestamp_holds_at_most_2000_payloads() -> None:
    assembler = _native.FrameAssembler()
    middle = b"\x00\x55"  # S=0: a payload from inside a frame
    accepted = [
        assembler.insert(middle, sequence_number=s, timestamp=7, marker=False, arrival_time_ms=0.0)
        for s in range(2001)
    ]
    assert accepted == [True] * 2000 + [False]
    assert assembler.stats()["packetsDiscarded"] == 1
