"""Every use CloudLink makes of aiortc's and aioice's internals, in one place.

aiortc 1.16.0 and aioice 0.13.0 are pinned in pyproject.toml;
tests/rtc/test_aiortc_internals.py fails when an upgrade changes anything
this module relies on:

- ``RTCIceGatherer._connection`` is the aioice ``Connection`` behind the
  ORTC objects; its ``ice_controlling`` flag is the ICE role (RFC 8445
  section 6.1.1), which aiortc's public ORTC API leaves to
  ``RTCPeerConnection``.
- aioice's ``get_host_addresses`` skips 127.0.0.1, so two peers on one
  machine with no other interface could never connect.
  ``Connection.get_component_candidates`` binds a host candidate on any
  address we name, and ``Connection._local_candidates`` is where gathered
  candidates live.
- ``RTCDtlsTransport`` decrypts SRTP/SRTCP in ``_recv_next`` and hands the
  plain packet to ``_handle_rtp_data(data, arrival_time_ms=...)`` or
  ``_handle_rtcp_data(data)``, both awaited, which would parse it with
  aiortc's own classes and route it to aiortc's receivers. Replacing the two
  on the instance gives us the raw bytes, parsed once by the native engine.
  ``_send_rtp(data)`` protects an RTP or RTCP packet (RFC 5761
  demultiplexing) and sends it, letting pylibsrtp's errors through.
- aioice's ``Connection`` queues each datagram it receives as
  ``(data, component)`` with ``self._queue.put_nowait`` (None once closed),
  and ``recvfrom``, which the DTLS transport reads through, takes them from
  that queue: replacing ``put_nowait`` on the queue instance puts a filter
  (a simulated downlink) in front of DTLS and SRTP, even under a read
  already waiting.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Final

import aioice
import aiortc
import pylibsrtp

from cloudlink.errors import RtpError

__all__ = [
    "AIOICE_VERSION",
    "AIORTC_VERSION",
    "LOOPBACK_ADDRESS",
    "add_host_candidates",
    "attach_remote_track",
    "filter_received_datagrams",
    "hook_dtls_media",
    "send_srtp",
    "set_ice_role",
    "set_receive_buffer",
    "unhook_dtls_media",
]

AIORTC_VERSION: Final = "1.16.0"
AIOICE_VERSION: Final = "0.13.0"
LOOPBACK_ADDRESS: Final = "127.0.0.1"
# ICE component of RTP (RFC 8445 section 4.1.1.1); with rtcp-mux (RFC 5761)
# it carries RTCP too.
_RTP_COMPONENT: Final = 1

# What the hooked DTLS transport calls with each decrypted packet.
RawHandler = Callable[[bytes], None]
# Takes each received datagram and a function that passes it on (now, later or never).
DatagramFilter = Callable[[bytes, Callable[[bytes], None]], None]


def set_ice_role(gatherer: aiortc.RTCIceGatherer, *, controlling: bool) -> None:
    """Sets the ICE role of the transport built on ``gatherer``; the DTLS
    role follows it (controlling: DTLS server)."""
    gatherer._connection.ice_controlling = controlling


def set_receive_buffer(gatherer: aiortc.RTCIceGatherer, *, size_bytes: int) -> list[int]:
    """Asks for ``size_bytes`` of kernel receive buffer (SO_RCVBUF) on every
    socket the ICE connection of ``gatherer`` has bound; returns what each
    socket got (Linux doubles the request, capped by net.core.rmem_max)."""
    granted = []
    for protocol in gatherer._connection._protocols:
        sock = protocol.transport.get_extra_info("socket")
        if sock is None:
            continue
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < size_bytes:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size_bytes)
        granted.append(int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)))
    return granted


async def add_host_candidates(
    gatherer: aiortc.RTCIceGatherer, addresses: list[str]
) -> list[aiortc.RTCIceCandidate]:
    """Binds a host candidate on each of ``addresses`` (127.0.0.1 among
    them, which aioice leaves out) after ``gatherer.gather()``; returns the
    new candidates."""
    connection = gatherer._connection
    found = await connection.get_component_candidates(component=_RTP_COMPONENT, addresses=addresses)
    connection._local_candidates += found
    return [aiortc.rtcicetransport.candidate_from_aioice(c) for c in found]


def hook_dtls_media(
    dtls: aiortc.RTCDtlsTransport, *, on_rtp: RawHandler, on_rtcp: RawHandler
) -> None:
    """Routes every decrypted RTP packet of ``dtls`` to ``on_rtp`` and every
    RTCP compound to ``on_rtcp``, as bytes, instead of aiortc's parsers."""

    async def handle_rtp(data: bytes, arrival_time_ms: int) -> None:
        on_rtp(data)

    async def handle_rtcp(data: bytes) -> None:
        on_rtcp(data)

    dtls._handle_rtp_data = handle_rtp  # type: ignore[method-assign]
    dtls._handle_rtcp_data = handle_rtcp  # type: ignore[method-assign]


def filter_received_datagrams(
    gatherer: aiortc.RTCIceGatherer, datagram_filter: DatagramFilter
) -> Callable[[], None]:
    """Makes every datagram the ICE connection of ``gatherer`` receives pass
    through ``datagram_filter`` before anything reads it (DTLS, SRTP).
    Returns the function that removes the filter."""
    queue = gatherer._connection._queue
    put = queue.put_nowait

    def filtered_put(item: tuple[bytes, int] | None) -> None:
        if item is None:  # the connection closed: the reader must hear it
            put(item)
            return
        data, component = item
        datagram_filter(data, lambda passed: put((passed, component)))

    queue.put_nowait = filtered_put  # type: ignore[method-assign]

    def remove() -> None:
        vars(queue).pop("put_nowait", None)

    return remove


def unhook_dtls_media(dtls: aiortc.RTCDtlsTransport) -> None:
    """Gives ``dtls`` back its own RTP/RTCP routing (to aiortc's
    RTCRtpReceiver and RTCRtpSender), undoing :func:`hook_dtls_media`."""
    for name in ("_handle_rtp_data", "_handle_rtcp_data"):
        vars(dtls).pop(name, None)


def attach_remote_track(receiver: aiortc.RTCRtpReceiver, kind: str) -> None:
    """Gives an ORTC-style ``RTCRtpReceiver`` the remote track that
    ``RTCPeerConnection`` would (``receive()`` needs it); benchmarks run
    aiortc's own RTP path this way."""
    receiver._track = aiortc.rtcrtpreceiver.RemoteStreamTrack(kind=kind)


async def send_srtp(dtls: aiortc.RTCDtlsTransport, data: bytes) -> None:
    """Protects one RTP packet or RTCP compound with SRTP and sends it;
    ConnectionError unless the DTLS transport is connected, RtpError when
    libsrtp refuses the packet (too short or malformed to protect)."""
    try:
        await dtls._send_rtp(data)
    except pylibsrtp.Error as error:
        raise RtpError(f"SRTP refused the packet: {error}") from error


def installed_versions() -> tuple[str, str]:
    """(aiortc, aioice) as installed."""
    return str(aiortc.__version__), str(aioice.__version__)
