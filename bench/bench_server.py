"""The organisation server under load: logins and authenticated requests per second.

Workload: ``cloudlink serve`` pinned to one core (taskset, where present) on
SQLite and on PostgreSQL, production argon2id parameters; (1) password
logins of one member on one device, 4 at a time; (2) ``GET /api/me`` with a
bearer token, 16 at a time. Reported: requests per second and the p50/p99
latency in ms. No anchor is named for the server in ANCHORS.md: the figures
stand alone. Traffic goes to 127.0.0.1 only and every loop is bounded.

PostgreSQL comes from CLOUDLINK_TEST_POSTGRES_URL, or is started for the run
with scripts/services.sh.

    .venv/bin/python bench/bench_server.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

from cloudlink.accounts.members import add_member
from cloudlink.accounts.organisations import create_organisation
from cloudlink.accounts.passwords import Passwords
from cloudlink.store import Database
from cloudlink.store.database import normalise_url

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _postgres_server() -> Iterator[str]:
    url = os.environ.get("CLOUDLINK_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    script = ROOT / "scripts" / "services.sh"
    started = subprocess.run(
        [str(script), "start", "postgres"], check=True, capture_output=True, text=True
    )
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(script), "stop", "postgres"], check=False)


@contextmanager
def _database(backend: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    assert postgres_url is not None
    server = normalise_url(postgres_url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(url: str) -> None:
    db = Database(url)
    db.migrate()
    password_hash = Passwords().hash(PASSWORD)

    def work(session: object) -> None:
        organisation, _ = create_organisation(
            session,  # type: ignore[arg-type]
            name="bench",
            admin_account_name="root",
            admin_display_name="Root",
            admin_password_hash=password_hash,
        )
        add_member(
            session,  # type: ignore[arg-type]
            organisation_id=organisation.id,
            account_name="member",
            display_name="Member",
            password_hash=password_hash,
        )

    db.run_sync(work)
    db.close()


@contextmanager
def _server(url: str) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "cloudlink",
        "serve",
        "--database-url",
        url,
        "--port",
        str(port),
        "--login-attempts-per-minute",
        "1000000",
    ]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _wait_up(session: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/api/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not come up")


async def _load(
    count: int, concurrency: int, request: Callable[[], Awaitable[None]]
) -> dict[str, float]:
    latencies_ms: list[float] = []
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await request()
            latencies_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed_s = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies_ms, n=100)
    return {
        "per_s": round(len(latencies_ms) / elapsed_s, 1),
        "p50_ms": round(quantiles[49], 2),
        "p99_ms": round(quantiles[98], 2),
    }


async def _measure(base: str, *, logins: int, requests: int) -> dict[str, dict[str, float]]:
    login = {
        "organisation": "bench",
        "account_name": "member",
        "password": PASSWORD,
        "device_id": "bench",
    }
    async with aiohttp.ClientSession() as session:
        await _wait_up(session, base)
        tokens: list[str] = []

        async def one_login() -> None:
            async with session.post(f"{base}/api/auth/login", json=login) as response:
                assert response.status == 200, await response.text()
                tokens.append((await response.json())["token"])

        login_figures = await _load(logins, 4, one_login)
        headers = {"Authorization": f"Bearer {tokens[-1]}"}

        async def one_request() -> None:
            async with session.get(f"{base}/api/me", headers=headers) as response:
                assert response.status == 200
                await response.read()

        await _load(min(requests, 100), 16, one_request)  # warm-up
        request_figures = await _load(requests, 16, one_request)
    return {"logins": login_figures, "requests": request_figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    logins, requests = (40, 500) if args.quick else (200, 5000)
    results: dict[str, object] = {}
    print(f"{'backend':<12}{'what':<22}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    with tempfile.TemporaryDirectory() as workdir, _postgres_server() as postgres_url:
        for backend in ("sqlite", "postgresql"):
            with _database(backend, Path(workdir), postgres_url) as url:
                _prepare(url)
                with _server(url) as base:
                    figures = asyncio.run(_measure(base, logins=logins, requests=requests))
            results[backend] = figures
            for what, label in (("logins", "password logins"), ("requests", "GET /api/me")):
                row = figures[what]
                print(
                    f"{backend:<12}{label:<22}{row['per_s']:>10}{row['p50_ms']:>10}"
                    f"{row['p99_ms']:>10}"
                )
    print("RESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
