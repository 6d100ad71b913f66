"""Guards for what cloudlink.rtc._aiortc_internals relies on in aiortc and
aioice: each test fails when an upgrade changes one of those internals."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import socket

import aioice
import aioice.ice
import aiortc
import aiortc.rtcdtlstransport
import aiortc.rtcicetransport

from cloudlink import _native
from cloudlink.rtc import _aiortc_internals as internals
from cloudlink.rtc.transport import Transport, connect_pair


def test_the_pinned_versions_are_installed() -> None:
    assert importlib.metadata.version("aiortc") == internals.AIORTC_VERSION
    assert importlib.metadata.version("aioice") == internals.AIOICE_VERSION
    assert internals.installed_versions() == (internals.AIORTC_VERSION, internals.AIOICE_VERSION)


def test_aioice_still_leaves_loopback_out_of_host_addresses() -> None:
    # The reason add_host_candidates exists; if this fails, aioice may now
    # gather 127.0.0.1 itself and Transport would add it twice (it checks).
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    assert '"127.0.0.1"' in inspect.getsource(aioice.ice.get_host_addresses)


def test_the_gatherer_exposes_its_aioice_connection() -> None:
    gatherer = aiortc.RTCIceGatherer(iceServers=[])
    connection = gatherer._connection
    assert isinstance(connection, aioice.Connection)
    assert isinstance(connection.ice_controlling, bool)
    assert connection._local_candidates == []
    parameters = inspect.signature(aioice.Connection.get_component_candidates).parameters
    assert list(parameters)[:3] == ["self", "component", "addresses"]
    assert callable(aiortc.rtcicetransport.candidate_from_aioice)
    internals.set_ice_role(gatherer, controlling=True)
    assert aiortc.RTCIceTransport(gatherer).role == "controlling"


def test_loopback_candidate_is_added_and_listed() -> None:
    async def gather() -> list[str]:
        transport = Transport(loopback=True)
        parameters = await transport.gather()
        await transport.close()
        return [c.ip for c in parameters.candidates]

    assert "127.0.0.1" in asyncio.run(gather())


def test_the_dtls_transport_hands_decrypted_packets_to_the_two_hooks() -> None:
    # _recv_next calls self._handle_rtcp_data(data) and
    # self._handle_rtp_data(data, arrival_time_ms=...) after unprotecting;
    # _send_rtp(data) protects and sends.
    source = inspect.getsource(aiortc.rtcdtlstransport.RTCDtlsTransport._recv_next)
    assert "self._rx_srtp.unprotect_rtcp(data)" in source
    assert "await self._handle_rtcp_data(data)" in source
    assert "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)" in source
    cls = aiortc.rtcdtlstransport.RTCDtlsTransport
    assert list(inspect.signature(cls._handle_rtp_data).parameters) == [
        "self",
        "data",
        "arrival_time_ms",
    ]
    assert list(inspect.signature(cls._handle_rtcp_data).parameters) == ["self", "data"]
    assert list(inspect.signature(cls._send_rtp).parameters) == ["self", "data"]
    assert inspect.iscoroutinefunction(cls._send_rtp)


def test_raw_rtp_and_rtcp_cross_srtp_unchanged() -> None:
    rtp = _native.RtpPacket(
        payload_type=96, sequence_number=7, timestamp=9, ssrc=5, payload=b"x" * 100
    ).serialize()
    rtcp = _native.RtcpPli(sender_ssrc=1, media_ssrc=5).serialize()

    async def exchange() -> tuple[list[bytes], list[bytes]]:
        a, b = await connect_pair()
        got_rtp: list[bytes] = []
        got_rtcp: list[bytes] = []
        b.set_handlers(on_rtp=got_rtp.append, on_rtcp=got_rtcp.append)
        await a.send(rtp)
        await a.send(rtcp)
        for _ in range(100):
            if got_rtp and got_rtcp:
                break
            await asyncio.sleep(0.01)
        await a.close()
        await b.close()
        return got_rtp, got_rtcp

    got_rtp, got_rtcp = asyncio.run(exchange())
    assert got_rtp == [rtp]
    assert got_rtcp == [rtcp]


def test_unhook_gives_aiortc_its_routing_back() -> None:
    async def check() -> None:
        transport = Transport()
        dtls = transport.dtls
        cls = aiortc.rtcdtlstransport.RTCDtlsTransport
        assert "_handle_rtp_data" in vars(dtls)  # hooked on the instance
        internals.unhook_dtls_media(dtls)
        assert dtls._handle_rtp_data.__func__ is cls._handle_rtp_data  # type: ignore[attr-defined]
        handler = dtls._handle_rtcp_data
        assert handler.__func__ is cls._handle_rtcp_data  # type: ignore[attr-defined]
        await transport.close()

    asyncio.run(check())


def test_an_ortc_receiver_gets_the_track_receive_needs() -> None:
    # RTCRtpReceiver.receive() hands self._track._queue to its decoder thread.
    assert "self._track._queue" in inspect.getsource(aiortc.RTCRtpReceiver.receive)

    async def check() -> None:
        transport = Transport()
        receiver = aiortc.RTCRtpReceiver("audio", transport.dtls)
        internals.attach_remote_track(receiver, "audio")
        assert receiver.track.kind == "audio"
        assert isinstance(receiver._track._queue, asyncio.Queue)
        await transport.close()

    asyncio.run(check())


def test_received_datagrams_pass_through_the_connections_queue() -> None:
    # filter_received_datagrams replaces put_nowait on the queue that aioice
    # fills with (data, component) and recvfrom reads.
    connection = aiortc.RTCIceGatherer(iceServers=[])._connection
    assert isinstance(connection._queue, asyncio.Queue)
    source = inspect.getsource(aioice.Connection)
    assert "self._queue.put_nowait((data, component))" in source
    assert "self._queue.put_nowait(None)" in source
    assert "result = await self._queue.get()" in inspect.getsource(aioice.Connection.recvfrom)
    assert "self._recv = self._connection.recv" in inspect.getsource(
        aiortc.rtcicetransport.RTCIceTransport.__init__
    )


def test_every_bound_socket_gets_the_receive_buffer_asked_for() -> None:
    # Connection._protocols holds one StunProtocol per socket it bound; its
    # asyncio transport gives the socket.
    assert "self._protocols += host_protocols" in inspect.getsource(
        aioice.Connection.get_component_candidates
    )
    with open("/proc/sys/net/core/rmem_max") as file:
        rmem_max_bytes = int(file.read())
    size_bytes = 1024 * 1024

    async def check() -> tuple[list[int], list[int], int]:
        transport = Transport(loopback=True)
        await transport.gather()
        gatherer = transport._gatherer
        protocols = gatherer._connection._protocols
        assert protocols and all(isinstance(p, aioice.ice.StunProtocol) for p in protocols)
        granted = internals.set_receive_buffer(gatherer, size_bytes=size_bytes)
        sizes = [
            p.transport.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            for p in protocols
        ]
        count = len(protocols)
        await transport.close()
        return granted, sizes, count

    granted, sizes, count = asyncio.run(check())
    assert len(granted) == count
    assert granted == sizes
    # Linux doubles the request (socket(7)), within net.core.rmem_max.
    assert all(size >= 2 * min(size_bytes, rmem_max_bytes) for size in sizes)
