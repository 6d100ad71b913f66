"""What the meeting benchmarks share: the organisation server in this
process (EmbeddedServer on a temporary SQLite file, loopback only), an
organisation whose members are all signed in through the client SDK, one
meeting for them, the clock the media stamps are read against, and a
speech signal with loud markers at known samples.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from cloudlink.client import Client, Meeting
from cloudlink.client.remote_tracks import RemoteAudioTrack
from cloudlink.media.frame import FRAME_MS, AudioFrame, frame_samples
from cloudlink.media.synthetic import speech_source
from cloudlink.server.embedded import EmbeddedServer

__all__ = [
    "SAMPLE_RATE_HZ",
    "BurstDetector",
    "MarkedSpeech",
    "SignedIn",
    "audio_inbound",
    "clock_ms",
    "match_latencies",
    "percentile",
    "signed_in",
]

SAMPLE_RATE_HZ: Final = 48000
_ORGANISATION: Final = "Bench"


def clock_ms() -> float:
    """The one clock of the process (the event loop's, time.monotonic)."""
    return time.monotonic() * 1000.0


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile in the values' unit, None for no values."""
    return round(float(np.percentile(values, q)), 1) if values else None


def audio_inbound(meeting: Meeting) -> dict[str, dict[str, float]]:
    """inbound-rtp of each received audio track by sender: the jitter
    buffer's and the transport's counters. Read from the streams, not
    ``Meeting.stats()``: under load its MOS step raises (a negative mean
    playout delay; see docs/meetings-benchmarks.md)."""
    out: dict[str, dict[str, float]] = {}
    for remote in meeting.remote.values():
        if isinstance(remote, RemoteAudioTrack):
            stats = {**remote.stream.pipeline.stats(), **remote.stream.receiver.stats()}
            out[remote.participant_id] = {
                key: float(value) for key, value in stats.items() if isinstance(value, int | float)
            }
    return out


@dataclass
class SignedIn:
    """The running server, its signed-in clients (the first is the host)
    and the code of a meeting the host made."""

    server: EmbeddedServer
    clients: list[Client]
    code: str


@contextlib.asynccontextmanager
async def signed_in(count: int) -> AsyncIterator[SignedIn]:
    """``count`` members signed in on a fresh server, with one meeting;
    every client and the server are closed on the way out."""
    with tempfile.TemporaryDirectory(prefix="cloudlink-bench-") as folder:
        server = EmbeddedServer(database_path=Path(folder) / "bench.db")
        url = await server.start()
        clients: list[Client] = []
        try:
            password = secrets.token_urlsafe(12)
            members = [(f"member{n}", f"Member {n}") for n in range(1, count)]
            server.add_organisation(_ORGANISATION, admin="host", members=members, password=password)
            for account in ["host", *(name for name, _ in members)]:
                clients.append(
                    await Client.login(
                        url,
                        organisation=_ORGANISATION,
                        account=account,
                        password=password,
                        device_id=f"bench-{account}",
                    )
                )
            info = await clients[0].create_meeting("benchmark")
            yield SignedIn(server, clients, info.code)
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.close()
            await server.stop()


class MarkedSpeech:
    """Quiet speech (-30 dB below the committed files) at 48 kHz mono with
    a 5 ms, 1 kHz tone burst near full scale every ``period_ms``, each at
    another offset within its 10 ms frame. ``frames()`` is endless; the
    stream sample where each burst starts is ``burst_start(n)``."""

    burst_ms: Final = 5.0
    burst_amplitude: Final = 24000.0
    speech_gain: Final = 0.03

    def __init__(self, *, period_ms: float = 500.0, speaker: str = "alice") -> None:
        self.period_samples = int(period_ms * SAMPLE_RATE_HZ / 1000.0)
        self.frame_samples = frame_samples(SAMPLE_RATE_HZ)
        speech = np.concatenate(
            [f.samples for f in speech_source(speaker, sample_rate_hz=SAMPLE_RATE_HZ)]
        )
        self._speech = (speech.astype(np.float64) * self.speech_gain).astype(np.int16)
        burst = round(self.burst_ms * SAMPLE_RATE_HZ / 1000.0)
        phase = 2.0 * np.pi * 1000.0 * np.arange(burst) / SAMPLE_RATE_HZ
        self._burst = (self.burst_amplitude * np.sin(phase)).astype(np.int16)

    def burst_start(self, index: int) -> int:
        """Stream sample of burst ``index`` (a prime step moves its offset
        within the frame from one burst to the next)."""
        return index * self.period_samples + (index * 131) % self.frame_samples

    def samples(self, start: int, count: int) -> npt.NDArray[np.int16]:
        """``count`` samples of the signal from stream sample ``start``."""
        positions = (np.arange(start, start + count)) % len(self._speech)
        out = self._speech[positions].copy()
        first = max(0, start // self.period_samples - 1)
        for index in range(first, (start + count) // self.period_samples + 1):
            begin = self.burst_start(index)
            lo, hi = max(begin, start), min(begin + len(self._burst), start + count)
            if lo < hi:
                out[lo - start : hi - start] = self._burst[lo - begin : hi - begin]
        return out

    def bursts_in(self, start: int, count: int) -> list[int]:
        """Stream samples of the bursts that start in [start, start + count)."""
        first = max(0, start // self.period_samples - 1)
        last = (start + count) // self.period_samples + 1
        return [
            self.burst_start(i)
            for i in range(first, last + 1)
            if start <= self.burst_start(i) < start + count
        ]

    def blocks(
        self, on_burst: Callable[[float], None], *, frame_ms: int = FRAME_MS
    ) -> Iterator[tuple[int, npt.NDArray[np.int16]]]:
        """(first stream sample, samples) of ``frame_ms`` each, endless;
        each block's bursts are reported to ``on_burst(mouth_ms)`` as the
        block is taken: a capture device hands a block over when its last
        sample is in, so a burst at offset k samples was spoken
        ``frame_ms - k / 48`` ms before that."""
        count = frame_ms * SAMPLE_RATE_HZ // 1000
        start = 0
        while True:
            taken_ms = clock_ms()
            for burst in self.bursts_in(start, count):
                on_burst(taken_ms - frame_ms + (burst - start) * 1000.0 / SAMPLE_RATE_HZ)
            yield start, self.samples(start, count)
            start += count

    def frames(self, on_burst: Callable[[float], None]) -> Iterator[AudioFrame]:
        """:meth:`blocks` as the SDK's 10 ms AudioFrames."""
        for start, samples in self.blocks(on_burst):
            yield AudioFrame(samples, SAMPLE_RATE_HZ, start)


class BurstDetector:
    """Finds the bursts in received audio: the first sample above half the
    burst's amplitude after at least ``quiet_ms`` below it; its ear time is
    the moment the frame is played plus its offset in the frame."""

    def __init__(self, *, threshold: float, quiet_ms: float = 200.0) -> None:
        self.threshold = threshold
        self.quiet_ms = quiet_ms
        self.ear_ms: list[float] = []
        self._last_loud_ms = -1e12

    def feed(self, samples: npt.NDArray[np.int16], played_ms: float) -> None:
        """One frame of mono samples that starts playing at ``played_ms``."""
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > self.threshold)
        if loud.size == 0:
            return
        first_ms = played_ms + float(loud[0]) * 1000.0 / SAMPLE_RATE_HZ
        if first_ms - self._last_loud_ms >= self.quiet_ms:
            self.ear_ms.append(first_ms)
        self._last_loud_ms = played_ms + float(loud[-1]) * 1000.0 / SAMPLE_RATE_HZ


def match_latencies(mouth_ms: list[float], ear_ms: list[float], *, after_ms: float) -> list[float]:
    """For each detection after ``after_ms``, its latency from the latest
    burst sent before it (bursts are further apart than any latency
    measured here, so a lost burst costs one sample, not a mismatch)."""
    latencies = []
    sent = sorted(mouth_ms)
    for ear in ear_ms:
        if ear < after_ms:
            continue
        before = [m for m in sent if m <= ear]
        if before:
            latencies.append(ear - before[-1])
    return latencies
