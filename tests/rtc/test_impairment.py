"""A simulated lossy, delayed path on a real transport pair: packets sent
into it are lost at the configured rate and arrive no earlier than the
configured delay, in either direction."""

from __future__ import annotations

import asyncio
import struct
import time

from cloudlink.media.network_sim import NetworkConditions
from cloudlink.rtc.impairment import Impairment
from cloudlink.rtc.transport import connect_pair

_PACKETS = 300


def _rtp(sequence: int) -> bytes:
    # Version 2, payload type 111, the send time (ms) in the payload.
    header = struct.pack("!BBHII", 0x80, 111, sequence, sequence * 960, 0x1234)
    return header + struct.pack("!d", time.monotonic() * 1000.0) + bytes(40)


async def _send_through(*, uplink: bool) -> tuple[list[float], Impairment]:
    a, b = await connect_pair()
    path = Impairment(NetworkConditions(loss_pct=30.0, base_delay_ms=40.0, seed=5))
    delays_ms: list[float] = []

    def arrived(packet: bytes) -> None:
        (sent_ms,) = struct.unpack_from("!d", packet, 12)
        delays_ms.append(time.monotonic() * 1000.0 - sent_ms)

    b.set_handlers(on_rtp=arrived, on_rtcp=lambda _packet: None)
    if uplink:
        a.uplink = path
    else:
        b.downlink = path
    try:
        for sequence in range(_PACKETS):
            await a.send(_rtp(sequence))
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.3)
    finally:
        await a.close()
        await b.close()
    return delays_ms, path


async def test_uplink_loses_and_delays() -> None:
    delays_ms, path = await _send_through(uplink=True)
    assert path.packets_dropped + len(delays_ms) == _PACKETS
    # 30% of 300: four standard deviations either side.
    assert 60 <= path.packets_dropped <= 120
    assert min(delays_ms) >= 39.0
    assert path.packets_delayed == len(delays_ms)


async def test_downlink_loses_and_delays() -> None:
    delays_ms, path = await _send_through(uplink=False)
    assert path.packets_dropped + len(delays_ms) == _PACKETS
    assert 60 <= path.packets_dropped <= 120
    assert min(delays_ms) >= 39.0


async def test_a_clean_path_delivers_everything_at_once() -> None:
    a, b = await connect_pair()
    arrived: list[bytes] = []
    b.set_handlers(on_rtp=arrived.append, on_rtcp=lambda _packet: None)
    b.downlink = Impairment(NetworkConditions(base_delay_ms=0.0))
    try:
        for sequence in range(50):
            await a.send(_rtp(sequence))
        await asyncio.sleep(0.2)
    finally:
        await a.close()
        await b.close()
    assert len(arrived) == 50
    assert b.downlink.packets_delayed == 0


async def test_a_retransmission_of_a_packet_lost_downlink_gets_through() -> None:
    # The downlink loses packets before SRTP decryption, as a network does:
    # the same packet sent again is not refused as a replay.
    a, b = await connect_pair()
    arrived: list[int] = []
    b.set_handlers(
        on_rtp=lambda packet: arrived.append(struct.unpack_from("!H", packet, 2)[0]),
        on_rtcp=lambda _packet: None,
    )
    b.downlink = Impairment(NetworkConditions(loss_pct=50.0, base_delay_ms=0.0, seed=3))
    try:
        packets = [_rtp(sequence) for sequence in range(40)]
        for packet in packets:
            await a.send(packet)
        await asyncio.sleep(0.2)
        lost = sorted(set(range(40)) - set(arrived))
        assert lost, "the path lost nothing"
        b.downlink = None
        for sequence in lost:
            await a.send(packets[sequence])
        await asyncio.sleep(0.2)
    finally:
        await a.close()
        await b.close()
    assert sorted(arrived) == list(range(40))
