"""Schemathesis against /api/openapi.json of a running server: no 5xx, no schema violation.

The server runs as ``cloudlink serve`` over each backend, with an
organisation holding an administrator, a member and a meeting; schemathesis
sends generated and boundary requests to every operation with the
administrator's token. Operations that end the token's own session are left
out (logout, password change, signing out a device: schemathesis learns the
device id from the device listing and would turn the rest of the run into
401s); tests/server/test_accounts_api.py covers them. The run is bounded:
few examples per operation, a fixed seed, no shrinking.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server_process import PASSWORD, create_org, http, running_server

_EXAMPLES_PER_OPERATION = 10
_TIMEOUT_S = 300


@pytest.mark.slow
def test_no_server_errors_and_no_schema_violations(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert create_org(monkeypatch, database_url, "acme", "--admin", "root") == 0
    with running_server(database_url) as base:
        _, login = http(
            "POST",
            f"{base}/api/auth/login",
            {
                "organisation": "acme",
                "account_name": "root",
                "password": PASSWORD,
                "device_id": "fuzz",
            },
        )
        token = login["token"]
        http(
            "POST",
            f"{base}/api/accounts",
            {"account_name": "bob", "display_name": "Bob", "password": PASSWORD},
            token,
        )
        http("POST", f"{base}/api/meetings", {"topic": "Fuzz", "kind": "instant"}, token)
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
            "^/api/(auth/logout|me/password|me/devices/.*|accounts/[^/]+/devices/[^/]+)$",
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5000:]
        # The token still works: the run did not sign itself out.
        status, me = http("GET", f"{base}/api/me", token=token)
        assert status == 200, me
