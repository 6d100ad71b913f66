"""The current time, aware and in UTC, for every service."""

from __future__ import annotations

import datetime as dt

__all__ = ["utc_now"]


def utc_now() -> dt.datetime:
    """Now, in UTC, with tzinfo set."""
    return dt.datetime.now(dt.timezone.utc)
