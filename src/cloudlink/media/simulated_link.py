"""One audio stream from sender to listener over a simulated network, in
virtual time: nothing sleeps, so minutes of call take a fraction of that.

Tick n of the virtual clock is at (n + 1) * 10 ms: the sender has just
captured frame n and sends whatever packet it completes; the network
(cloudlink.media.network_sim) decides when each packet arrives; the receiver
inserts every packet that has arrived by then and pulls one 10 ms frame.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cloudlink.media.frame import FRAME_MS, AudioFrame, frame_samples
from cloudlink.media.network_sim import NetworkConditions, NetworkSimulator
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import (
    OPUS_CLOCK_HZ,
    OPUS_PAYLOAD_TYPE,
    RED_PAYLOAD_TYPE,
    RtpPayload,
)
from cloudlink.media.send_pipeline import SendPipeline

__all__ = ["LinkReport", "SimulatedLink", "place_by_timestamp"]

# Longest gap left by time stretching that is filled, in frames; a longer
# jump of the playout timestamp is a pause (DTX), left silent.
_MAX_FILL_FRAMES = 3
# Loss the encoder plans its FEC for, at least (the engine's default).
_MIN_EXPECTED_LOSS_PCT = 10


@dataclass
class LinkReport:
    """What one link measured, beside the receiver's webrtc-stats."""

    packets_sent: int = 0
    packets_lost: int = 0
    network_delay_ms: list[float] = field(default_factory=list)
    mouth_to_ear_ms: list[float] = field(default_factory=list)
    concealed_frames: list[bool] = field(default_factory=list)

    @property
    def loss_pct(self) -> float:
        """Share of packets the network lost."""
        return 100.0 * self.packets_lost / self.packets_sent if self.packets_sent else 0.0

    @property
    def mean_mouth_to_ear_ms(self) -> float:
        """Mean delay from capture to playout of the samples played."""
        return float(np.mean(self.mouth_to_ear_ms)) if self.mouth_to_ear_ms else 0.0


