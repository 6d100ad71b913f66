"""The admin console: static pages under /console/, served from the package.

The console is plain HTML, CSS and JavaScript ES modules in the ``console``
folder beside this module (shipped in the wheel as package data); the
browser talks to the REST API under /api with a bearer token it keeps in
sessionStorage. Only the files found in that folder when the app is built
are served, each with a Content-Security-Policy that allows scripts, styles
and requests from this origin only, so injected markup cannot run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

__all__ = [
    "CONSOLE_DIR",
    "CONSOLE_PREFIX",
    "add_console_routes",
    "servable_files",
    "static_response",
]

CONSOLE_DIR: Final = Path(__file__).parent / "console"
CONSOLE_PREFIX: Final = "/console/"

_SUFFIXES: Final = {".html", ".js", ".css", ".svg"}
_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_CONTENT_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def servable_files(folder: Path) -> dict[str, Path]:
    """The servable files of ``folder`` by name (no subfolders, no hidden files)."""
    if not folder.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in _SUFFIXES and not path.name.startswith(".")
    }


def static_response(content: Path | str, *, suffix: str | None = None) -> web.StreamResponse:
    """A file (or text of type ``suffix``) with the console's security headers."""
    kind = _CONTENT_TYPES[suffix if suffix is not None else Path(content).suffix]
    headers = {**_HEADERS, "Content-Type": f"{kind}; charset=utf-8"}
    if isinstance(content, Path):
        return web.FileResponse(content, headers=headers)
    return web.Response(text=content, headers=headers)


def add_console_routes(app: web.Application, *, folder: Path = CONSOLE_DIR) -> None:
    """Serves the console in ``folder`` at /console/ (index.html for the bare prefix)."""
    files = servable_files(folder)

    async def redirect(_request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(CONSOLE_PREFIX)

    async def index(_request: web.Request) -> web.StreamResponse:
        if "index.html" not in files:
            raise web.HTTPNotFound()
        return static_response(files["index.html"])

    async def asset(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return static_response(path)

    app.router.add_get(CONSOLE_PREFIX.rstrip("/"), redirect)
    app.router.add_get(CONSOLE_PREFIX, index)
    app.router.add_get(CONSOLE_PREFIX + "{name}", asset)
