"""One WebRTC transport: ICE (RFC 8445) for the path, DTLS-SRTP (RFC 5764)
for the keys, SRTP/SRTCP (RFC 3711) for the packets, RTP and RTCP on one
port (RFC 5761), from aiortc and aioice.

    gather() -> TransportParameters  --signaling-->  connect(remote, ...)
    send(packet)  /  on_rtp(packet), on_rtcp(compound)   (plain bytes)

Only the transport is aiortc's: what travels over it is parsed and built by
the native engine (see :mod:`cloudlink.rtc.rtp_session`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiortc
import aiortc.sdp

from cloudlink.errors import InvalidRequestError, RtpError
from cloudlink.rtc import _aiortc_internals as internals
from cloudlink.rtc.impairment import Impairment

__all__ = ["PacketTransport", "Transport", "TransportParameters", "connect_pair"]

# Bounds on what a peer may send in the JSON form (signaling input).
_MAX_CANDIDATES: Final = 32
_MAX_FIELD_CHARS: Final = 512
# Kernel receive buffer asked for on each UDP socket. A busy event loop can
# stall for 100-200 ms; at a meeting's 10-20 Mbit/s into one process that
# is up to ~500 KB, past aioice's 256 KiB (the kernel then drops datagrams,
# and the NACKs and keyframes that follow load the loop further). Linux
# doubles the request, within net.core.rmem_max (often 4 MiB or less).
_RECEIVE_BUFFER_BYTES: Final = 2 * 1024 * 1024

logger = logging.getLogger(__name__)

PacketHandler = Callable[[bytes], None]


class PacketTransport(Protocol):
    """What an RTP session needs of its transport: :class:`Transport`, or
    anything that carries one (a client's transport that survives ICE
    restarts)."""

    async def send(self, packet: bytes) -> None: ...

    def set_handlers(self, *, on_rtp: PacketHandler, on_rtcp: PacketHandler) -> None: ...


@dataclass(frozen=True)
class TransportParameters:
    """What one side sends the other through signaling: ICE credentials
    and candidates, and the DTLS certificate fingerprints."""

    ice: aiortc.RTCIceParameters
    dtls: aiortc.RTCDtlsParameters
    candidates: tuple[aiortc.RTCIceCandidate, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON form signaling carries (docs/signaling.md): ICE
        credentials, SHA fingerprints and SDP ``candidate:`` lines."""
        return {
            "ice": {
                "usernameFragment": self.ice.usernameFragment,
                "password": self.ice.password,
            },
            "dtls": {
                "fingerprints": [
                    {"algorithm": f.algorithm, "value": f.value} for f in self.dtls.fingerprints
                ]
            },
            "candidates": ["candidate:" + aiortc.sdp.candidate_to_sdp(c) for c in self.candidates],
        }

    @classmethod
    def from_json(cls, value: Any) -> TransportParameters:
        """Reads :meth:`to_json`'s form; InvalidRequestError (code
        ``invalid_transport``) for anything else."""
        try:
            ice, dtls, lines = value["ice"], value["dtls"], value["candidates"]
            ufrag, password = _text(ice["usernameFragment"]), _text(ice["password"])
            fingerprints = [
                aiortc.RTCDtlsFingerprint(algorithm=_text(f["algorithm"]), value=_text(f["value"]))
                for f in dtls["fingerprints"]
            ]
            if not isinstance(lines, list) or len(lines) > _MAX_CANDIDATES or not fingerprints:
                raise ValueError("between 0 and 32 candidates and one fingerprint at least")
            candidates = tuple(_candidate(_text(line)) for line in lines)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise InvalidRequestError(
                f"malformed transport parameters: {error}", code="invalid_transport"
            ) from None
        return cls(
            ice=aiortc.RTCIceParameters(usernameFragment=ufrag, password=password),
            dtls=aiortc.RTCDtlsParameters(fingerprints=fingerprints),
            candidates=candidates,
        )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_FIELD_CHARS:
        raise ValueError(f"expected a string of 1..{_MAX_FIELD_CHARS} characters")
    return value


def _candidate(line: str) -> aiortc.RTCIceCandidate:
    # aiortc's parser takes the attribute value without its "candidate:" name,
    # and asserts on a short line.
    try:
        candidate = aiortc.sdp.candidate_from_sdp(line.removeprefix("candidate:"))
    except AssertionError:
        raise ValueError(f"short candidate {line!r}") from None
    if candidate.protocol.lower() not in ("udp", "tcp") or not 0 < candidate.port < 65536:
        raise ValueError(f"unusable candidate {line!r}")
    return candidate


