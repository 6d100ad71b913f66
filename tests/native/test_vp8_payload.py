"""The VP8 RTP payload (RFC 7741): packetize, shuffle and reassemble real
frames; every descriptor field round trips; picture id, TL0PICIDX and
KEYIDX counters; malformed and truncated payloads rejected with a reason,
and a fuzz test on the parser."""

from __future__ import annotations

import random

import pytest
from _video import scene
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.errors import CodecError

# An inter-frame tag (P bit set, first partition of 0 bytes): the smallest
# frame data a frame-start payload may carry (RFC 6386 section 9.1).
INTER_TAG = b"\x01\x00\x00"


def encoded_frames(count: int, *, temporal_layers: int = 1) -> list[_native.Vp8EncodedFrame]:
    enc = _native.Vp8Encoder(
        width_px=640, height_px=360, bitrate_bps=1_500_000, temporal_layers=temporal_layers
    )
    return [enc.encode(scene(i, 640, 360)) for i in range(count)]


FRAMES = encoded_frames(8, temporal_layers=3)


# --- packetize and reassemble ---------------------------------------------------


@pytest.mark.parametrize("max_payload_bytes", [100, 500, 1200])
def test_packetize_shuffle_depacketize_reassembles_every_frame(max_payload_bytes: int) -> None:
    packetizer = _native.Vp8Packetizer(max_payload_bytes=max_payload_bytes)
    rng = random.Random(7)
    sequence = 65530  # wraps during the test, as RTP sequence numbers do
    sent: list[tuple[int, bytes]] = []
    for frame in FRAMES:
        payloads = packetizer.packetize(
            frame.data, temporal_layer_id=frame.temporal_layer_id, layer_sync=frame.layer_sync
        )
        # Descriptor: 6 bytes (X, I with 15 bits, L, T).
        assert all(len(p) <= max_payload_bytes for p in payloads)
        assert len(payloads) == -(-len(frame.data) // (max_payload_bytes - 6))
        for payload in payloads:
            sent.append((sequence, payload))
            sequence = (sequence + 1) % 65536
    # Reorder everything, then sort back by unwrapped sequence number.
    arrived = sent[:]
    rng.shuffle(arrived)
    arrived.sort(key=lambda item: (item[0] - 65530) % 65536)
    payloads = [p for _, p in arrived]
    decoder = _native.Vp8Decoder()
    at = 0
    for frame in FRAMES:
        count = -(-len(frame.data) // (max_payload_bytes - 6))
        frame_payloads = payloads[at : at + count]
        at += count
        assert _native.vp8_assemble(frame_payloads) == frame.data
        assert decoder.decode(_native.vp8_assemble(frame_payloads)) is not None


@settings(max_examples=60, deadline=None)
@given(max_payload_bytes=st.integers(26, 300), frame_index=st.integers(0, 3))
def test_any_payload_budget_gives_parseable_payloads(
    max_payload_bytes: int, frame_index: int
) -> None:
    # Down to the smallest budget the first payload holds the whole
    # keyframe header, so every payload parses and the frame comes back.
    packetizer = _native.Vp8Packetizer(max_payload_bytes=max_payload_bytes, key_idx=True)
    frame = FRAMES[frame_index]
    payloads = packetizer.packetize(frame.data, temporal_layer_id=frame.temporal_layer_id)
    parsed = [_native.vp8_depacketize(p) for p in payloads]
    assert parsed[0].keyframe == frame.keyframe
    assert b"".join(p.data for p in parsed) == frame.data


def test_payload_fields_describe_the_frame() -> None:
    packetizer = _native.Vp8Packetizer(max_payload_bytes=400, first_picture_id=1000, key_idx=True)
    key = FRAMES[0]
    parsed = [
        _native.vp8_depacketize(p)
        for p in packetizer.packetize(key.data, temporal_layer_id=0, layer_sync=True)
    ]
    first, rest = parsed[0], parsed[1:]
    assert first.frame_start and first.start_of_partition and first.partition_id == 0
    assert first.keyframe is True and first.show_frame is True
    assert (first.width_px, first.height_px) == (640, 360)
    assert first.first_partition_bytes is not None and first.first_partition_bytes > 0
    assert all(not p.frame_start and p.keyframe is None and p.width_px is None for p in rest)
    for p in parsed:
        assert (p.picture_id, p.picture_id_bits) == (1000, 15)
        assert (p.tl0_pic_idx, p.temporal_layer_id, p.layer_sync, p.key_idx) == (1, 0, True, 1)
        assert p.descriptor_bytes == 6
    # The partition index moves from 0 to 1 where partition 0 ends; a
    # payload starting exactly there would carry S.
    partition0_end = 10 + first.first_partition_bytes
    offset = 0
    for p in parsed:
        assert p.partition_id == (0 if offset < partition0_end else 1)
        assert p.start_of_partition == (offset in (0, partition0_end))
        offset += len(p.data)
    # Slices are balanced: lengths differ by one byte at most.
    lengths = [len(p.data) for p in parsed]
    assert max(lengths) - min(lengths) <= 1


def test_counters_picture_id_tl0picidx_keyidx() -> None:
    packetizer = _native.Vp8Packetizer(first_picture_id=32766, key_idx=True)
    seen = []
    for frame in FRAMES:
        first = _native.vp8_depacketize(
            packetizer.packetize(frame.data, temporal_layer_id=frame.temporal_layer_id)[0]
        )
        seen.append((first.picture_id, first.tl0_pic_idx, first.temporal_layer_id, first.key_idx))
    # Picture ids wrap at 15 bits; TL0PICIDX steps on each base-layer frame;
    # KEYIDX counts keyframes (one here).
    assert [s[0] for s in seen] == [32766, 32767, 0, 1, 2, 3, 4, 5]
    assert [s[2] for s in seen] == [0, 2, 1, 2, 0, 2, 1, 2]
    assert [s[1] for s in seen] == [1, 1, 1, 1, 2, 2, 2, 2]
    assert all(s[3] == 1 for s in seen)
    assert packetizer.next_picture_id == 6 and packetizer.last_tl0_pic_idx == 2


def test_short_picture_id_and_no_picture_id() -> None:
    short = _native.Vp8Packetizer(picture_id_bits=7, first_picture_id=127)
    ids = [_native.vp8_depacketize(short.packetize(f.data)[0]).picture_id for f in FRAMES[:3]]
    assert ids == [127, 0, 1]
    bare = _native.Vp8Packetizer(picture_id_bits=0)
    payload = bare.packetize(FRAMES[1].data)[0]
    parsed = _native.vp8_depacketize(payload)
    assert parsed.descriptor_bytes == 1 and parsed.picture_id is None
    assert parsed.tl0_pic_idx is None and parsed.temporal_layer_id is None


@settings(max_examples=300, deadline=None)
@given(
    start_of_partition=st.booleans(),
    partition_id=st.integers(0, 7),
    non_reference=st.booleans(),
    picture_id_bits=st.sampled_from([7, 15]),
    picture_id=st.none() | st.integers(0, 32767),
    tl0_pic_idx=st.none() | st.integers(0, 255),
    temporal_layer_id=st.none() | st.integers(0, 3),
    layer_sync=st.booleans(),
    key_idx=st.none() | st.integers(0, 31),
)
def test_every_descriptor_field_round_trips(
    start_of_partition: bool,
    partition_id: int,
    non_reference: bool,
    picture_id_bits: int,
    picture_id: int | None,
    tl0_pic_idx: int | None,
    temporal_layer_id: int | None,
    layer_sync: bool,
    key_idx: int | None,
) -> None:
    if picture_id is not None:
        picture_id %= 1 << picture_id_bits
    descriptor = _native.vp8_payload_descriptor(
        start_of_partition=start_of_partition,
        partition_id=partition_id,
        non_reference=non_reference,
        picture_id=picture_id,
        picture_id_bits=picture_id_bits,  # type: ignore[arg-type]
        tl0_pic_idx=tl0_pic_idx,
        temporal_layer_id=temporal_layer_id,
        layer_sync=layer_sync,
        key_idx=key_idx,
    )
    parsed = _native.vp8_depacketize(descriptor + INTER_TAG)
    assert parsed.start_of_partition == start_of_partition
    assert parsed.partition_id == partition_id
    assert parsed.non_reference == non_reference
    assert parsed.picture_id == picture_id
    assert parsed.picture_id_bits == (None if picture_id is None else picture_id_bits)
    assert parsed.tl0_pic_idx == tl0_pic_idx
    assert parsed.temporal_layer_id == temporal_layer_id
    assert parsed.layer_sync == (layer_sync and temporal_layer_id is not None)
    assert parsed.key_idx == key_idx
    assert parsed.descriptor_bytes == len(descriptor)
    assert parsed.data == INTER_TAG
    assert parsed.frame_start == (start_of_partition and partition_id == 0)


# --- malformed input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"\x80", "no extension octet"),
        (b"\x80\x80", "picture id"),
        (b"\x80\x80\x85", "picture id"),
        (b"\x80\x40", "TL0PICIDX"),
        (b"\x80\xc0\x05", "TL0PICIDX"),
        (b"\x80\x20", "TID/KEYIDX"),
        (b"\x80\x10", "TID/KEYIDX"),
        (b"\x80\xf0\x81\x02\x03\x04", "no frame data"),
        (b"\x10", "no frame data"),
        (b"\x10\x01", "tag truncated"),
        (b"\x10\x00\x00\x00\x9d", "keyframe header truncated"),
        (b"\x10\x00\x00\x00\x9d\x01\x2b\x80\x02\x68\x01", "start code"),
        (b"\x10\x00\x00\x00\x9d\x01\x2a\x00\x00\x68\x01", "zero width"),
    ],
)
def test_malformed_payloads_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        _native.vp8_depacketize(payload)


