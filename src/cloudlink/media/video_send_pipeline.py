"""The send half of a video call: frames in, RTP payloads out.

    frames (I420) -> VP8 encoder (temporal layers optional, keyframe on
    request, bitrate settable at run time) -> RFC 7741 packetizer -> RTP
    payload descriptors, 90 kHz timestamps from the capture time

Sent payloads stay in a short history so that a NACK (RFC 4585 section
6.2.1) is answered by sending them again with their own sequence numbers;
a PLI (RFC 4585 section 6.3.1) makes the next frame a keyframe.

:meth:`VideoSendPipeline.process_async` runs the encode on a thread pool
(libvpx releases the GIL), one frame at a time per pipeline; the rest of
the pipeline stays on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from concurrent.futures import Executor
from typing import Final

from cloudlink import _native
from cloudlink.errors import CodecError, ConfigError
from cloudlink.media.rtp_payload import VIDEO_CLOCK_HZ, VP8_PAYLOAD_TYPE, RtpPayload
from cloudlink.media.video_frame import VideoFrame

__all__ = ["VideoSendPipeline"]

logger = logging.getLogger(__name__)

# Payloads kept for retransmission: about 2 s of 720p at 1.5 Mbit/s, well
# beyond the assembler's 1 s frame age limit.
_HISTORY_PACKETS: Final = 512
# The native encoder's bitrate range (its configuration check), checked here
# too when a change must wait for an encode in flight.
_MIN_BITRATE_BPS: Final = 10_000
_MAX_BITRATE_BPS: Final = 100_000_000


class VideoSendPipeline:
    """Turns frames of one size into the RTP payloads of one VP8 stream.

    Sequence number and timestamp start at random values (RFC 3550 section
    5.1) unless given. A frame of another size rebuilds the encoder (the
    next frame is then a keyframe).
    """

    def __init__(
        self,
        *,
        width_px: int,
        height_px: int,
        frame_rate_fps: float = 30.0,
        bitrate_bps: int = 1_000_000,
        temporal_layers: int = 1,
        payload_type: int = VP8_PAYLOAD_TYPE,
        max_payload_bytes: int = 1200,
        cpu_used: int = -6,
        keyframe_interval_frames: int = 0,
        initial_sequence_number: int | None = None,
        initial_timestamp: int | None = None,
    ) -> None:
        if not 0 <= payload_type < 128:
            raise ConfigError(f"payload_type must be within 0..127, got {payload_type}")
        self.encoder = _native.Vp8Encoder(
            width_px=width_px,
            height_px=height_px,
            frame_rate_fps=frame_rate_fps,
            bitrate_bps=bitrate_bps,
            temporal_layers=temporal_layers,
            cpu_used=cpu_used,
            keyframe_interval_frames=keyframe_interval_frames,
        )
        self.packetizer = _native.Vp8Packetizer(max_payload_bytes=max_payload_bytes)
        self.payload_type = payload_type
        self.temporal_layers = temporal_layers
        self._sequence_number = (
            secrets.randbelow(1 << 16)
            if initial_sequence_number is None
            else initial_sequence_number
        )
        self.initial_timestamp = (
            secrets.randbelow(1 << 32) if initial_timestamp is None else initial_timestamp
        )
        self._first_time_ms: float | None = None
        self._keyframe_requested = False
        self._history: OrderedDict[int, RtpPayload] = OrderedDict()
        self.frames_sent = 0
        self.keyframes_sent = 0
        self.packets_sent = 0
        self.packets_retransmitted = 0
        self.last_keyframe = False
        self.last_temporal_layer_id = 0
        self._bitrate_bps = int(self.encoder.bitrate_bps)
        # The encode running on another thread, and what waits for it.
        self._in_flight: asyncio.Future[_native.Vp8EncodedFrame] | None = None
        self._pending_bitrate_bps: int | None = None
        self._encode_lock = asyncio.Lock()

    @property
    def bitrate_bps(self) -> int:
        """The encoder's target; setting it applies to the running encoder
        without a keyframe (after the encode in flight, if one is)."""
        return self._bitrate_bps

    @bitrate_bps.setter
    def bitrate_bps(self, value: int) -> None:
        if self._in_flight is None:
            self.encoder.bitrate_bps = value
        elif _MIN_BITRATE_BPS <= value <= _MAX_BITRATE_BPS:
            self._pending_bitrate_bps = value
        else:
            raise ConfigError(
                f"bitrate_bps must be within {_MIN_BITRATE_BPS}..{_MAX_BITRATE_BPS}, got {value}"
            )
        self._bitrate_bps = value

    def request_keyframe(self) -> None:
        """What a PLI or FIR asks for: the next frame is a keyframe."""
        self._keyframe_requested = True

    def timestamp_for(self, time_ms: float) -> int:
        """The RTP timestamp (90 kHz) of a frame captured at ``time_ms``."""
        first_ms = time_ms if self._first_time_ms is None else self._first_time_ms
        ticks = round((time_ms - first_ms) * VIDEO_CLOCK_HZ / 1000.0)
        return (self.initial_timestamp + ticks) % (1 << 32)

    def process(self, frame: VideoFrame) -> list[RtpPayload]:
        """Encodes one frame; returns its payloads in sequence order, the
        marker set on the last. CodecError while :meth:`process_async` has
        an encode in flight."""
        if self._in_flight is not None:
            raise CodecError("an encode of this pipeline is in flight (process_async)")
        keyframe, timestamp = self._prepare(frame)
        try:
            encoded = self.encoder.encode(frame.pixels, keyframe=keyframe)
        except Exception:
            self._keyframe_requested |= keyframe  # still owed to the next frame
            raise
        return self._packetize(encoded, timestamp)

    async def process_async(self, frame: VideoFrame, *, executor: Executor) -> list[RtpPayload]:
        """:meth:`process` with the encode on ``executor``: calls run one
        at a time, in the order made. A cancelled call still lets its
        encode finish before the next, which is then a keyframe (the
        encoder referenced a frame that was never sent)."""
        async with self._encode_lock:
            if self._in_flight is not None:
                await asyncio.wait([self._in_flight])
            keyframe, timestamp = self._prepare(frame)
            encode = self.encoder.encode
            pixels = frame.pixels
            in_flight = asyncio.get_running_loop().run_in_executor(
                executor, lambda: encode(pixels, keyframe=keyframe)
            )
            self._in_flight = in_flight
            in_flight.add_done_callback(self._encode_ended)
            try:
                encoded = await asyncio.shield(in_flight)
            except asyncio.CancelledError:
                self._keyframe_requested = True
                raise
            except Exception:
                self._keyframe_requested |= keyframe
                raise
            return self._packetize(encoded, timestamp)

    def _encode_ended(self, in_flight: asyncio.Future[_native.Vp8EncodedFrame]) -> None:
        # On the event loop, once the encoding thread has let go of the encoder.
        if not in_flight.cancelled():
            in_flight.exception()  # read here, so a cancelled caller's error is not reported
        if self._in_flight is in_flight:
            self._in_flight = None
        pending, self._pending_bitrate_bps = self._pending_bitrate_bps, None
        if pending is not None:
            self.encoder.bitrate_bps = pending

    def _prepare(self, frame: VideoFrame) -> tuple[bool, int]:
        """Before an encode: the size, the timestamp, the keyframe request."""
        if (frame.width_px, frame.height_px) != (self.encoder.width_px, self.encoder.height_px):
            logger.info("resolution [%dx%d]", frame.width_px, frame.height_px)
            self.encoder.set_resolution(width_px=frame.width_px, height_px=frame.height_px)
        if self._first_time_ms is None:
            self._first_time_ms = frame.time_ms
        keyframe, self._keyframe_requested = self._keyframe_requested, False
        return keyframe, self.timestamp_for(frame.time_ms)

    def _packetize(self, encoded: _native.Vp8EncodedFrame, timestamp: int) -> list[RtpPayload]:
        """After an encode: the payloads, numbered and kept for NACKs."""
        layer = encoded.temporal_layer_id if self.temporal_layers > 1 else None
        chunks = self.packetizer.packetize(
            encoded.data, temporal_layer_id=layer, layer_sync=encoded.layer_sync
        )
        payloads = []
        for index, chunk in enumerate(chunks):
            payload = RtpPayload(
                sequence_number=self._sequence_number,
                timestamp=timestamp,
                payload_type=self.payload_type,
                payload=chunk,
                marker=index == len(chunks) - 1,
            )
            self._remember(payload)
            self._sequence_number = (self._sequence_number + 1) % (1 << 16)
            payloads.append(payload)
        self.frames_sent += 1
        self.keyframes_sent += int(encoded.keyframe)
        self.packets_sent += len(payloads)
        self.last_keyframe = bool(encoded.keyframe)
        self.last_temporal_layer_id = int(encoded.temporal_layer_id)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "frame [ts:%d] [key:%d] [tid:%d] [packets:%d] [bytes:%d]",
                timestamp,
                encoded.keyframe,
                encoded.temporal_layer_id,
                len(payloads),
                len(encoded.data),
            )
        return payloads

    def retransmit(self, sequence_numbers: Iterable[int]) -> list[RtpPayload]:
        """The payloads a NACK asks for that are still in the history
        (RFC 4585 section 6.2.1), in the order asked."""
        # TODO(#3): RFC 4588 RTX (own SSRC and payload type) instead of resending on the media
        # stream: a receiver cannot tell a retransmission from a late original or count it apart.
        out = [self._history[n] for n in sequence_numbers if n in self._history]
        self.packets_retransmitted += len(out)
        return out

    async def packetize(
        self, frames: AsyncIterable[VideoFrame] | Iterable[VideoFrame]
    ) -> AsyncIterator[RtpPayload]:
        """Yields the payloads of every frame of ``frames``."""
        if isinstance(frames, AsyncIterable):
            async for frame in frames:
                for payload in self.process(frame):
                    yield payload
        else:
            for frame in frames:
                for payload in self.process(frame):
                    yield payload

    def _remember(self, payload: RtpPayload) -> None:
        self._history[payload.sequence_number] = payload
        self._history.move_to_end(payload.sequence_number)
        while len(self._history) > _HISTORY_PACKETS:
            self._history.popitem(last=False)