class Transport:
    """ICE + DTLS-SRTP between this process and one peer.

    ``loopback`` adds a 127.0.0.1 host candidate (aioice gathers none), so
    two peers on one machine connect. ``ice_servers`` are STUN/TURN URLs;
    none by default, so nothing leaves the machine unasked.
    """

    def __init__(self, *, loopback: bool = True, ice_servers: Sequence[str] = ()) -> None:
        servers = [aiortc.RTCIceServer(url) for url in ice_servers]
        self._gatherer = aiortc.RTCIceGatherer(iceServers=servers)
        self._ice = aiortc.RTCIceTransport(self._gatherer)
        self._certificate = aiortc.RTCCertificate.generateCertificate()
        self._dtls = aiortc.RTCDtlsTransport(self._ice, [self._certificate])
        self._loopback = loopback
        self._on_rtp: PacketHandler | None = None
        self._on_rtcp: PacketHandler | None = None
        internals.hook_dtls_media(self._dtls, on_rtp=self._rtp, on_rtcp=self._rtcp)
        self.packets_sent = 0
        self.packets_not_sent = 0
        self.bytes_sent = 0
        self.packets_received = 0
        self.bytes_received = 0
        # A simulated lossy path on either side (tests, benchmarks, the demo).
        self.uplink: Impairment | None = None
        self._downlink: Impairment | None = None
        self._stop_filter: Callable[[], None] | None = None

    @property
    def dtls(self) -> aiortc.RTCDtlsTransport:
        """aiortc's DTLS transport underneath (for aiortc's own senders)."""
        return self._dtls

    @property
    def downlink(self) -> Impairment | None:
        """A simulated path on what this transport receives: SRTP packets
        are lost or delayed before decryption, as on a real network (so a
        retransmission of a lost packet is not taken for a replay)."""
        return self._downlink

    @downlink.setter
    def downlink(self, impairment: Impairment | None) -> None:
        self._downlink = impairment
        if impairment is not None and self._stop_filter is None:
            self._stop_filter = internals.filter_received_datagrams(self._gatherer, self._impair)
        elif impairment is None and self._stop_filter is not None:
            self._stop_filter()
            self._stop_filter = None

    def _impair(self, data: bytes, forward: Callable[[bytes], None]) -> None:
        downlink = self._downlink
        # RFC 7983: a first byte of 128..191 is RTP or RTCP; DTLS and STUN pass.
        if downlink is not None and data and 127 < data[0] < 192:
            downlink.deliver(data, forward)
        else:
            forward(data)

    @property
    def connected(self) -> bool:
        """True once DTLS has set up the SRTP keys, until closed."""
        return self._dtls.state == "connected"

    def set_handlers(self, *, on_rtp: PacketHandler, on_rtcp: PacketHandler) -> None:
        """Where decrypted RTP packets and RTCP compounds go."""
        self._on_rtp, self._on_rtcp = on_rtp, on_rtcp

    async def gather(self) -> TransportParameters:
        """Gathers the local candidates (host, plus 127.0.0.1 with
        ``loopback``) and returns what the peer needs to connect."""
        await self._gatherer.gather()
        candidates = list(self._gatherer.getLocalCandidates())
        if self._loopback and not any(c.ip == internals.LOOPBACK_ADDRESS for c in candidates):
            candidates += await internals.add_host_candidates(
                self._gatherer, [internals.LOOPBACK_ADDRESS]
            )
        internals.set_receive_buffer(self._gatherer, size_bytes=_RECEIVE_BUFFER_BYTES)
        return TransportParameters(
            ice=self._gatherer.getLocalParameters(),
            dtls=self._dtls.getLocalParameters(),
            candidates=tuple(candidates),
        )

    async def connect(self, remote: TransportParameters, *, controlling: bool) -> None:
        """Runs ICE checks against ``remote``'s candidates, then the DTLS
        handshake; exactly one side is ``controlling`` (it becomes the DTLS
        server). ConnectionError when either fails."""
        internals.set_ice_role(self._gatherer, controlling=controlling)
        for candidate in remote.candidates:
            await self._ice.addRemoteCandidate(candidate)
        await self._ice.addRemoteCandidate(None)
        await self._ice.start(remote.ice)
        if self._ice.state != "completed":
            raise ConnectionError(f"ICE failed [state:{self._ice.state}]")
        await self._dtls.start(remote.dtls)
        if self._dtls.state != "connected":
            raise ConnectionError(f"DTLS failed [state:{self._dtls.state}]")
        logger.info("connected [role:%s]", self._ice.role)

    async def send(self, packet: bytes) -> None:
        """Sends one RTP packet or RTCP compound, SRTP-protected. A packet
        sent before connect or after close, or one SRTP cannot protect, is
        dropped, counted in ``packets_not_sent`` and logged at debug."""
        if self.uplink is not None:
            await self.uplink.send(packet, self._send_now)
        else:
            await self._send_now(packet)

    async def _send_now(self, packet: bytes) -> None:
        try:
            await internals.send_srtp(self._dtls, packet)
        except (ConnectionError, RtpError) as error:
            self.packets_not_sent += 1
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("dropped [bytes:%d]: %s", len(packet), error)
            return
        self.packets_sent += 1
        self.bytes_sent += len(packet)

    # TODO(#5): no ICE restart (RFC 8445 section 9): a network change ends the transport; the
    # client of item 4 must build a new one and renegotiate.
    async def close(self) -> None:
        """Ends DTLS (close_notify) and ICE."""
        await self._dtls.stop()
        await self._ice.stop()

    def _rtp(self, data: bytes) -> None:
        self.packets_received += 1
        self.bytes_received += len(data)
        if self._on_rtp is not None:
            self._on_rtp(data)

    def _rtcp(self, data: bytes) -> None:
        self.packets_received += 1
        self.bytes_received += len(data)
        if self._on_rtcp is not None:
            self._on_rtcp(data)


async def connect_pair() -> tuple[Transport, Transport]:
    """Two transports of this process connected to each other over UDP on
    loopback (the first controlling): for tests, benchmarks, local calls."""
    a, b = Transport(loopback=True), Transport(loopback=True)
    params_a, params_b = await asyncio.gather(a.gather(), b.gather())
    await asyncio.gather(
        a.connect(params_b, controlling=True), b.connect(params_a, controlling=False)
    )
    return a, b
