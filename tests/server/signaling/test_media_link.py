"""The SFU's end of a participant's transport: packets both ways over a real
transport, and a bounded queue that drops and counts instead of blocking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cloudlink.rtc.transport import Transport
from cloudlink.server.signaling.media_link import MediaLink


def _rtp(sequence: int, *, ssrc: int = 0x1234) -> bytes:
    """A minimal RTP packet (RFC 3550 section 5.1), payload type 96."""
    header = bytes([0x80, 96]) + sequence.to_bytes(2, "big") + (sequence * 3000).to_bytes(4, "big")
    return header + ssrc.to_bytes(4, "big") + b"\x10payload"


async def _until(condition: Callable[[], object]) -> None:
    """Polls ``condition`` on the event loop; fails after 20 s (a safety net)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_packets_flow_both_ways_and_a_full_queue_drops() -> None:
    from_participant: list[bytes] = []
    link = MediaLink(on_rtp=from_participant.append, on_rtcp=lambda _: None, queue_packets=4)
    participant = Transport(loopback=True)
    to_participant: list[bytes] = []
    participant.set_handlers(on_rtp=to_participant.append, on_rtcp=lambda _: None)
    try:
        # Before a transport connects, the room's packets are dropped and counted.
        link.send_rtp(_rtp(1))
        assert link.packets_dropped_unconnected == 1

        local = await participant.gather()
        remote = await link.open(local)
        await participant.connect(remote, controlling=False)
        await _until(lambda: link.connected)

        # Ten sends in a row, without yielding: four fit, six are dropped.
        for sequence in range(10):
            link.send_rtp(_rtp(sequence))
        assert link.packets_dropped_full == 6
        await _until(lambda: len(to_participant) == 4)
        assert [int.from_bytes(p[2:4], "big") for p in to_participant] == [0, 1, 2, 3]

        await participant.send(_rtp(77, ssrc=0x5678))
        await _until(lambda: from_participant)
        assert int.from_bytes(from_participant[0][8:12], "big") == 0x5678
    finally:
        await link.close()
        await participant.close()
    assert not link.connected
    link.send_rtp(_rtp(2))
    assert link.packets_dropped_unconnected == 2
