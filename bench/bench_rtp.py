"""RTP and RTCP parsing and writing: ours beside aiortc's (aiortc.rtp) in one run.

Workload: µs per packet (per compound for RTCP) to parse and to serialize (1) an Opus RTP packet
(80-byte payload) with three header extensions (RFC 6464 audio level,
abs-send-time, transport-wide sequence number; aiortc also decodes them into
fields), (2) a 1200-byte VP8-sized RTP packet with the same extensions,
(3) a sender's compound RTCP (SR with one report block + SDES CNAME) and
(4) a receiver's feedback compound (RR with one report block + generic NACK
of 4 packets + PLI). The best of several repeats is kept; the ratio is
aiortc's time over ours (above 1: ours is faster). Target: at least aiortc's
speed (ratio >= 1) on every line.

    .venv/bin/python bench/bench_rtp.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from aiortc import rtp as aiortc_rtp
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

from cloudlink import _native

AUDIO_LEVEL_ID = 1
ABS_SEND_TIME_ID = 3
TRANSPORT_CC_ID = 5
SSRC_A = 0x11223344
SSRC_B = 0x55667788


def our_rtp(payload_bytes: int) -> bytes:
    packet = _native.RtpPacket(
        payload_type=111,
        sequence_number=4321,
        timestamp=123456789,
        ssrc=SSRC_A,
        marker=True,
        payload=bytes(range(256)) * (payload_bytes // 256) + bytes(payload_bytes % 256),
        extensions={
            AUDIO_LEVEL_ID: bytes([0x80 | 30]),
            ABS_SEND_TIME_ID: (0x123456).to_bytes(3, "big"),
            TRANSPORT_CC_ID: (777).to_bytes(2, "big"),
        },
    )
    return packet.serialize()


def aiortc_extensions_map() -> aiortc_rtp.HeaderExtensionsMap:
    extensions_map = aiortc_rtp.HeaderExtensionsMap()
    extensions_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(
                    id=AUDIO_LEVEL_ID, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"
                ),
                RTCRtpHeaderExtensionParameters(
                    id=ABS_SEND_TIME_ID,
                    uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                ),
                RTCRtpHeaderExtensionParameters(
                    id=TRANSPORT_CC_ID,
                    uri="http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                ),
            ]
        )
    )
    return extensions_map


def sender_compound() -> bytes:
    block = _native.RtcpReportBlock(
        ssrc=SSRC_B, fraction_lost=12, cumulative_lost=34, extended_highest_sequence=70000
    )
    return _native.serialize_rtcp(
        [
            _native.RtcpSenderReport(
                ssrc=SSRC_A,
                ntp_timestamp=0xE1234567_89ABCDEF,
                rtp_timestamp=123456789,
                packet_count=1000,
                octet_count=120000,
                report_blocks=[block],
            ),
            _native.RtcpSdes(chunks=[_native.RtcpSdesChunk(ssrc=SSRC_A, cname="4f2a9c1e@cloud")]),
        ]
    )


def feedback_compound() -> bytes:
    block = _native.RtcpReportBlock(ssrc=SSRC_B, fraction_lost=5, extended_highest_sequence=9)
    return _native.serialize_rtcp(
        [
            _native.RtcpReceiverReport(ssrc=SSRC_A, report_blocks=[block]),
            _native.RtcpNack(
                sender_ssrc=SSRC_A, media_ssrc=SSRC_B, sequence_numbers=[100, 101, 105, 130]
            ),
            _native.RtcpPli(sender_ssrc=SSRC_A, media_ssrc=SSRC_B),
        ]
    )


def best_us(call: Callable[[], object], *, calls: int, repeats: int) -> float:
    """Best mean time of one call over `repeats` runs of `calls` calls, in µs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    calls, repeats = (2_000, 3) if args.quick else (20_000, 7)

    # Interop: the same bytes as aiortc's REMB writer (its FCI after our 12
    # bytes of header and SSRCs).
    for bitrate_bps in [30_000, 1_500_000, 123_456_789]:
        ours_remb = _native.RtcpRemb(sender_ssrc=SSRC_A, bitrate_bps=bitrate_bps, ssrcs=[SSRC_B])
        assert ours_remb.serialize()[12:] == aiortc_rtp.pack_remb_fci(bitrate_bps, [SSRC_B])

    extensions_map = aiortc_extensions_map()
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = []

    # RTP: parse the same bytes; serialize an already parsed packet.
    for name, size in [("rtp opus 80 B", 80), ("rtp video 1200 B", 1200)]:
        data = our_rtp(size)
        ours_packet = _native.RtpPacket.parse(data)
        theirs_packet = aiortc_rtp.RtpPacket.parse(data, extensions_map)
        assert theirs_packet.extensions.audio_level == (True, 30)
        assert ours_packet.serialize() == data
        # aiortc writes the same elements in its own order.
        rewritten = _native.RtpPacket.parse(theirs_packet.serialize(extensions_map))
        assert rewritten.extensions == ours_packet.extensions
        assert rewritten.payload == ours_packet.payload
        cases.append(
            (
                f"{name} parse",
                lambda d=data: _native.RtpPacket.parse(d),
                lambda d=data: aiortc_rtp.RtpPacket.parse(d, extensions_map),
            )
        )
        cases.append(
            (
                f"{name} serialize",
                ours_packet.serialize,
                lambda p=theirs_packet: p.serialize(extensions_map),
            )
        )

    # RTCP: parse a compound; write back the parsed packets.
    for name, data in [
        ("rtcp SR+SDES", sender_compound()),
        ("rtcp RR+NACK+PLI", feedback_compound()),
    ]:
        ours_packets = _native.parse_rtcp(data)
        theirs_packets = aiortc_rtp.RtcpPacket.parse(data)
        assert len(ours_packets) == len(theirs_packets)
        assert b"".join(bytes(p) for p in theirs_packets) == data
        assert _native.serialize_rtcp(ours_packets) == data
        cases.append(
            (
                f"{name} parse",
                lambda d=data: _native.parse_rtcp(d),
                lambda d=data: aiortc_rtp.RtcpPacket.parse(d),
            )
        )
        cases.append(
            (
                f"{name} serialize",
                lambda ps=ours_packets: _native.serialize_rtcp(ps),
                lambda ps=theirs_packets: b"".join(bytes(p) for p in ps),
            )
        )

    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print()
    print(f"{'case':<32} {'ours µs/packet':>15} {'aiortc µs/packet':>17} {'ratio':>7}")
    results: dict[str, dict[str, float]] = {}
    for name, ours, theirs in cases:
        ours_us = best_us(ours, calls=calls, repeats=repeats)
        theirs_us = best_us(theirs, calls=calls, repeats=repeats)
        ratio = theirs_us / ours_us
        verdict = "" if ratio >= 1.0 else "  MISSED (target: ratio >= 1)"
        print(f"{name:<32} {ours_us:>15.2f} {theirs_us:>17.2f} {ratio:>6.1f}x{verdict}")
        results[name] = {
            "ours_us": round(ours_us, 3),
            "aiortc_us": round(theirs_us, 3),
            "ratio": round(ratio, 2),
        }
    print("RESULT " + json.dumps({"bench": "rtp", "quick": args.quick, "cases": results}))


if __name__ == "__main__":
    main()
