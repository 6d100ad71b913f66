"""Schemathesis against /api/openapi.json of a running server: no 5xx, no schema violation.

The server runs as ``cloudlink serve``, with an organisation holding an
administrator, a member and meetings of both; schemathesis sends generated
and boundary requests to every operation, with the administrator's token on
each backend and with the member's token on SQLite. Operations that end the
token's own session are left out (logout, password change, signing out a
device: schemathesis learns the device id from the device listing and would
turn the rest of the run into 401s); tests/server/test_accounts_api.py
covers them. Each run is bounded: few examples per operation, a fixed seed,
no shrinking.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server_process import PASSWORD, create_org, http, running_server

_EXAMPLES_PER_OPERATION = 10
_TIMEOUT_S = 300
_SESSION_ENDING = "^/api/(auth/logout|me/password|me/devices/.*|accounts/[^/]+/devices/[^/]+)$"


def _login(base: str, account: str) -> str:
    status, body = http(
        "POST",
        f"{base}/api/auth/login",
        {
            "organisation": "acme",
            "account_name": account,
            "password": PASSWORD,
            "device_id": f"fuzz-{account}",
        },
    )
    assert status == 200, body
    token: str = body["token"]
    return token


def _fuzz(base: str, token: str, workdir: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(_EXAMPLES_PER_OPERATION),
        "--seed",
        "4",
        "--no-shrink",
        "--workers",
        "1",
        "--exclude-path-regex",
        _SESSION_ENDING,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=_TIMEOUT_S, cwd=workdir, check=False
    )
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5000:]
    # The token still works: the run did not sign itself out.
    status, me = http("GET", f"{base}/api/me", token=token)
    assert status == 200, me


def _organisation(base: str) -> tuple[str, str]:
    """The administrator's and the member's tokens, with a meeting of each."""
    admin = _login(base, "root")
    http(
        "POST",
        f"{base}/api/accounts",
        {"account_name": "bob", "display_name": "Bob", "password": PASSWORD},
        admin,
    )
    member = _login(base, "bob")
    http(
        "POST",
        f"{base}/api/meetings",
        {"topic": "Root's", "kind": "instant", "waiting_room": True, "password": "letmein"},
        admin,
    )
    http("POST", f"{base}/api/meetings", {"topic": "Bob's", "kind": "instant"}, member)
    return admin, member


@pytest.mark.slow
def test_administrator_finds_no_server_errors_or_schema_violations(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert create_org(monkeypatch, database_url, "acme", "--admin", "root") == 0
    with running_server(database_url) as base:
        admin, _ = _organisation(base)
        _fuzz(base, admin, tmp_path)


@pytest.mark.slow
def test_member_finds_no_server_errors_or_schema_violations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    assert create_org(monkeypatch, database_url, "acme", "--admin", "root") == 0
    with running_server(database_url) as base:
        _, member = _organisation(base)
        _fuzz(base, member, tmp_path)
