"""Bad datagrams are counted and dropped; no input raises out of the room."""

from __future__ import annotations

from _sfu_streams import MemoryTransport, VideoPublisher
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.sfu import Room, TrackKind

SSRC = 0x5151


def _room() -> tuple[Room, VideoPublisher, MemoryTransport]:
    room = Room(room_id="r4")
    publisher = VideoPublisher(ssrc=SSRC)
    room.add_participant("alice", publisher.transport)
    room.publish("alice", track_id="cam", kind=TrackKind.CAMERA, ssrc=SSRC)
    room.publish("alice", track_id="mic", kind=TrackKind.AUDIO, ssrc=SSRC + 1)
    subscriber = MemoryTransport()
    room.add_participant("bob", subscriber)
    room.subscribe("bob", "cam", now_ms=0.0)
    room.subscribe("bob", "mic", now_ms=0.0)
    return room, publisher, subscriber


def test_bad_datagrams_are_counted_and_dropped() -> None:
    room, publisher, subscriber = _room()
    _, datagrams = publisher.next_frame()
    good = datagrams[0]
    wrong_version = bytes([good[0] & 0x3F | 0x40]) + good[1:]
    foreign_ssrc = good[:8] + (0x999).to_bytes(4, "big") + good[12:]
    # An extension header claiming more words than the packet has.
    bad_extension = bytes([good[0] | 0x10]) + good[1:12] + b"\xbe\xde\x00\x40" + good[12:20]
    for data in (b"", good[:5], good[:11], wrong_version, bad_extension):
        room.receive_rtp("alice", data, now_ms=0.0)
    room.receive_rtp("alice", foreign_ssrc, now_ms=0.0)
    room.receive_rtp("nobody", good, now_ms=0.0)
    room.receive_rtcp("bob", b"\x81\xcd\x00\x09", now_ms=0.0)
    # Feedback about a stream bob does not receive.
    pli = _native.serialize_rtcp([_native.RtcpPli(sender_ssrc=1, media_ssrc=0x777)])
    room.receive("bob", pli, now_ms=0.0)
    counters = room.counters
    assert counters.rtp_malformed == 5
    assert counters.unknown_ssrc == 2 and counters.unknown_participant == 1
    assert counters.rtcp_malformed == 1 and counters.internal_errors == 0
    assert not subscriber.rtp and not subscriber.rtcp
    # A good packet after all that still goes through.
    room.receive("alice", good, now_ms=1.0)
    assert len(subscriber.rtp) == 1


def test_a_vp8_payload_too_short_for_its_descriptor_is_malformed() -> None:
    room, _, subscriber = _room()
    packet = _native.RtpPacket(payload_type=96, ssrc=SSRC, payload=b"\x90\x80")
    room.receive("alice", packet.serialize(), now_ms=0.0)
    assert room.counters.rtp_malformed == 1 and not subscriber.rtp


@settings(max_examples=300, deadline=None)
@given(
    datagrams=st.lists(
        st.one_of(
            st.binary(max_size=80),
            # Version 2 with a known SSRC and a random rest: reaches the parsers.
            st.tuples(st.binary(min_size=1, max_size=1), st.binary(max_size=60)).map(
                lambda parts: (
                    bytes([0x80 | (parts[0][0] & 0x3F)])
                    + bytes([96])
                    + b"\x00\x01\x00\x00\x00\x02"
                    + SSRC.to_bytes(4, "big")
                    + parts[1]
                )
            ),
        ),
        max_size=8,
    ),
    sender=st.sampled_from(["alice", "bob", "nobody"]),
)
def test_no_datagram_raises(datagrams: list[bytes], sender: str) -> None:
    room, _, _ = _room()
    for data in datagrams:
        room.receive(sender, data, now_ms=0.0)
        room.receive_rtp(sender, data, now_ms=1.0)
        room.receive_rtcp(sender, data, now_ms=2.0)
    assert room.counters.internal_errors == 0


_feedback = st.one_of(
    st.builds(
        lambda ssrc, numbers: _native.RtcpNack(media_ssrc=ssrc, sequence_numbers=numbers),
        st.integers(0, 2**32 - 1),
        st.lists(st.integers(0, 65535), min_size=1, max_size=20),
    ),
    st.builds(lambda ssrc: _native.RtcpPli(media_ssrc=ssrc), st.integers(0, 2**32 - 1)),
    st.builds(
        lambda entries: _native.RtcpFir(entries=entries),
        st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 255)), min_size=1, max_size=3),
    ),
    st.builds(
        lambda bitrate: _native.RtcpRemb(bitrate_bps=bitrate),
        st.integers(0, 2**40),
    ),
    st.builds(
        lambda ssrc, lost: _native.RtcpReceiverReport(
            report_blocks=[_native.RtcpReportBlock(ssrc=ssrc, fraction_lost=lost)]
        ),
        st.integers(0, 2**32 - 1),
        st.integers(0, 255),
    ),
)


@settings(max_examples=100, deadline=None)
@given(feedback=st.lists(st.tuples(_feedback, st.booleans(), st.integers(0, 5000)), max_size=10))
def test_any_feedback_about_real_streams_is_handled(
    feedback: list[tuple[_native._RtcpPacket, bool, int]],
) -> None:
    """Well-formed RTCP with random fields, half of it naming bob's real
    streams, between packets of a live stream."""
    room, publisher, _ = _room()
    ssrcs = [s.ssrc for s in room.participants["bob"].subscriptions]
    for packet, aim, time_ms in feedback:
        if aim and isinstance(packet, _native.RtcpNack | _native.RtcpPli):
            packet.media_ssrc = ssrcs[time_ms % 2]
        _, datagrams = publisher.next_frame()
        for datagram in datagrams:
            room.receive("alice", datagram, now_ms=float(time_ms))
        room.receive("bob", _native.serialize_rtcp([packet]), now_ms=float(time_ms))
    assert room.counters.internal_errors == 0
    assert room.counters.rtcp_malformed == 0
