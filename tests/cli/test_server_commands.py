"""``cloudlink admin create-org`` and ``cloudlink serve``, run as a user would."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from cloudlink.cli import main
from server_process import PASSWORD, create_org, http, running_server


def test_create_org_then_serve_and_sign_in(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create_org(monkeypatch, database_url, "Acme Ltd", "--admin", "root") == 0
    assert "created organisation 'Acme Ltd'" in capsys.readouterr().out
    # The name is taken now; a short password is refused.
    assert create_org(monkeypatch, database_url, "Acme Ltd", "--admin", "root") == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert (
        main(["admin", "create-org", "Other", "--admin", "x", "--database-url", database_url]) == 2
    )
    assert PASSWORD not in capsys.readouterr().err
    with running_server(database_url) as base:
        status, document = http("GET", f"{base}/api/openapi.json")
        assert status == 200 and document["openapi"].startswith("3.1")
        status, login = http(
            "POST",
            f"{base}/api/auth/login",
            {
                "organisation": "Acme Ltd",
                "account_name": "root",
                "password": PASSWORD,
                "device_id": "cli-test",
            },
        )
        assert status == 200, login
        status, me = http("GET", f"{base}/api/me", token=login["token"])
        assert (status, me["is_admin"]) == (200, True)


def test_serve_creates_the_default_sqlite_file_where_told(tmp_path: Path) -> None:
    target = tmp_path / "data" / "org.db"
    with running_server(f"sqlite:///{target}") as base:
        assert http("GET", f"{base}/api/health") == (200, {"status": "ok"})
    assert target.exists()


def test_the_commands_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "serve" in out and "admin" in out


def test_serve_speaks_https_with_a_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    options = ("--tls-cert", str(cert), "--tls-key", str(key))
    with running_server(f"sqlite:///{tmp_path / 'db'}", *options, scheme="https") as base:
        assert http("GET", f"{base}/api/health") == (200, {"status": "ok"})


def test_serve_refuses_a_key_without_a_certificate(tmp_path: Path) -> None:
    code = main(
        [
            "serve",
            "--database-url",
            f"sqlite:///{tmp_path / 'db'}",
            "--tls-key",
            str(tmp_path / "key.pem"),
        ]
    )
    assert code == 2
