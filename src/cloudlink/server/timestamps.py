"""Reading client timestamps: RFC 3339 with an offset, within a sane range of years."""

from __future__ import annotations

import datetime as dt
from typing import Final

from cloudlink.errors import InvalidRequestError

__all__ = ["parse_timestamp"]

_FIRST_YEAR: Final = 2000
_LAST_YEAR: Final = 2200


def parse_timestamp(text: str, *, field: str) -> dt.datetime:
    """The aware UTC datetime in ``text``; InvalidRequestError when it is not one."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(
            f"{field} is not an RFC 3339 timestamp", code="invalid_body"
        ) from None
    if value.tzinfo is None:
        raise InvalidRequestError(f"{field} needs a UTC offset", code="invalid_body")
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise InvalidRequestError(
            f"{field} must lie in the years {_FIRST_YEAR}-{_LAST_YEAR}", code="invalid_body"
        )
    return value.astimezone(dt.timezone.utc)
