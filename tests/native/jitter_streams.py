"""Opus streams and a playout driver shared by the jitter-buffer tests.

Packets are real Opus from the encoder binding, 20 ms each; RTP timestamps
run at 48 kHz (RFC 7587)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloudlink import _native

PACKET_MS = 20
RTP_PER_PACKET = 960  # 20 ms at the 48 kHz RTP clock
FRAME_SAMPLES = 480  # 10 ms at 48 kHz
NOISE_RMS = 30.0  # background noise floor of the test signals (-61 dBFS)


def talk_signal(
    packets: int, *, seed: int = 1, pauses: bool = True, noise_rms: float = NOISE_RMS
) -> npt.NDArray[np.int16]:
    """Voiced-like talk spurts (300 ms) and pauses (200 ms) over a noise floor.

    A harmonic tone with a slow pitch glide stands in for speech: it has
    pitch for the codec and the concealment, and pauses where a jitter
    buffer may drop or repeat audio unheard."""
    rng = np.random.default_rng(seed)
    t = np.arange(packets * 960) / 48000
    pitch_hz = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch_hz) / 48000
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * 5000
    talking = (t % 0.5) < 0.3 if pauses else np.ones(len(t), dtype=bool)
    signal = voiced * talking + rng.normal(0.0, noise_rms, len(t))
    return np.clip(signal, -32768, 32767).astype(np.int16)


@functools.lru_cache(maxsize=8)
def opus_packets(
    count: int,
    *,
    fec: bool = True,
    dtx: bool = False,
    pauses: bool = True,
    noise_rms: float = NOISE_RMS,
) -> tuple[bytes, ...]:
    """`count` Opus packets of talk_signal (the same for the same arguments)."""
    encoder = _native.OpusEncoder(fec=fec, expected_loss_pct=20 if fec else 0, dtx=dtx)
    frames = talk_signal(count, pauses=pauses, noise_rms=noise_rms).reshape(count, 960)
    return tuple(encoder.encode(frame) for frame in frames)


def reference_decode(packets: Sequence[bytes]) -> npt.NDArray[np.int16]:
    """What a lossless receiver hears: every packet decoded in order."""
    decoder = _native.OpusDecoder()
    return np.concatenate([decoder.decode(p) for p in packets])


@dataclass
class Arrival:
    arrival_ms: float
    payload: bytes
    sequence_number: int
    timestamp: int
    payload_type: int | None = None


def steady_arrivals(
    packets: Sequence[bytes],
    *,
    delay_ms: float = 30.0,
    first_sequence: int = 0,
    first_timestamp: int = 0,
    skip: Iterable[int] = (),
) -> list[Arrival]:
    """One packet every 20 ms after a constant delay, `skip` ones lost."""
    lost = set(skip)
    return [
        Arrival(
            i * PACKET_MS + delay_ms,
            p,
            (first_sequence + i) % 65536,
            (first_timestamp + i * RTP_PER_PACKET) % 2**32,
        )
        for i, p in enumerate(packets)
        if i not in lost
    ]


@dataclass
class Playout:
    frames: list[npt.NDArray[np.int16]]
    timestamps: list[int | None]
    delays_ms: list[float]
    targets_ms: list[float]
    accepted: list[bool]
    concealed: list[int]  # samples concealed in each frame
    removed: list[int]  # samples removed by acceleration in each pull
    inserted: list[int]  # samples inserted by deceleration in each pull

    @property
    def audio(self) -> npt.NDArray[np.int16]:
        return np.concatenate(self.frames)


def play(
    buffer: _native.JitterBuffer,
    arrivals: Iterable[Arrival],
    *,
    duration_ms: float,
    start_ms: float = 0.0,
    pull_period_ms: float = 10.0,
) -> Playout:
    """Inserts each packet when it arrives and pulls on a steady clock."""
    events = sorted(arrivals, key=lambda a: a.arrival_ms)
    result = Playout([], [], [], [], [], [], [], [])
    concealed = removed = inserted = 0
    next_event = 0
    now_ms = start_ms
    while now_ms < start_ms + duration_ms:
        while next_event < len(events) and events[next_event].arrival_ms <= now_ms:
            a = events[next_event]
            result.accepted.append(
                buffer.insert(
                    a.payload,
                    sequence_number=a.sequence_number,
                    timestamp=a.timestamp,
                    arrival_time_ms=a.arrival_ms,
                    payload_type=a.payload_type,
                )
            )
            next_event += 1
        frame = buffer.pull(now_ms)
        stats = buffer.stats()
        result.concealed.append(int(stats["concealedSamples"]) - concealed)
        result.removed.append(int(stats["removedSamplesForAcceleration"]) - removed)
        result.inserted.append(int(stats["insertedSamplesForDeceleration"]) - inserted)
        concealed = int(stats["concealedSamples"])
        removed = int(stats["removedSamplesForAcceleration"])
        inserted = int(stats["insertedSamplesForDeceleration"])
        result.frames.append(frame)
        result.timestamps.append(buffer.playout_timestamp)
        result.delays_ms.append(buffer.current_delay_ms)
        result.targets_ms.append(buffer.target_delay_ms)
        now_ms += pull_period_ms
    return result


def level_db(samples: npt.NDArray[np.int16] | npt.NDArray[np.float64]) -> float:
    """RMS level in dB relative to one LSB."""
    power = float(np.mean(np.asarray(samples, dtype=np.float64) ** 2))
    return 10.0 * np.log10(power + 1e-9)
