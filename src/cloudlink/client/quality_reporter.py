"""Periodic quality telemetry: every interval, one report per received
stream over that interval (loss, jitter, round-trip time, and for audio
the E-model MOS, the level and the concealed share) to
``POST /api/telemetry/quality``.

Nothing is sent while the user's privacy settings say quality data is not
collected (``GET /api/me/privacy``, asked before each batch): the server
would drop it anyway, and the data had better not leave the device.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from typing import Final

from cloudlink.client.rest_client import QualityReport, RestClient
from cloudlink.errors import ConfigError, ServiceError

__all__ = ["QualityReporter", "StreamStats", "reports_from_stats"]

logger = logging.getLogger(__name__)

StreamStats = Mapping[str, int | float | str]
# (media kind, stream key) -> that stream's inbound stats
StatsSource = Callable[[], dict[tuple[str, str], StreamStats]]

# RFC 6464 levels run down to -127 dBov (digital silence).
_SILENCE_DBOV: Final = -127.0


def _number(stats: StreamStats, key: str) -> float:
    value = stats.get(key, 0)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def reports_from_stats(
    current: dict[tuple[str, str], StreamStats],
    previous: dict[tuple[str, str], StreamStats],
    *,
    meeting_code: str | None,
    rtt_ms: float | None,
) -> list[QualityReport]:
    """One report per stream in ``current`` over what changed since
    ``previous`` (the whole stream for one not seen before); streams that
    received nothing in the interval are left out."""
    reports = []
    for key, stats in current.items():
        media = "audio" if key[0] == "audio" else "video"
        before = previous.get(key, {})
        received = _number(stats, "packetsReceived") - _number(before, "packetsReceived")
        lost = max(_number(stats, "packetsLost") - _number(before, "packetsLost"), 0.0)
        if received <= 0:
            continue
        report = QualityReport(
            media=media,
            meeting_code=meeting_code,
            loss_pct=100.0 * lost / (received + lost),
            jitter_ms=1000.0 * _number(stats, "jitter"),
            # 0 until the SFU's first receiver report gives this client its RTT.
            rtt_ms=rtt_ms or 0.0,
        )
        if media == "audio":
            samples = _number(stats, "totalSamplesReceived") - _number(
                before, "totalSamplesReceived"
            )
            concealed = _number(stats, "concealedSamples") - _number(before, "concealedSamples")
            level = _number(stats, "audioLevel")
            report = dataclasses.replace(
                report,
                mos=_number(stats, "mos") or None,
                volume_dbov=20.0 * math.log10(level) if level > 0 else _SILENCE_DBOV,
                concealment_pct=100.0 * concealed / samples if samples > 0 else 0.0,
            )
        reports.append(report)
    return reports


class QualityReporter:
    """Posts reports from ``stats()`` every ``interval_s`` until stopped."""

    def __init__(
        self,
        rest: RestClient,
        stats: StatsSource,
        *,
        meeting_code: str | None,
        rtt_ms: Callable[[], float | None],
        interval_s: float = 30.0,
    ) -> None:
        if not interval_s > 0.0:
            raise ConfigError(f"interval_s must be positive, got {interval_s}")
        self._rest = rest
        self._stats = stats
        self._rtt_ms = rtt_ms
        self.meeting_code = meeting_code
        self.interval_s = interval_s
        self._previous: dict[tuple[str, str], StreamStats] = {}
        self._task: asyncio.Task[None] | None = None
        self.reports_sent = 0
        self.reports_stored = 0
        self.batches_withheld = 0
        self.batches_failed = 0

    def start(self) -> None:
        """Starts the periodic reports."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self, *, final_report: bool = True) -> None:
        """Stops; with ``final_report``, reports what happened since the last one."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None
        if final_report:
            await self.report_now()

    async def report_now(self) -> int:
        """Reports now; returns how many reports the server stored."""
        current = self._stats()
        reports = reports_from_stats(
            current, self._previous, meeting_code=self.meeting_code, rtt_ms=self._rtt_ms()
        )
        self._previous = current
        if not reports:
            return 0
        try:
            settings = await self._rest.privacy_settings()
            if not settings.get("quality_collected", False):
                self.batches_withheld += 1
                return 0
            stored = await self._rest.post_quality(reports)
        except asyncio.CancelledError:
            raise
        except ServiceError as error:
            self.batches_failed += 1
            logger.warning("quality report not sent [code:%s]", error.code)
            return 0
        self.reports_sent += len(reports)
        self.reports_stored += stored
        return stored

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.report_now()