def test_a_continuation_payload_needs_no_frame_header() -> None:
    # S=0: the bytes are the middle of a frame, whatever they hold.
    parsed = _native.vp8_depacketize(b"\x00\xff\xff")
    assert not parsed.frame_start and parsed.data == b"\xff\xff"


def test_every_truncation_of_real_payloads() -> None:
    packetizer = _native.Vp8Packetizer(key_idx=True)
    payload = packetizer.packetize(FRAMES[0].data, temporal_layer_id=0, layer_sync=True)[0]
    for cut in range(len(payload)):
        try:
            parsed = _native.vp8_depacketize(payload[:cut])
        except CodecError:
            continue
        # What parses is a prefix of the frame that still holds its header.
        assert FRAMES[0].data.startswith(parsed.data)
        assert len(parsed.data) >= 10


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40))
def test_depacketizer_fuzz(payload: bytes) -> None:
    try:
        parsed = _native.vp8_depacketize(payload)
    except CodecError:
        return
    assert parsed.descriptor_bytes + len(parsed.data) == len(payload)
    assert len(parsed.data) >= 1
    assert 0 <= parsed.partition_id <= 7


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=5))
def test_assemble_fuzz(payloads: list[bytes]) -> None:
    try:
        frame = _native.vp8_assemble(payloads)
    except CodecError:
        return
    assert len(frame) < sum(len(p) for p in payloads)


