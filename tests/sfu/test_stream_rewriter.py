"""Sequence numbering across drops, late packets and source changes; the
layer selector's hysteresis; the packet cache's ring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.sfu.layer_selector import LayerSelector
from cloudlink.sfu.packet_cache import PacketCache
from cloudlink.sfu.rtp_view import parse_rtp_view
from cloudlink.sfu.stream_rewriter import StreamRewriter


def _view(sequence: int, timestamp: int = 0, ssrc: int = 1):  # type: ignore[no-untyped-def]
    data = _native.RtpPacket(
        payload_type=111,
        sequence_number=sequence % 65536,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=b"x",
    ).serialize()
    view = parse_rtp_view(data, vp8=False, audio_level_extension_id=None)
    view.sequence = sequence
    return view


def test_late_packets_are_numbered_as_if_in_order() -> None:
    rewriter = StreamRewriter(ssrc=5, clock_rate_hz=90000)
    views = {n: _view(n) for n in range(100, 112)}
    rewriter.start_source(views[100], 0.0)
    base = rewriter.output_sequence(views[100])
    assert base is not None
    # 102, 103 and 107 are dropped; 101 and 105 (forwarded) arrive late.
    out = {}
    for n in (100, 102, 103, 104, 106, 101, 107, 108, 105, 109):
        if n in (102, 103, 107):
            rewriter.drop(views[n])
        else:
            out[n] = rewriter.output_sequence(views[n])
    forwarded = sorted(out)
    assert [out[n] for n in forwarded] == [base + i for i in range(len(forwarded))]
    # Dropped after a later packet went out: a hole, not a shift of numbers sent.
    after = rewriter.output_sequence(_view(112))
    rewriter.drop(_view(111))
    assert rewriter.holes == 1
    assert after is not None and rewriter.output_sequence(_view(113)) == after + 1
    # Older than the source's start: not forwarded.
    assert rewriter.output_sequence(_view(99)) is None


def test_a_new_source_continues_numbering_and_time() -> None:
    rewriter = StreamRewriter(ssrc=5, clock_rate_hz=90000)
    first = _view(40000, timestamp=1000)
    rewriter.start_source(first, 0.0)
    sequence = rewriter.output_sequence(first)
    assert sequence is not None
    timestamp = rewriter.output_timestamp(first)
    rewriter.commit(sequence, timestamp, 0, 0, 0.0)
    other = _view(7, timestamp=2**32 - 10, ssrc=2)
    rewriter.start_source(other, 100.0)
    assert rewriter.output_sequence(other) == sequence + 1
    # 100 ms later at 90 kHz.
    assert rewriter.output_timestamp(other) == (timestamp + 9000) % 2**32


def test_layer_selector_goes_down_at_once_and_up_with_headroom_and_hold() -> None:
    selector = LayerSelector(max_layer=2, up_headroom=1.25, up_hold_ms=1000.0)
    rates = [100_000.0, 200_000.0, 400_000.0]
    assert selector.update(1e9, [], 0.0) == 2  # nothing measured: stays
    assert selector.update(150_000, rates, 0.0) == 0
    assert selector.update(240_000, rates, 2000.0) == 0  # fits, but not by 25%
    assert selector.update(260_000, rates, 2100.0) == 1
    assert selector.update(1e9, rates, 2500.0) == 1  # within the hold time
    assert selector.update(1e9, rates, 3100.0) == 2
    assert selector.update(399_000, rates, 3200.0) == 1  # down needs no hold
    assert selector.switches == 4


def test_packet_cache_keeps_the_newest_per_slot() -> None:
    cache = PacketCache(capacity_packets=4)
    for n in range(10):
        cache.put(_view(n))
    assert cache.get(5) is None and cache.get(9) is not None and cache.get(6) is not None
    with pytest.raises(ValueError, match="power of two"):
        PacketCache(capacity_packets=3)


@given(st.lists(st.booleans(), min_size=1, max_size=300), st.integers(0, 65535))
def test_forwarded_packets_are_numbered_without_gaps_whatever_is_dropped(
    forward: list[bool], first: int
) -> None:
    rewriter = StreamRewriter(ssrc=5, clock_rate_hz=90000)
    rewriter.start_source(_view(first), 0.0)
    out = []
    for offset, keep in enumerate(forward):
        view = _view(first + offset)
        if keep or offset == 0:
            number = rewriter.output_sequence(view)
            assert number is not None
            out.append(number)
        else:
            rewriter.drop(view)
    assert out == list(range(out[0], out[0] + len(out)))
