"""The RTP session over one transport: the streams this side sends and
receives, and the RTCP between them (RFC 3550 section 6, RFC 4585, RFC
5104, REMB).

- incoming RTP is parsed once by the native engine and routed by SSRC (a
  receiver not yet bound takes the first SSRC of its payload types);
- every ``rtcp_interval_ms`` (randomised by half either way, RFC 3550
  section 6.3.1) one compound goes out: an SR per sending stream (the
  first carries a report block per received stream) or an RR, an SDES
  CNAME, and a REMB with the bandwidth estimate for the peer's streams;
- NACK and PLI go out at once as they are asked for (RFC 4585 section
  3.5.2 early feedback, in the reduced size of RFC 5506);
- every ``transport_feedback_interval_ms``, transport-wide feedback
  (TWCC) on the packets that arrived (:mod:`cloudlink.rtc.transport_feedback`);
- incoming report blocks give each sending stream its loss, jitter and
  round-trip time; NACK, PLI and FIR go to the sending stream they name;
  incoming TWCC feeds a send-side estimate; the lower of it and the peer's
  REMB is shared out among the video streams as their target bitrate.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Callable, Collection, Coroutine
from typing import Any, Final

from cloudlink import _native
from cloudlink.errors import ConfigError, RtpError
from cloudlink.rtc import header_extensions as ext
from cloudlink.rtc.bandwidth_estimator import BandwidthEstimator
from cloudlink.rtc.rtp_receiver import Kind, PayloadHandler, RtpReceiver
from cloudlink.rtc.rtp_sender import RtpSender
from cloudlink.rtc.shared_ticks import SharedTicks
from cloudlink.rtc.transport import PacketTransport
from cloudlink.rtc.transport_feedback import SentPacketLog, TransportFeedbackBuilder

__all__ = ["RtpSession"]

logger = logging.getLogger(__name__)

# What an audio stream is assumed to take of a bandwidth estimate: 32 kbit/s of
# Opus, RED doubling it, and ~16 kbit/s of IP/UDP/SRTP headers at 50 packets/s.
_AUDIO_SHARE_BPS: Final = 80_000
# Fewer bits than this to a video stream would leave the encoder nothing useful.
_MIN_VIDEO_BITRATE_BPS: Final = 50_000
# RFC 3550 section 6.4: at most 31 report blocks in one SR or RR.
_MAX_REPORT_BLOCKS: Final = 31


class RtpSession:
    """RTP and RTCP of one peer connection, over ``transport``; made
    inside the running event loop, whose clock it keeps."""

    def __init__(
        self,
        transport: PacketTransport,
        *,
        cname: str | None = None,
        extension_ids: ext.HeaderExtensionIds | None = None,
        rtcp_interval_ms: float = 500.0,
        transport_feedback_interval_ms: float = 100.0,
        estimator: BandwidthEstimator | None = None,
        send_side_estimator: BandwidthEstimator | None = None,
    ) -> None:
        for name, value in (
            ("rtcp_interval_ms", rtcp_interval_ms),
            ("transport_feedback_interval_ms", transport_feedback_interval_ms),
        ):
            if not value > 0.0:
                raise ConfigError(f"{name} must be positive, got {value}")
        self.transport = transport
        self.cname = cname or secrets.token_hex(8)
        self.extension_ids = extension_ids or ext.HeaderExtensionIds()
        self.rtcp_interval_ms = rtcp_interval_ms
        self.transport_feedback_interval_ms = transport_feedback_interval_ms
        self.estimator = estimator or BandwidthEstimator()
        self.send_side_estimator = send_side_estimator or BandwidthEstimator()
        self.feedback_builder = TransportFeedbackBuilder()
        self.sent_log = SentPacketLog()
        self.rtcp_ssrc = secrets.randbits(32)
        self._loop = asyncio.get_running_loop()
        self._start_s = self._loop.time()
        self._senders: dict[int, RtpSender] = {}
        self._receivers: list[RtpReceiver] = []
        self._receivers_by_ssrc: dict[int, RtpReceiver] = {}
        self._transport_sequence = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._rtcp_task: asyncio.Task[None] | None = None
        self._feedback_task: asyncio.Task[None] | None = None
        self._shared_ticks: dict[float, SharedTicks] = {}
        self.remote_estimate_bps: int | None = None
        self.send_side_estimate_bps: int | None = None
        self.on_remote_estimate: Callable[[int], None] | None = None
        self.video_bitrate_listeners: dict[int, Callable[[int], None]] = {}
        self.rtcp_packets_sent = 0
        self.rtcp_packets_received = 0
        self.packets_malformed = 0
        self.packets_unknown_ssrc = 0
        transport.set_handlers(on_rtp=self._on_rtp, on_rtcp=self._on_rtcp)

    def now_ms(self) -> float:
        """The session's clock: ms since it was made (event-loop time)."""
        return (self._loop.time() - self._start_s) * 1000.0

    def shared_ticks(self, period_ms: float) -> SharedTicks:
        """The session's one tick every ``period_ms`` on its clock, shared
        by the streams that step on it (playout, polls)."""
        ticks = self._shared_ticks.get(period_ms)
        if ticks is None:
            ticks = self._shared_ticks[period_ms] = SharedTicks(self.now_ms, period_ms=period_ms)
        return ticks

    def add_sender(
        self, *, kind: Kind, clock_rate_hz: int, ssrc: int | None = None, mid: str | None = None
    ) -> RtpSender:
        """A new outgoing stream; ``mid`` names its media section when SDP
        negotiated one (sent in the MID extension if agreed)."""
        sender = RtpSender(
            mid=mid,
            kind=kind,
            clock_rate_hz=clock_rate_hz,
            send=self.transport.send,
            now_ms=self.now_ms,
            next_transport_sequence=self._next_transport_sequence,
            extension_ids=self.extension_ids,
            ssrc=ssrc,
            on_sent=self.sent_log.on_sent,
        )
        self._senders[sender.ssrc] = sender
        return sender

    def add_receiver(
        self,
        *,
        kind: Kind,
        clock_rate_hz: int,
        payload_types: Collection[int],
        on_payload: PayloadHandler,
        ssrc: int | None = None,
    ) -> RtpReceiver:
        """A new incoming stream of ``payload_types``; ``ssrc`` None takes
        the first SSRC that arrives with one of them."""
        receiver = RtpReceiver(
            kind=kind,
            clock_rate_hz=clock_rate_hz,
            payload_types=payload_types,
            on_payload=on_payload,
            extension_ids=self.extension_ids,
            ssrc=ssrc,
        )
        self._receivers.append(receiver)
        if ssrc is not None:
            self._receivers_by_ssrc[ssrc] = receiver
        return receiver

    def remove_sender(self, sender: RtpSender) -> None:
        """Stops reporting on ``sender``'s stream (after its last packet)."""
        if self._senders.get(sender.ssrc) is sender:
            del self._senders[sender.ssrc]
        self.video_bitrate_listeners.pop(sender.ssrc, None)

    def remove_receiver(self, receiver: RtpReceiver) -> None:
        """Stops receiving (and reporting on) ``receiver``'s stream; its
        packets count as unknown from now on."""
        if receiver in self._receivers:
            self._receivers.remove(receiver)
        if receiver.ssrc is not None and self._receivers_by_ssrc.get(receiver.ssrc) is receiver:
            del self._receivers_by_ssrc[receiver.ssrc]

    @property
    def senders(self) -> list[RtpSender]:
        """The outgoing streams."""
        return list(self._senders.values())

    @property
    def receivers(self) -> list[RtpReceiver]:
        """The incoming streams."""
        return list(self._receivers)

    @property
    def round_trip_time_ms(self) -> float | None:
        """The latest RTT any sending stream measured (None before one)."""
        rtts = [s.round_trip_time_ms for s in self._senders.values() if s.round_trip_time_ms]
        return min(rtts) if rtts else None

    def start(self) -> None:
        """Starts sending RTCP reports and transport feedback."""
        if self._rtcp_task is None:
            self._rtcp_task = self._loop.create_task(self._rtcp_loop())
            self._feedback_task = self._loop.create_task(self._feedback_loop())

    async def close(self) -> None:
        """Says BYE for every sending stream and stops RTCP."""
        for task in (self._rtcp_task, self._feedback_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._rtcp_task = self._feedback_task = None
        ssrcs = list(self._senders) or [self.rtcp_ssrc]
        await self._send_rtcp([self._receiver_report(), _native.RtcpBye(ssrcs=ssrcs)])
        for task in list(self._tasks):
            task.cancel()

    async def send_nack(self, receiver: RtpReceiver, sequence_numbers: list[int]) -> None:
        """RFC 4585 section 6.2.1: asks the peer for these packets again."""
        if receiver.ssrc is None or not sequence_numbers:
            return
        receiver.nack_count += 1
        nack = _native.RtcpNack(
            sender_ssrc=self._local_ssrc(),
            media_ssrc=receiver.ssrc,
            sequence_numbers=sequence_numbers,
        )
        await self._send_rtcp([nack])

    async def send_pli(self, receiver: RtpReceiver) -> None:
        """RFC 4585 section 6.3.1: asks the peer for a keyframe."""
        if receiver.ssrc is None:
            return
        receiver.pli_count += 1
        pli = _native.RtcpPli(sender_ssrc=self._local_ssrc(), media_ssrc=receiver.ssrc)
        await self._send_rtcp([pli])

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Runs ``coroutine`` as a task the session keeps until it ends."""
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- receiving ---

    def _on_rtp(self, data: bytes) -> None:
        arrival_ms = self.now_ms()
        try:
            packet = _native.RtpPacket.parse(data)
        except RtpError as error:
            self.packets_malformed += 1
            logger.debug("malformed rtp: %s", error)
            return
        receiver = self._receivers_by_ssrc.get(packet.ssrc)
        if receiver is None:
            receiver = self._bind_receiver(packet)
            if receiver is None:
                self.packets_unknown_ssrc += 1
                return
        if self.extension_ids.transport_sequence:
            element = packet.get_extension(self.extension_ids.transport_sequence)
            if element is not None and len(element) == 2:
                self.feedback_builder.on_packet(ext.parse_transport_sequence(element), arrival_ms)
        send_time_ms = None
        if self.extension_ids.abs_send_time:
            element = packet.get_extension(self.extension_ids.abs_send_time)
            if element is not None and len(element) == 3:
                send_time_ms = ext.abs_send_time_ms(element)
        self.estimator.on_packet(
            arrival_ms=arrival_ms, size_bytes=len(data), send_time_ms=send_time_ms
        )
        receiver.on_packet(packet, arrival_ms)

    def _bind_receiver(self, packet: _native.RtpPacket) -> RtpReceiver | None:
        for receiver in self._receivers:
            if receiver.ssrc is None and packet.payload_type in receiver.payload_types:
                receiver.bind(packet.ssrc)
                self._receivers_by_ssrc[packet.ssrc] = receiver
                logger.info("receiving [kind:%s] [ssrc:%d]", receiver.kind, packet.ssrc)
                return receiver
        return None

    def _on_rtcp(self, data: bytes) -> None:
        arrival_ms = self.now_ms()
        try:
            packets = _native.parse_rtcp(data)
        except RtpError as error:
            self.packets_malformed += 1
            logger.debug("malformed rtcp: %s", error)
            return
        self.rtcp_packets_received += 1
        for packet in packets:
            self._handle_rtcp(packet, arrival_ms)

    def _handle_rtcp(self, packet: _native._RtcpPacket, arrival_ms: float) -> None:
        if isinstance(packet, _native.RtcpSenderReport):
            receiver = self._receivers_by_ssrc.get(packet.ssrc)
            if receiver is not None:
                receiver.on_sender_report(packet, arrival_ms)
            self._on_report_blocks(packet.report_blocks)
        elif isinstance(packet, _native.RtcpReceiverReport):
            self._on_report_blocks(packet.report_blocks)
        elif isinstance(packet, _native.RtcpNack):
            sender = self._senders.get(packet.media_ssrc)
            if sender is not None:
                sender.handle_nack(list(packet.sequence_numbers))
        elif isinstance(packet, _native.RtcpPli):
            sender = self._senders.get(packet.media_ssrc)
            if sender is not None:
                sender.handle_keyframe_request(fir=False)
        elif isinstance(packet, _native.RtcpFir):
            # TODO(#5): RFC 5104 4.3.1.2: a repeated FIR (same command sequence number) should
            # not ask for another keyframe; each FIR does today.
            for ssrc, _ in packet.entries:
                sender = self._senders.get(ssrc)
                if sender is not None:
                    sender.handle_keyframe_request(fir=True)
        elif isinstance(packet, _native.RtcpRemb):
            self.remote_estimate_bps = packet.bitrate_bps
            if self.on_remote_estimate is not None:
                self.on_remote_estimate(packet.bitrate_bps)
            self._allocate_bitrate()
        elif isinstance(packet, _native.RtcpTransportFeedback):
            self._on_transport_feedback(packet)
        elif isinstance(packet, _native.RtcpBye):
            logger.info("bye [ssrcs:%s]", list(packet.ssrcs))

    def _on_report_blocks(self, blocks: list[_native.RtcpReportBlock]) -> None:
        for block in blocks:
            sender = self._senders.get(block.ssrc)
            if sender is not None:
                sender.on_report_block(block)

    def _on_transport_feedback(self, feedback: _native.RtcpTransportFeedback) -> None:
        # The send-side estimate runs the same estimator on the arrivals the
        # peer reports (its clock) and our send times; its "now" is the
        # latest arrival, on the peer's clock like the arrivals.
        results = self.sent_log.on_feedback(feedback)
        arrived = [r for r in results if r.arrival_ms is not None]
        if not arrived:
            return
        for result in arrived:
            self.send_side_estimator.on_packet(
                arrival_ms=result.arrival_ms or 0.0,
                size_bytes=result.size_bytes,
                send_time_ms=result.send_ms,
            )
        lost = (len(results) - len(arrived)) / len(results)
        latest_ms = max(r.arrival_ms or 0.0 for r in arrived)
        self.send_side_estimate_bps = self.send_side_estimator.update(latest_ms, fraction_lost=lost)
        self._allocate_bitrate()

    def _allocate_bitrate(self) -> None:
        # The lower of the REMB and send-side estimates covers every stream:
        # audio takes its share first, the rest is split among the video
        # streams.
        estimates = [e for e in (self.remote_estimate_bps, self.send_side_estimate_bps) if e]
        if not estimates:
            return
        bitrate_bps = min(estimates)
        audio = sum(1 for s in self._senders.values() if s.kind == "audio")
        listeners = list(self.video_bitrate_listeners.values())
        if not listeners:
            return
        share = (bitrate_bps - audio * _AUDIO_SHARE_BPS) // len(listeners)
        for listener in listeners:
            listener(max(share, _MIN_VIDEO_BITRATE_BPS))

    # --- sending RTCP ---

    async def _rtcp_loop(self) -> None:
        # TODO(#5): a fixed interval, not RFC 3550 6.3's 5%-of-session-bandwidth rule: fine for
        # two peers, too chatty for an SFU with many receivers.
        while True:
            await asyncio.sleep(self.rtcp_interval_ms * random.uniform(0.5, 1.5) / 1000.0)
            await self._send_rtcp(self._report())

    def _report(self) -> list[_native._RtcpPacket]:
        """The regular compound: SR or RR first, then SDES, then REMB."""
        # Step 1: report blocks of the received streams; the worst loss
        # among them steers the bandwidth estimate.
        now_ms = self.now_ms()
        blocks = [
            block
            for receiver in self._receivers
            if (block := receiver.report_block(now_ms)) is not None
        ][:_MAX_REPORT_BLOCKS]
        worst_loss = max((block.fraction_lost / 256.0 for block in blocks), default=0.0)

        # Step 2: one SR per sending stream, the blocks in the first; an RR
        # if nothing has been sent yet.
        packets: list[_native._RtcpPacket] = []
        for sender in self._senders.values():
            report = sender.sender_report([] if packets else blocks)
            if report is not None:
                packets.append(report)
        if not packets:
            packets.append(
                _native.RtcpReceiverReport(ssrc=self._local_ssrc(), report_blocks=blocks)
            )
        chunks = [
            _native.RtcpSdesChunk(ssrc=ssrc, cname=self.cname)
            for ssrc in (list(self._senders) or [self.rtcp_ssrc])
        ]
        packets.append(_native.RtcpSdes(chunks=chunks))

        # Step 3: REMB for the peer's video (draft-alvestrand-rmcat-remb).
        video_ssrcs = [r.ssrc for r in self._receivers if r.kind == "video" and r.ssrc is not None]
        if video_ssrcs:
            bitrate_bps = self.estimator.update(now_ms, fraction_lost=worst_loss)
            packets.append(
                _native.RtcpRemb(
                    sender_ssrc=self._local_ssrc(), bitrate_bps=bitrate_bps, ssrcs=video_ssrcs
                )
            )
        return packets

    async def _feedback_loop(self) -> None:
        while True:
            await asyncio.sleep(self.transport_feedback_interval_ms / 1000.0)
            media_ssrc = next((r.ssrc for r in self._receivers if r.ssrc is not None), 0)
            feedback = self.feedback_builder.build(
                sender_ssrc=self._local_ssrc(), media_ssrc=media_ssrc
            )
            if feedback is not None:
                await self._send_rtcp([feedback])

    def _receiver_report(self) -> _native.RtcpReceiverReport:
        return _native.RtcpReceiverReport(ssrc=self._local_ssrc(), report_blocks=[])

    async def _send_rtcp(self, packets: list[_native._RtcpPacket]) -> None:
        await self.transport.send(_native.serialize_rtcp(packets))
        self.rtcp_packets_sent += 1

    def _local_ssrc(self) -> int:
        return next(iter(self._senders), self.rtcp_ssrc)

    def _next_transport_sequence(self) -> int:
        sequence = self._transport_sequence
        self._transport_sequence = (sequence + 1) & 0xFFFF
        return sequence
