"""The browser join page: /j/{meeting_code} and its files under /join/.

A join link opened in a browser lands on ``join.html`` from the ``join``
folder beside this module, with the meeting id written into its heading;
its plain ES modules, served from /join/, sign in with the REST API and
join the meeting over the signaling WebSocket with an SDP offer
(docs/web-join.md). Files are served as the console's are: only those found
when the app is built, each with a Content-Security-Policy that allows this
origin only (media elements play MediaStreams, which no policy restricts).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from aiohttp import web

from cloudlink.server.console_routes import servable_files, static_response

__all__ = ["JOIN_DIR", "JOIN_PREFIX", "add_join_routes"]

JOIN_DIR: Final = Path(__file__).parent / "join"
JOIN_PREFIX: Final = "/join/"

_MEETING_CODE: Final = re.compile(r"^[0-9]{9}$")
_PAGE: Final = "join.html"
# Where the page template takes the meeting id (digits and spaces only).
_CODE_MARK: Final = "{meeting_code}"


def add_join_routes(app: web.Application, *, folder: Path = JOIN_DIR) -> None:
    """Serves the join page at /j/{meeting_code} and its files at /join/{name}."""
    files = servable_files(folder)
    page = files.pop(_PAGE, None)
    template = page.read_text(encoding="utf-8") if page is not None else None

    async def join_page(request: web.Request) -> web.StreamResponse:
        code = request.match_info["meeting_code"]
        if template is None or not _MEETING_CODE.match(code):
            raise web.HTTPNotFound()
        spaced = f"{code[:3]} {code[3:6]} {code[6:]}"
        return static_response(template.replace(_CODE_MARK, spaced), suffix=".html")

    async def asset(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return static_response(path)

    app.router.add_get("/j/{meeting_code}", join_page)
    app.router.add_get(JOIN_PREFIX + "{name}", asset)
