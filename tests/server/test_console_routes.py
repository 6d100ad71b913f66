"""The admin console's static files: what is served under /console/, with which headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cloudlink.server import ServerSettings, create_app
from cloudlink.server.console_routes import CONSOLE_DIR
from cloudlink.store import Database


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[TestClient[Any, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'cloudlink.db'}")
    try:
        yield await aiohttp_client(create_app(db, settings=ServerSettings(purge_interval_s=0)))
    finally:
        db.close()


async def test_the_bare_prefix_redirects_to_the_index(client: TestClient[Any, Any]) -> None:
    response = await client.get("/console", allow_redirects=False)
    assert response.status == 308
    assert response.headers["Location"] == "/console/"


async def test_the_index_is_served_with_a_strict_content_security_policy(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/console/")
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="main.js">' in await response.text()


async def test_every_module_the_console_imports_is_served(client: TestClient[Any, Any]) -> None:
    modules = sorted(path.name for path in CONSOLE_DIR.glob("*.js"))
    assert "main.js" in modules
    for name in modules:
        response = await client.get(f"/console/{name}")
        assert response.status == 200, name
        assert response.content_type == "text/javascript"
        # Every relative import names a file that is served too.
        for imported in re.findall(r'from "\./([a-z_]+\.js)"', await response.text()):
            assert imported in modules, (name, imported)


@pytest.mark.parametrize(
    "path",
    ["/console/missing.js", "/console/..%2Fapp.py", "/console/%2E%2E/app.py", "/console/x/y.js"],
)
async def test_only_the_console_files_are_served(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path)
    assert response.status == 404


def test_the_console_never_writes_markup_from_strings() -> None:
    # Text from the API reaches the DOM only as text nodes (dom.js) or textContent.
    for path in CONSOLE_DIR.glob("*.js"):
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (path.name, sink)