@pytest.mark.parametrize(
    ("payloads", "reason"),
    [
        ([], "no payloads"),
        ([b"\x00\x01\x02"], "does not start a frame"),
        ([b"\x10" + INTER_TAG, b"\x10" + INTER_TAG], "starts another frame"),
        ([b"\x90\x80\x05" + INTER_TAG, b"\x80\x80\x06\x00"], "picture id"),
        ([b"\x10" + INTER_TAG, b""], "payload 1: empty"),
    ],
)
def test_assemble_rejects_what_is_not_one_frame(payloads: list[bytes], reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        _native.vp8_assemble(payloads)


# --- bad arguments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_payload_bytes": 25}, "max_payload_bytes"),
        ({"max_payload_bytes": 65001}, "max_payload_bytes"),
        ({"picture_id_bits": 8}, "picture_id_bits"),
        ({"picture_id_bits": 7, "first_picture_id": 128}, "first_picture_id"),
        ({"first_picture_id": -1}, "first_picture_id"),
    ],
)
def test_bad_packetizer_config_is_rejected(options: dict[str, int], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        _native.Vp8Packetizer(**options)  # type: ignore[arg-type]


def test_packetize_rejects_bad_frames_and_fields() -> None:
    packetizer = _native.Vp8Packetizer()
    with pytest.raises(CodecError, match="empty"):
        packetizer.packetize(b"")
    with pytest.raises(CodecError, match="start code"):
        packetizer.packetize(b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    with pytest.raises(CodecError, match="truncated"):
        packetizer.packetize(FRAMES[0].data[:50])
    with pytest.raises(ValueError, match="temporal_layer_id"):
        packetizer.packetize(FRAMES[1].data, temporal_layer_id=4)
    with pytest.raises(TypeError):
        packetizer.packetize("text")  # type: ignore[arg-type]
    # A refused frame does not use up a picture id.
    assert packetizer.next_picture_id == 0


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"partition_id": 8}, "partition_id"),
        ({"picture_id": 128, "picture_id_bits": 7}, "picture_id"),
        ({"picture_id": 32768}, "picture_id"),
        ({"picture_id_bits": 9, "picture_id": 1}, "picture_id_bits"),
        ({"tl0_pic_idx": 256}, "tl0_pic_idx"),
        ({"temporal_layer_id": 4}, "temporal_layer_id"),
        ({"key_idx": 32}, "key_idx"),
        ({"key_idx": -1}, "non-negative"),
    ],
)
def test_bad_descriptor_fields_are_rejected(options: dict[str, int], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        _native.vp8_payload_descriptor(**options)  # type: ignore[arg-type]
