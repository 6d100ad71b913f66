"""The receive half of a video call: RTP payloads in, pictures out.

    payload descriptors + arrival times -> native FrameAssembler (reorder,
    NACK lists, keyframe requests, temporal-layer dependencies, freeze
    statistics) -> native Vp8Decoder -> frames, shown as soon as decoded

What the decoder makes of each frame goes back to the assembler, so a frame
the decoder refuses asks for a keyframe too. Statistics keep the W3C
webrtc-stats names (RTCInboundRtpStreamStats): framesReceived,
framesDecoded, framesDropped, keyFramesDecoded, freezeCount,
totalFreezesDuration, nackCount, pliCount and the packet counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from cloudlink import _native
from cloudlink.errors import CodecError
from cloudlink.media.playout_clock import PlayoutClock
from cloudlink.media.rtp_payload import VIDEO_CLOCK_HZ, VP8_PAYLOAD_TYPE, RtpPayload
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_sink import VideoSink

__all__ = ["Feedback", "VideoReceivePipeline"]

logger = logging.getLogger(__name__)

# Until the first picture, a PLI goes out when packets have been arriving
# this long without one (WebRTC's receive stream waits 200 ms for its first
# keyframe): the first packets of a stream may be lost with nothing before
# them to reveal the gap, and a NACK cannot name what the receiver never
# knew about.
_FIRST_KEYFRAME_WAIT_MS: Final = 200.0

# A packet still missing this long after its first NACK is NACKed again at
# once instead of a round trip later. The first NACK goes out as soon as a
# gap appears, when the packet may merely be reordered; past the
# reordering a gap is a loss, and the second request stands in for a
# first one the feedback path lost or whose retransmission was lost. 20 ms
# is past most reordering under 40 ms of jitter (in bench_video_loss three
# quarters of the reordered packets arrive within 18 ms of their NACK).
# Over 30 of its runs of 10 s a shorter delay repeats more NACKs of packets
# merely reordered (10 ms: 47% more retransmissions than no repeat, 20 ms:
# 21%), a longer one saves less (freezes: 14 without a repeat, 1 at 20 ms,
# 9 at 30 ms).
_NACK_REPEAT_DELAY_MS: Final = 20.0

# What the receiver sends back after a poll: the sequence numbers of one
# RTCP NACK (may be empty) and whether to send a PLI.
Feedback = Callable[[list[int], bool], None]


class VideoReceivePipeline:
    """One incoming VP8 stream. Call :meth:`insert` as payloads arrive and
    :meth:`poll` every few milliseconds on the same clock; each poll shows
    what became decodable and tells what to send back.

    A lost packet is NACKed (RFC 4585 section 6.2.1) when its gap appears,
    again ``nack_repeat_delay_ms`` later (0: not), then every ``rtt_ms``
    (see :meth:`set_rtt_ms`) up to ``max_nack_retries`` requests."""

    def __init__(
        self,
        *,
        rtt_ms: float = 100.0,
        max_nack_retries: int = 10,
        nack_repeat_delay_ms: float = _NACK_REPEAT_DELAY_MS,
        pli_interval_ms: float = 300.0,
        max_frame_age_ms: float = 1000.0,
        payload_type: int = VP8_PAYLOAD_TYPE,
        threads: int = 1,
    ) -> None:
        self.assembler = _native.FrameAssembler(
            rtt_ms=rtt_ms,
            max_nack_retries=max_nack_retries,
            nack_repeat_delay_ms=nack_repeat_delay_ms,
            pli_interval_ms=pli_interval_ms,
            max_frame_age_ms=max_frame_age_ms,
        )
        self.decoder = _native.Vp8Decoder(threads=threads)
        self.payload_type = payload_type
        self.pli_interval_ms = pli_interval_ms
        self.packets_wrong_type = 0
        self._first_arrival_ms: float | None = None
        self._startup_pli_ms: float | None = None
        self._startup_plis = 0
        self.frames_shown = 0
        self._first_timestamp: int | None = None
        self._last_timestamp = 0
        self._media_ticks = 0

    def insert(self, payload: RtpPayload, *, arrival_time_ms: float) -> bool:
        """Hands one arrived payload to the assembler; False when it was
        dropped (another payload type, malformed, duplicate, late) and
        counted."""
        if payload.payload_type != self.payload_type:
            self.packets_wrong_type += 1
            return False
        if self._first_arrival_ms is None:
            self._first_arrival_ms = arrival_time_ms
        accepted: bool = self.assembler.insert(
            payload.payload,
            sequence_number=payload.sequence_number,
            timestamp=payload.timestamp,
            marker=payload.marker,
            arrival_time_ms=arrival_time_ms,
        )
        if not accepted and logger.isEnabledFor(logging.DEBUG):
            logger.debug("dropped [seq:%d] [ts:%d]", payload.sequence_number, payload.timestamp)
        return accepted

    def poll(self, now_ms: float) -> list[VideoFrame]:
        """Decodes every frame that is ready and returns the pictures to
        show now, each counted as rendered at ``now_ms``."""
        # TODO(#3): no render clock: a frame is shown the moment it decodes, so network jitter
        # shows as uneven frame pacing (WebRTC smooths with a playout delay from jitter stats).
        shown = []
        for assembled in self.assembler.pop_frames(now_ms):
            # Step 1: decode, and tell the assembler how it went.
            try:
                picture = self.decoder.decode(assembled.data)
            except CodecError as error:
                logger.warning("undecodable frame [ts:%d]: %s", assembled.timestamp, error)
                self.assembler.frame_decoded(keyframe=assembled.keyframe, ok=False)
                continue
            self.assembler.frame_decoded(keyframe=assembled.keyframe, ok=True)
            if picture is None:
                continue
            # Step 2: show it, timed by its RTP timestamp from the first frame.
            self.assembler.frame_rendered(now_ms)
            self.frames_shown += 1
            time_ms = self._media_time_ms(assembled.timestamp)
            shown.append(VideoFrame(picture, time_ms, rtp_timestamp=assembled.timestamp))
        return shown

    def nack_list(self, now_ms: float) -> list[int]:
        """Sequence numbers to ask for in one RTCP NACK now (may be empty);
        call it every few ms: giving up on a packet happens here."""
        # TODO(#3): FrameAssembler does not expose the NACK tracker's reorder_delay_ms, so a
        # packet merely reordered is NACKed at once: at 40 ms jitter ~2x the needed retransmissions.
        missing: list[int] = self.assembler.nack_list(now_ms)
        return missing

    def keyframe_request(self, now_ms: float) -> bool:
        """True: send a PLI now (rate-limited and counted): the assembler
        lost a frame for good, or nothing could be shown yet although
        packets have been arriving for 200 ms."""
        if self.assembler.keyframe_request(now_ms):
            return True
        if self.frames_shown or self._first_arrival_ms is None:
            return False
        if now_ms - self._first_arrival_ms < _FIRST_KEYFRAME_WAIT_MS:
            return False
        last_ms = self._startup_pli_ms
        if last_ms is not None and now_ms - last_ms < self.pli_interval_ms:
            return False
        self._startup_pli_ms = now_ms
        self._startup_plis += 1
        return True

    @property
    def buffered_frames(self) -> int:
        """Frames the assembler holds, complete or not."""
        return int(self.assembler.buffered_frames)

    def set_rtt_ms(self, rtt_ms: float) -> None:
        """The round-trip time NACK retries are spaced by."""
        self.assembler.set_rtt_ms(rtt_ms)

    def stats(self) -> dict[str, int | float]:
        """The assembler's webrtc-stats (``pliCount`` with the PLIs sent
        while waiting for the first picture), plus ``framesShown`` and
        ``packetsWrongPayloadType``."""
        stats: dict[str, int | float] = dict(self.assembler.stats())
        stats["pliCount"] += self._startup_plis
        stats["framesShown"] = self.frames_shown
        stats["packetsWrongPayloadType"] = self.packets_wrong_type
        return stats

    async def play(
        self,
        clock: PlayoutClock,
        sink: VideoSink | Callable[[VideoFrame], None],
        *,
        ticks: int | None = None,
        feedback: Feedback | None = None,
    ) -> None:
        """Polls once per tick of ``clock`` (``ticks`` times, or until
        cancelled): shown frames go to ``sink``, and the NACK list and PLI
        decision to ``feedback``. Arrival times given to :meth:`insert`
        must be on the same clock (``clock.now_ms()``)."""
        write = sink.write if isinstance(sink, VideoSink) else sink
        async for now_ms in clock.ticks(ticks):
            for frame in self.poll(now_ms):
                write(frame)
            missing = self.nack_list(now_ms)
            pli = self.keyframe_request(now_ms)
            if feedback is not None and (missing or pli):
                feedback(missing, pli)

    def _media_time_ms(self, timestamp: int) -> float:
        # Unwrap the 32-bit timestamp against the last one shown.
        if self._first_timestamp is None:
            self._first_timestamp = self._last_timestamp = timestamp
        step = (timestamp - self._last_timestamp) % (1 << 32)
        if step >= 1 << 31:
            step -= 1 << 32
        self._media_ticks += step
        self._last_timestamp = timestamp
        return self._media_ticks * 1000.0 / VIDEO_CLOCK_HZ
