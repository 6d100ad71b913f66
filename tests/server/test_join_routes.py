"""The browser join page's files: /j/{code} and what is served under /join/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cloudlink.server import ServerSettings, create_app
from cloudlink.server.join_routes import JOIN_DIR
from cloudlink.store import Database


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[TestClient[Any, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'cloudlink.db'}")
    try:
        yield await aiohttp_client(create_app(db, settings=ServerSettings(purge_interval_s=0)))
    finally:
        db.close()


async def test_a_join_link_serves_the_page_naming_its_meeting(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/j/123456789")
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "connect-src 'self'" in policy
    page = await response.text()
    assert '<span id="meeting-code">123 456 789</span>' in page
    assert '<script type="module" src="/join/main.js">' in page
    assert "{meeting_code}" not in page


@pytest.mark.parametrize("code", ["12345", "1234567890", "12345678x", "join.js", "main.js"])
async def test_anything_but_a_meeting_id_is_not_found(
    client: TestClient[Any, Any], code: str
) -> None:
    assert (await client.get(f"/j/{code}")).status == 404


async def test_every_module_the_page_imports_is_served(client: TestClient[Any, Any]) -> None:
    modules = sorted(path.name for path in JOIN_DIR.glob("*.js"))
    assert "main.js" in modules
    for name in [*modules, "join.css"]:
        response = await client.get(f"/join/{name}")
        assert response.status == 200, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        for imported in re.findall(r'from "\./([a-z_]+\.js)"', await response.text()):
            assert imported in modules, (name, imported)


@pytest.mark.parametrize(
    "path", ["/join/join.html", "/join/missing.js", "/join/..%2Fapp.py", "/join/", "/join/x/y.js"]
)
async def test_only_the_pages_files_are_served(client: TestClient[Any, Any], path: str) -> None:
    assert (await client.get(path)).status == 404
