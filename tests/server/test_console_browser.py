"""The admin console in headless Chromium, driven by Playwright, against the real server.

The server runs as ``cloudlink serve`` over a temporary SQLite file on a free
loopback port; the organisation and its administrator come from ``cloudlink
admin create-org``. Chromium is the system's (/usr/bin/chromium, the Debian
package): Playwright never downloads a browser here. Without Chromium or
Playwright the tests skip locally and fail under CI (CI=true).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

ORGANISATION = "acme"
ADMIN = "root"
ADMIN_PASSWORD = "correct horse battery"
SCREENSHOT_DIR = Path("/tmp")
# The flags every headless Chromium here needs (see shared/ANCHORS.md, Browser).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 30.0
# Playwright's wait for one element or state, in milliseconds.
WAIT_MS = 10_000


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _chromium() -> str:
    path = os.environ.get("CLOUDLINK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        _unavailable(f"Chromium is missing ({path}): apt-get install chromium")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """The running server: its base URL and a small JSON client of its API."""

    base_url: str

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def login(self, device_id: str) -> str:
        answer = self.call(
            "POST",
            "/api/auth/login",
            body={
                "organisation": ORGANISATION,
                "account_name": ADMIN,
                "password": ADMIN_PASSWORD,
                "device_id": device_id,
            },
        )
        token: str = answer["token"]
        return token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``cloudlink serve`` on a free port over a fresh SQLite database with one organisation."""
    folder = tmp_path_factory.mktemp("console")
    database_url = f"sqlite:///{folder / 'cloudlink.db'}"
    command = [sys.executable, "-m", "cloudlink"]
    database = ["--database-url", database_url]
    subprocess.run(
        [*command, "admin", "create-org", ORGANISATION, "--admin", ADMIN, *database],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        cwd=folder,
        timeout=STARTUP_TIMEOUT_S,
    )
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [*command, "serve", *database, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(base_url + "/api/health", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "the server did not start:\n" + (folder / "server.log").read_text()
                    ) from None
                time.sleep(0.1)
        yield Server(base_url=base_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (the system's) under Playwright."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is missing: pip install playwright (the test extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # A persistent context takes the empty profile folder Chromium is given.
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(WAIT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh tab on the console's sign-in page; script errors and CSP violations fail the test."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    # A blocked script, style or request shows only as a console message.
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.goto(server.base_url + "/console/")
    yield tab
    tab.close()
    assert errors == []


def _sign_in(page: Any, password: str = ADMIN_PASSWORD) -> None:
    form = page.locator("#login-form")
    form.locator("[name=organisation]").fill(ORGANISATION)
    form.locator("[name=account_name]").fill(ADMIN)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def _open(page: Any, section: str) -> Any:
    page.locator(f"nav.tabs a[data-view={section}]").click()
    view = page.locator(f"#view[data-section={section}]:not([aria-busy])")
    view.wait_for()
    return view


def test_a_wrong_password_shows_an_error_and_no_console(page: Any) -> None:
    _sign_in(page, password="not the password")
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    assert "password" in error.text_content().lower()
    assert page.locator("#app-view").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    page.screenshot(path=str(SCREENSHOT_DIR / "cloudlink-console-login.png"))


def test_an_administrator_manages_the_organisation(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    _sign_in(page)
    page.locator("#whoami-name").wait_for(state="visible")
    assert ADMIN in page.locator("#whoami-name").text_content()
    token = page.evaluate("sessionStorage.getItem('cloudlink.console.token')")
    assert token and token not in page.url

    # Members: add one whose name is markup, and see it listed as text.
    members = _open(page, "members")
    add = members.locator("#add-member")
    add.locator("[name=account_name]").fill("alice")
    add.locator("[name=display_name]").fill("<b>Alice</b> Liddell")
    add.locator("[name=password]").fill("alice password 1")
    add.locator("[name=email]").fill("alice@example.org")
    add.locator("button[type=submit]").click()
    row = members.locator("tr[data-account=alice]")
    row.wait_for()
    assert "<b>Alice</b> Liddell" in row.text_content()
    assert row.locator("b").count() == 0

    # Modify the member through its detail panel.
    row.get_by_role("button", name="Manage").click()
    detail = members.locator("#member-detail form[aria-label='Modify member']")
    detail.locator("[name=mobile]").fill("+44 20 7946 0000")
    detail.locator("button[type=submit]").click()
    members.locator("tr[data-account=alice] >> text=+44 20 7946 0000").wait_for()

    # Her privacy: stop collecting her quality data, then export everything stored about her.
    settings = members.locator("#member-privacy form")
    settings.locator("[name=collect_quality]").select_option("off")
    settings.locator("button[type=submit]").click()
    members.locator("#member-privacy >> text=quality data no").wait_for()
    with page.expect_download() as download:
        members.get_by_role("button", name="Export all data (JSON)").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["account"]["account_name"] == "alice"
    page.screenshot(path=str(SCREENSHOT_DIR / "cloudlink-console-members.png"), full_page=True)

    # Address book: the directory finds her by email.
    directory = _open(page, "directory")
    search = directory.locator("#directory-search")
    search.locator("[name=q]").fill("alice@example")
    search.locator("button[type=submit]").click()
    results = directory.locator("#directory-results tbody tr")
    expect(results).to_have_count(1)
    assert "alice" in results.first.text_content()
    results.first.get_by_role("button", name="Add to my contacts").click()
    directory.locator("#contact-list >> text=<b>Alice</b> Liddell").wait_for()

    # Meetings: an instant one, with its join link.
    meetings = _open(page, "meetings")
    create = meetings.locator("#create-meeting")
    create.locator("[name=topic]").fill("Quarterly review")
    create.locator("button[type=submit]").click()
    link = meetings.locator("#created-join-link")
    link.wait_for()
    join_link = link.text_content()
    query = urllib.parse.urlencode({"link": join_link})
    code = server.call("GET", f"/api/join-links/parse?{query}", token)["meeting_code"]
    expect(meetings.locator(f"tr[data-code='{code}']")).to_have_count(1)

    # A scheduled, weekly meeting: its start goes to the API in UTC.
    create.locator("[name=topic]").fill("Weekly planning")
    create.locator("[name=kind]").select_option("scheduled")
    create.locator("[name=starts_at]").fill("2031-01-06T09:30")
    create.locator("[name=recurrence]").select_option("weekly")
    create.locator("[name=recurrence_count]").fill("4")
    create.locator("button[type=submit]").click()
    expect(meetings.locator("#meeting-list tbody tr")).to_have_count(2)
    weekly = server.call("GET", "/api/meetings", token)
    scheduled = next(m for m in weekly if m["topic"] == "Weekly planning")
    assert (scheduled["recurrence"], scheduled["recurrence_count"]) == ("weekly", 4)
    assert scheduled["starts_at"].startswith("2031-01-06T")
    assert len(scheduled["next_occurrences"]) == 4
    page.screenshot(path=str(SCREENSHOT_DIR / "cloudlink-console-meetings.png"), full_page=True)

    # Privacy: stop collecting event logs by default.
    privacy = _open(page, "privacy")
    privacy.locator("[name=default_collect_events]").uncheck()
    privacy.locator("[name=retention_quality_days]").fill("30")
    privacy.locator("#privacy-form button[type=submit]").click()
    page.locator("#status >> text=Saved").wait_for()
    organisation = server.call("GET", "/api/organisation", token)
    assert organisation["default_collect_events"] is False
    assert organisation["retention_quality_days"] == 30

    # Devices: the console's own device is listed as signed in.
    devices = _open(page, "devices")
    assert devices.locator("#device-list tbody tr >> text=Admin console").count() == 1

    # Audit log: both administrator actions, newest first.
    audit = _open(page, "audit")
    actions = audit.locator("#audit-list tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert actions == [
        "organisation.update",
        "privacy.export",
        "privacy.update",
        "account.update",
        "account.add",
    ]
    assert "account alice" in audit.locator("tr[data-action='account.add']").text_content()
    page.screenshot(path=str(SCREENSHOT_DIR / "cloudlink-console-audit.png"), full_page=True)

    # Quality: reports posted for two meetings; the chart draws this meeting's five.
    api_token = server.login("quality-test-client")
    other = server.call("POST", "/api/meetings", api_token, {"topic": "Other", "kind": "instant"})
    reports = [
        {
            "meeting_code": code,
            "media": "audio",
            "loss_pct": loss,
            "jitter_ms": 10.0 + 5 * i,
            "rtt_ms": 80.0,
            "mos": 4.3 - 0.3 * i,
        }
        for i, loss in enumerate([0.5, 1.0, 4.0, 8.0, 2.0])
    ]
    reports += [{**reports[0], "meeting_code": other["code"]}] * 3
    for report in reports:
        stored = server.call("POST", "/api/telemetry/quality", api_token, {"reports": [report]})
        assert stored == {"stored": 1}
        # The server stamps each report on arrival: spread them over a second or so.
        time.sleep(0.25)
    quality = _open(page, "quality")
    quality.locator(f"tr[data-meeting='{code}']").get_by_role("button", name="Chart").click()
    heading = quality.locator("#quality-charts h3")
    expect(heading).to_have_text(f"Meeting {code} (Quarterly review): 5 reports")
    assert quality.locator("#quality-overview tbody tr").count() == 2
    for chart in ("chart-loss", "chart-jitter", "chart-mos"):
        assert quality.locator(f"#{chart} svg circle.point").count() == 5, chart
        assert quality.locator(f"#{chart} svg polyline").count() == 1, chart
    # The chart is really drawn: many pixels of the series colour in its picture.
    picture = quality.locator("#chart-loss svg").screenshot()
    assert _coloured_pixels(picture) > 200
    page.screenshot(path=str(SCREENSHOT_DIR / "cloudlink-console-quality.png"), full_page=True)

    # Cancelling a member: gone from the list, recorded in the audit log.
    server.call(
        "POST",
        "/api/accounts",
        api_token,
        {"account_name": "carol", "display_name": "Carol", "password": "carol password 1"},
    )
    members = _open(page, "members")
    members.locator("tr[data-account=carol]").get_by_role("button", name="Manage").click()
    members.get_by_role("button", name="Cancel account").click()
    expect(members.locator("tr[data-account=carol]")).to_have_count(0)
    audit = _open(page, "audit")
    expect(audit.locator("#audit-list tbody tr").first).to_have_attribute(
        "data-action", "account.cancel"
    )

    # Signing out a device ends its session.
    devices = _open(page, "devices")
    client_row = devices.locator("#device-list tbody tr", has_text="quality-test-client")
    client_row.get_by_role("button", name="Sign out").click()
    expect(client_row.locator("td").nth(7)).to_have_text("no")
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.call("GET", "/api/me", api_token)
    refused.value.close()  # the error holds the response and its socket
    assert refused.value.code == 401

    # Signing out forgets the token.
    page.locator("#logout").click()
    page.locator("#login-view").wait_for(state="visible")
    assert page.evaluate("sessionStorage.length") == 0


def _coloured_pixels(png: bytes) -> int:
    """How many pixels of a PNG are of the first series colour (#0072b2), give or take."""
    with av.open(io.BytesIO(png)) as container:
        frame = next(container.decode(video=0))
    rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
    near = np.abs(rgb - np.array([0x00, 0x72, 0xB2], dtype=np.int16)).max(axis=2) < 40
    return int(near.sum())
