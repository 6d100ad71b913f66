"""The RTP session over a real loopback transport, fed by hand."""

from __future__ import annotations

import asyncio

from cloudlink import _native
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.rtc.header_extensions import HeaderExtensionIds
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.transport import connect_pair


async def _settle(condition: object, timeout_s: float = 1.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)


def test_malformed_and_foreign_packets_are_counted_not_raised() -> None:
    async def run() -> tuple[int, int, list[RtpPayload]]:
        a, b = await connect_pair()
        await a.send(b"\x80\x6f")  # too short for SRTP: dropped, counted
        assert a.packets_not_sent == 1
        session = RtpSession(b)
        got: list[RtpPayload] = []
        session.add_receiver(
            kind="audio",
            clock_rate_hz=48000,
            payload_types=[111],
            on_payload=lambda payload, _: got.append(payload),
        )
        # RTP whose padding count exceeds the packet (SRTP protects it,
        # the native parser refuses it); RTCP with a bad length.
        await a.send(b"\xa0\x6f\x00\x01" + b"\x00" * 11 + b"\xff")
        await a.send(b"\x81\xc9\x00\x09" + b"\x00" * 8)
        # A stream nobody receives, then the one that is expected.
        await a.send(_native.RtpPacket(payload_type=96, ssrc=9, payload=b"v").serialize())
        good = _native.RtpPacket(payload_type=111, ssrc=7, sequence_number=3, payload=b"o")
        await a.send(good.serialize())
        await _settle(lambda: got)
        malformed, unknown = session.packets_malformed, session.packets_unknown_ssrc
        await a.close()
        await b.close()
        return malformed, unknown, got

    malformed, unknown, got = asyncio.run(run())
    assert malformed == 2
    assert unknown == 1
    assert got == [RtpPayload(sequence_number=3, timestamp=0, payload_type=111, payload=b"o")]


def test_fir_and_pli_reach_the_named_sender() -> None:
    async def run() -> tuple[int, int, int]:
        a, b = await connect_pair()
        session = RtpSession(b)
        sender = session.add_sender(kind="video", clock_rate_hz=90000)
        requests: list[int] = []
        sender.on_keyframe_request = lambda: requests.append(1)
        other = sender.ssrc ^ 1
        packets = [
            _native.RtcpPli(sender_ssrc=1, media_ssrc=sender.ssrc),
            _native.RtcpPli(sender_ssrc=1, media_ssrc=other),
            _native.RtcpFir(sender_ssrc=1, entries=[(sender.ssrc, 0)]),
        ]
        await a.send(_native.serialize_rtcp(packets))
        await _settle(lambda: len(requests) >= 2)
        await a.close()
        await b.close()
        return len(requests), sender.pli_count, sender.fir_count

    assert asyncio.run(run()) == (2, 1, 1)


def test_the_mid_goes_out_until_the_peer_reports_on_the_stream() -> None:
    # RFC 8843 section 15: the MID tells a BUNDLE receiver which section a
    # new SSRC belongs to; once the peer reports on it, it knows.
    async def run() -> list[bytes | None]:
        a, b = await connect_pair()
        arrived: list[bytes] = []
        b.set_handlers(on_rtp=arrived.append, on_rtcp=lambda _: None)
        ids = HeaderExtensionIds(mid=4)
        session = RtpSession(a, extension_ids=ids)
        sender = session.add_sender(kind="video", clock_rate_hz=90000, mid="1")
        for sequence in range(2):
            await sender.send(RtpPayload(sequence, 0, 96, b"v"))
        sender.on_report_block(_native.RtcpReportBlock(ssrc=sender.ssrc))
        await sender.send(RtpPayload(2, 0, 96, b"v"))
        await _settle(lambda: len(arrived) == 3)
        await a.close()
        await b.close()
        return [_native.RtpPacket.parse(data).get_extension(ids.mid) for data in arrived]

    assert asyncio.run(run()) == [b"1", b"1", None]
