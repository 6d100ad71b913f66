"""Join links: a URL for a meeting id that can be pasted anywhere and parsed back.

A link is ``{base_url}/j/{meeting_code}``; the meeting code is nine digits.
Parsing accepts the link (with or without scheme, query or fragment) and
the bare code as people type it ("123 456 789", "123-456-789"). A meeting
password is never part of a link.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from cloudlink.errors import InvalidRequestError

__all__ = ["CODE_DIGITS", "make_join_link", "parse_join_link"]

CODE_DIGITS: Final = 9
_BARE_CODE: Final = re.compile(r"^\s*(\d{3})[\s-]?(\d{3})[\s-]?(\d{3})\s*$")
_LINK_PATH: Final = re.compile(r"/j/(\d{9})/?$")


def make_join_link(base_url: str, code: str) -> str:
    """The join link of meeting ``code`` on the server at ``base_url``."""
    return f"{base_url.rstrip('/')}/j/{code}"


def parse_join_link(text: str) -> str:
    """The meeting code in a pasted link or code; InvalidRequestError when there is none."""
    bare = _BARE_CODE.match(text)
    if bare:
        return "".join(bare.groups())
    candidate = text.strip()
    if "://" not in candidate:
        candidate = f"https://{candidate}"
    try:
        path = urlsplit(candidate).path
    except ValueError:
        path = ""
    match = _LINK_PATH.search(path)
    if match is None:
        raise InvalidRequestError("not a meeting link or meeting id", code="invalid_join_link")
    return match.group(1)
