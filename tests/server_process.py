"""Running ``cloudlink`` server commands as a user would: a subprocess and plain HTTP."""

from __future__ import annotations

import io
import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cloudlink.cli import main

PASSWORD = "a long admin password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Test certificates are self-signed: HTTPS requests here do not verify them.
_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request with the standard library; returns (status, body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10, context=_UNVERIFIED) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:  # the error holds the response and its socket
            return error.code, json.loads(error.read())


@contextmanager
def running_server(database_url: str, *options: str, scheme: str = "http") -> Iterator[str]:
    """``cloudlink serve`` in a subprocess; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudlink",
            "serve",
            "--database-url",
            database_url,
            "--port",
            str(port),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http("GET", f"{base}/api/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"the server did not come up:\n{output}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def create_org(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}\n"))
    return main(["admin", "create-org", *args, "--database-url", database_url])
