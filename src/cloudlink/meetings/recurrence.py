"""Occurrences of a recurring meeting: daily, weekly or monthly, a count or open-ended.

A monthly meeting keeps its day of the month, moved to the month's last day
in shorter months (31 January, then 28 or 29 February, then 31 March).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Final

__all__ = ["RECURRENCES", "occurrences"]

RECURRENCES: Final = ("none", "daily", "weekly", "monthly")


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def occurrences(
    starts_at: dt.datetime,
    recurrence: str,
    *,
    count: int | None,
    after: dt.datetime | None = None,
    limit: int = 5,
) -> list[dt.datetime]:
    """Up to ``limit`` start times, those starting before ``after`` left out (all when None)."""
    if recurrence not in RECURRENCES:
        raise ValueError(f"unknown recurrence {recurrence!r}")
    total = 1 if recurrence == "none" else count
    found: list[dt.datetime] = []
    index = 0
    while len(found) < limit and (total is None or index < total):
        if recurrence == "daily":
            start = starts_at + dt.timedelta(days=index)
        elif recurrence == "weekly":
            start = starts_at + dt.timedelta(weeks=index)
        elif recurrence == "monthly":
            start = _add_months(starts_at, index)
        else:
            start = starts_at
        if after is None or start >= after:
            found.append(start)
        index += 1
        # An open-ended series far in the past: skip ahead rather than walk it.
        if index > 100_000:
            break
    return found
