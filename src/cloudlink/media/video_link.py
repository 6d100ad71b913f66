"""One video stream from camera to screen over a simulated network, in
virtual time: nothing sleeps, and encoding and decoding take no virtual
time, so what is measured is what the network and the receiver's buffering
cost.

Every ``tick_ms`` of the virtual clock: the sender encodes the frames
captured by then and sends their payloads; the forward path
(cloudlink.media.network_sim) decides when each arrives; the receiver
inserts what has arrived, shows what became decodable and sends back one
RTCP compound packet (RFC 4585: a generic NACK and/or a PLI) when it has
something to ask; the backward path carries it to the sender, which answers
a NACK from its history and a PLI with a keyframe. The round trip is
measured from each NACK to the arrival of the retransmission it asked for;
NACK retries after the receiver's second request (its repeat of the first,
VideoReceivePipeline's nack_repeat_delay_ms) are spaced by the smallest of
the last 32 measured: a retransmission not in by the time the fastest one
took was most likely lost (or its NACK was), and asking again costs a
packet where waiting a mean round trip more costs the picture (at 5% loss
and 40 ms of jitter both ways, the smoothed mean let 2-4 freezes in 10 s
through, the minimum 0-1, for 5% more retransmissions).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.errors import RtpError
from cloudlink.media.network_sim import NetworkConditions, NetworkSimulator
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline

__all__ = ["SentFrame", "ShownFrame", "SimulatedVideoLink", "VideoLinkReport", "VideoReceiver"]

logger = logging.getLogger(__name__)

# Round trips the NACK retry spacing is the minimum of.
_RTT_WINDOW: Final = 32
# After the source ends, the receiver waits this long for what is still
# coming (beyond the assembler's 1 s frame age limit).
_DRAIN_MS: Final = 1500.0
# SSRCs of the two ends in the RTCP packets.
_SENDER_SSRC: Final = 0x5E4D
_RECEIVER_SSRC: Final = 0x2EC5


class VideoReceiver(Protocol):
    """What the link needs of a receiver (VideoReceivePipeline has it; a
    benchmark may put an anchor's receive path behind it)."""

    def insert(self, payload: RtpPayload, *, arrival_time_ms: float) -> bool: ...

    def poll(self, now_ms: float) -> list[VideoFrame]: ...

    def nack_list(self, now_ms: float) -> list[int]: ...

    def keyframe_request(self, now_ms: float) -> bool: ...

    def set_rtt_ms(self, rtt_ms: float) -> None: ...

    @property
    def buffered_frames(self) -> int: ...


@dataclass(frozen=True)
class SentFrame:
    """What the sender captured for one RTP timestamp."""

    index: int
    capture_ms: float
    pixels: npt.NDArray[np.uint8] | None


@dataclass(frozen=True)
class ShownFrame:
    """A picture the receiver showed, and the source frame it shows."""

    frame: VideoFrame
    shown_ms: float
    sent: SentFrame

    @property
    def latency_ms(self) -> float:
        """Glass to glass on the simulated timeline: shown minus captured."""
        return self.shown_ms - self.sent.capture_ms


@dataclass
class VideoLinkReport:
    """What the link measured, beside the receiver's webrtc-stats."""

    frames_captured: int = 0
    packets_sent: int = 0
    packets_lost: int = 0
    retransmissions_sent: int = 0
    retransmissions_lost: int = 0
    feedback_sent: int = 0
    feedback_lost: int = 0
    keyframes_sent: int = 0
    rtt_ms: list[float] = field(default_factory=list)

    @property
    def loss_pct(self) -> float:
        """Share of first transmissions the forward path lost."""
        return 100.0 * self.packets_lost / self.packets_sent if self.packets_sent else 0.0


class SimulatedVideoLink:
    """Sender, both network paths and receiver of one stream, stepped by
    :meth:`tick`. ``keep_pictures`` keeps each sent picture until it is
    shown or passed, so that shown frames can be compared with it."""

    def __init__(
        self,
        frames: Iterable[VideoFrame],
        *,
        send: VideoSendPipeline,
        receive: VideoReceiver,
        forward: NetworkSimulator,
        backward: NetworkSimulator,
        tick_ms: float = 2.0,
        keep_pictures: bool = False,
    ) -> None:
        self.send = send
        self.receive = receive
        self.forward = forward
        self.backward = backward
        self.tick_ms = tick_ms
        self.keep_pictures = keep_pictures
        self.report = VideoLinkReport()
        self._frames: Iterator[VideoFrame] = iter(frames)
        self._next_frame: VideoFrame | None = None
        self._source_done = False
        self._last_capture_ms = 0.0
        self._ticks = 0
        self._order = itertools.count()
        # (arrival, order, payload, when the NACK it answers left or None)
        self._to_receiver: list[tuple[float, int, RtpPayload, float | None]] = []
        self._to_sender: list[tuple[float, int, bytes, float]] = []
        self._sent: dict[int, SentFrame] = {}

    @classmethod
    def create(
        cls,
        frames: Iterable[VideoFrame],
        *,
        width_px: int,
        height_px: int,
        frame_rate_fps: float,
        bitrate_bps: int,
        conditions: NetworkConditions,
        keep_pictures: bool = False,
        receive: VideoReceiver | None = None,
    ) -> SimulatedVideoLink:
        """A link for one VP8 stream with reproducible RTP numbering. The
        backward path loses and delays like the forward one (its own random
        draws); with a trace it is clean, at the trace's median delay.
        ``receive`` replaces the VideoReceivePipeline."""
        rng = np.random.default_rng(conditions.seed)
        send = VideoSendPipeline(
            width_px=width_px,
            height_px=height_px,
            frame_rate_fps=frame_rate_fps,
            bitrate_bps=bitrate_bps,
            initial_sequence_number=int(rng.integers(1 << 16)),
            initial_timestamp=int(rng.integers(1 << 32)),
        )
        if conditions.trace is None:
            backward = replace(conditions, seed=conditions.seed + 1)
            one_way_ms = conditions.base_delay_ms
        else:
            delays = [d for d in conditions.trace if d is not None]
            one_way_ms = float(np.median(delays)) if delays else conditions.base_delay_ms
            backward = NetworkConditions(base_delay_ms=one_way_ms, seed=conditions.seed + 1)
        if receive is None:
            receive = VideoReceivePipeline(rtt_ms=2.0 * one_way_ms)
        return cls(
            frames,
            send=send,
            receive=receive,
            forward=NetworkSimulator(conditions),
            backward=NetworkSimulator(backward),
            keep_pictures=keep_pictures,
        )

    @property
    def now_ms(self) -> float:
        """Virtual time of the last tick."""
        return self._ticks * self.tick_ms

    @property
    def done(self) -> bool:
        """True once the source has ended and nothing more can arrive."""
        if not self._source_done:
            return False
        idle = not self._to_receiver and not self._to_sender
        if idle and self.receive.buffered_frames == 0:
            return True
        return self.now_ms > self._last_capture_ms + _DRAIN_MS

    def run(self) -> Iterator[ShownFrame]:
        """Ticks until :attr:`done`, yielding each frame shown."""
        while not self.done:
            yield from self.tick()

    def tick(self) -> list[ShownFrame]:
        """Advances one tick; returns the frames shown during it."""
        self._ticks += 1
        now_ms = self.now_ms
        self._capture(now_ms)
        self._deliver_feedback(now_ms)
        self._deliver_media(now_ms)
        shown = self._show(now_ms)
        self._send_feedback(now_ms)
        return shown

    def _capture(self, now_ms: float) -> None:
        # Step 1: every frame captured by now is encoded and sent at once.
        # TODO(#3): encoding, decoding and pacing take no virtual time, so latency figures leave
        # out the codec's CPU time (about 8 ms to encode and 3 ms to decode 720p on one core).
        while not self._source_done:
            if self._next_frame is None:
                self._next_frame = next(self._frames, None)
                if self._next_frame is None:
                    self._source_done = True
                    return
            frame = self._next_frame
            if frame.time_ms > now_ms:
                return
            self._next_frame = None
            payloads = self.send.process(frame)
            pixels = frame.pixels if self.keep_pictures else None
            self._sent[payloads[0].timestamp] = SentFrame(
                self.report.frames_captured, frame.time_ms, pixels
            )
            self.report.frames_captured += 1
            self.report.keyframes_sent += int(self.send.last_keyframe)
            self._last_capture_ms = frame.time_ms
            # Step 2: each payload meets the forward path.
            for payload in payloads:
                self.report.packets_sent += 1
                if not self._transmit(payload, frame.time_ms):
                    self.report.packets_lost += 1

    def _transmit(
        self, payload: RtpPayload, now_ms: float, *, nack_sent_ms: float | None = None
    ) -> bool:
        delay_ms = self.forward.delay_ms()
        if delay_ms is None:
            return False
        item = (now_ms + delay_ms, next(self._order), payload, nack_sent_ms)
        heapq.heappush(self._to_receiver, item)
        return True

    def _deliver_feedback(self, now_ms: float) -> None:
        # The sender answers NACKs from its history and a PLI with a keyframe.
        while self._to_sender and self._to_sender[0][0] <= now_ms:
            arrival_ms, _, data, nack_sent_ms = heapq.heappop(self._to_sender)
            try:
                packets = _native.parse_rtcp(data)
            except RtpError as error:
                logger.warning("malformed feedback: %s", error)
                continue
            for packet in packets:
                if isinstance(packet, _native.RtcpNack):
                    for payload in self.send.retransmit(packet.sequence_numbers):
                        self.report.retransmissions_sent += 1
                        if not self._transmit(payload, arrival_ms, nack_sent_ms=nack_sent_ms):
                            self.report.retransmissions_lost += 1
                elif isinstance(packet, _native.RtcpPli):
                    self.send.request_keyframe()

    def _deliver_media(self, now_ms: float) -> None:
        while self._to_receiver and self._to_receiver[0][0] <= now_ms:
            arrival_ms, _, payload, nack_sent_ms = heapq.heappop(self._to_receiver)
            self.receive.insert(payload, arrival_time_ms=arrival_ms)
            # A retransmission measures the round trip from its NACK (in a
            # real call the RTCP report blocks' LSR and DLSR give it).
            if nack_sent_ms is not None:
                self._measure_rtt(arrival_ms - nack_sent_ms)

    def _measure_rtt(self, sample_ms: float) -> None:
        self.report.rtt_ms.append(sample_ms)
        fastest_ms = min(self.report.rtt_ms[-_RTT_WINDOW:])
        self.receive.set_rtt_ms(max(fastest_ms, 1.0))

    def _show(self, now_ms: float) -> list[ShownFrame]:
        shown = []
        for frame in self.receive.poll(now_ms):
            timestamp = frame.rtp_timestamp
            sent = self._sent.get(timestamp) if timestamp is not None else None
            if sent is None:
                continue
            shown.append(ShownFrame(frame, now_ms, sent))
            # Frames leave in order: older ones will not be shown any more.
            for old in [t for t, s in self._sent.items() if s.index <= sent.index]:
                del self._sent[old]
        return shown

    def _send_feedback(self, now_ms: float) -> None:
        # One compound RTCP packet: a NACK, a PLI or both (RFC 4585 6.1).
        missing = self.receive.nack_list(now_ms)
        pli = self.receive.keyframe_request(now_ms)
        if not missing and not pli:
            return
        packets: list[_native.RtcpNack | _native.RtcpPli] = []
        if missing:
            packets.append(
                _native.RtcpNack(
                    sender_ssrc=_RECEIVER_SSRC, media_ssrc=_SENDER_SSRC, sequence_numbers=missing
                )
            )
        if pli:
            packets.append(_native.RtcpPli(sender_ssrc=_RECEIVER_SSRC, media_ssrc=_SENDER_SSRC))
        self.report.feedback_sent += 1
        delay_ms = self.backward.delay_ms()
        if delay_ms is None:
            self.report.feedback_lost += 1
            return
        data = _native.serialize_rtcp(tuple(packets))
        heapq.heappush(self._to_sender, (now_ms + delay_ms, next(self._order), data, now_ms))