class SimulatedLink:
    """Sender, network and receiver of one stream, stepped by :meth:`tick`.

    When ``frames`` runs out, the sender goes on sending silence, as a
    participant who stopped talking does.
    """

    def __init__(
        self,
        frames: Iterable[AudioFrame],
        *,
        send: SendPipeline,
        network: NetworkSimulator,
        receive: ReceivePipeline,
    ) -> None:
        self.send = send
        self.network = network
        self.receive = receive
        self.report = LinkReport()
        self._frames: Iterator[AudioFrame] = iter(frames)
        self._source_done = False
        self._in_flight: list[tuple[float, int, RtpPayload]] = []
        self._ticks = 0
        self._frame_samples = frame_samples(send.sample_rate_hz)
        self._concealed_samples = 0
        self.last_arrival_ms = 0.0
        self.playout_timestamps: list[int | None] = []

    @classmethod
    def create(
        cls,
        frames: Iterable[AudioFrame],
        *,
        sample_rate_hz: int,
        channels: int = 1,
        conditions: NetworkConditions,
        fec: bool = True,
        red: bool = False,
        seed: int = 0,
    ) -> SimulatedLink:
        """A link with Opus at 32 kbit/s in 20 ms packets, FEC tuned to the
        path's loss, RED when asked, and reproducible RTP numbering."""
        rng = np.random.default_rng(seed)
        red_payload_type = RED_PAYLOAD_TYPE if red else None
        send = SendPipeline(
            sample_rate_hz=sample_rate_hz,
            channels=channels,
            payload_type=OPUS_PAYLOAD_TYPE,
            red_payload_type=red_payload_type,
            fec=fec,
            expected_loss_pct=max(_MIN_EXPECTED_LOSS_PCT, math.ceil(conditions.loss_pct)),
            initial_sequence_number=int(rng.integers(1 << 16)),
            initial_timestamp=int(rng.integers(1 << 32)),
        )
        receive = ReceivePipeline(
            sample_rate_hz=sample_rate_hz,
            channels=channels,
            payload_type=OPUS_PAYLOAD_TYPE,
            red_payload_type=red_payload_type,
        )
        return cls(frames, send=send, network=NetworkSimulator(conditions), receive=receive)

    @property
    def now_ms(self) -> float:
        """Virtual time of the last tick."""
        return float(self._ticks * FRAME_MS)

    @property
    def source_done(self) -> bool:
        """True once every frame of the source has been sent."""
        return self._source_done

    def tick(self) -> AudioFrame:
        """Advances 10 ms; returns the frame the listener hears."""
        self._ticks += 1
        now_ms = self.now_ms
        self._send(now_ms)
        self._deliver(now_ms)
        frame = self.receive.pull(now_ms)
        self._account(now_ms)
        return frame

    def _send(self, now_ms: float) -> None:
        # Step 1: the frame captured during the last 10 ms (silence once the
        # source has ended) goes through the send pipeline.
        frame = None if self._source_done else next(self._frames, None)
        if frame is None:
            self._source_done = True
            frame = AudioFrame.silence(
                sample_rate_hz=self.send.sample_rate_hz, channels=self.send.channels
            )
        # Step 2: each packet it completes meets the network.
        for payload in self.send.process(frame):
            self.report.packets_sent += 1
            delay_ms = self.network.delay_ms()
            if delay_ms is None:
                self.report.packets_lost += 1
                continue
            self.report.network_delay_ms.append(delay_ms)
            arrival_ms = now_ms + delay_ms
            self.last_arrival_ms = max(self.last_arrival_ms, arrival_ms)
            heapq.heappush(self._in_flight, (arrival_ms, self.report.packets_sent, payload))

    def _deliver(self, now_ms: float) -> None:
        while self._in_flight and self._in_flight[0][0] <= now_ms:
            arrival_ms, _, payload = heapq.heappop(self._in_flight)
            self.receive.insert(payload, arrival_time_ms=arrival_ms)

    def _account(self, now_ms: float) -> None:
        # Concealment shows as growth of concealedSamples during this pull.
        concealed = int(self.receive.stats().get("concealedSamples", 0))
        timestamp = self.receive.playout_timestamp
        self.playout_timestamps.append(timestamp)
        if timestamp is None:
            return
        self.report.concealed_frames.append(concealed > self._concealed_samples)
        self._concealed_samples = concealed
        # The first sample played now was captured at its RTP timestamp's
        # offset from the stream start; the codec adds its lookahead.
        offset = (timestamp - self.send.initial_timestamp) % (1 << 32)
        lookahead_ms = 1000.0 * self.send.lookahead_samples / self.send.sample_rate_hz
        captured_ms = 1000.0 * offset / OPUS_CLOCK_HZ
        self.report.mouth_to_ear_ms.append(now_ms - captured_ms + lookahead_ms)


def place_by_timestamp(
    frames: Iterable[tuple[AudioFrame, int | None]],
    *,
    initial_timestamp: int,
    lookahead_samples: int,
    length_samples: int,
) -> npt.NDArray[np.int16]:
    """Lays received frames out where their audio sat in the sent stream.

    A frame whose playout RTP timestamp is T holds what the sender captured
    at (T - initial_timestamp) at 48 kHz, shifted back by the codec's
    lookahead. After the jitter buffer accelerates, a frame covers 10 ms
    plus the pitch period it removed, which leaves a gap before the next
    frame: the gap is filled by repeating the frame's last period-long
    stretch, the way the removed period would have sounded. After an expand
    frames overlap and the later one wins. Frames without a timestamp
    (before the first packet) are left out; what no frame covers stays
    silent.
    """
    placed: list[tuple[AudioFrame, int]] = []
    for frame, timestamp in frames:
        if timestamp is None:
            continue
        offset = (timestamp - initial_timestamp) % (1 << 32)
        placed.append((frame, offset * frame.sample_rate_hz // OPUS_CLOCK_HZ - lookahead_samples))
    if not placed:
        return np.zeros((length_samples,), np.int16)
    channels = placed[0][0].channels
    output = np.zeros((length_samples,) + ((channels,) if channels > 1 else ()), np.int16)
    for index, (frame, start) in enumerate(placed):
        samples = frame.samples
        size = samples.shape[0]
        if index + 1 < len(placed):
            gap = placed[index + 1][1] - start - size
            if 0 < gap <= _MAX_FILL_FRAMES * size:
                period = min(gap, size)
                repeat = size - period + np.arange(gap) % period
                samples = np.concatenate([samples, samples[repeat]])
        begin, end = max(start, 0), min(start + samples.shape[0], length_samples)
        if begin < end:
            output[begin:end] = samples[begin - start : end - start]
    return output
