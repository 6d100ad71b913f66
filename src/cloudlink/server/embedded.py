"""The organisation server inside this process, on loopback over an SQLite
file: for ``cloudlink demo``, the meeting tests and the benchmarks.

    server = EmbeddedServer(database_path=tmp / "demo.db")
    url = await server.start()                 # http://127.0.0.1:PORT
    server.add_organisation("Demo", admin="host", members=[("ada", "Ada")], password=...)
    ...
    await server.stop()
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from sqlalchemy.orm import Session

from cloudlink.accounts.members import add_member
from cloudlink.accounts.organisations import create_organisation
from cloudlink.accounts.passwords import PasswordPolicy, Passwords
from cloudlink.errors import ConfigError
from cloudlink.server.app import create_app
from cloudlink.server.context import ServerSettings
from cloudlink.store.database import Database

__all__ = ["EmbeddedServer"]

_LOOPBACK = "127.0.0.1"


class EmbeddedServer:
    """``create_app`` over ``sqlite:///database_path``, served on loopback.

    ``port=0`` takes a free port; :meth:`start` returns the base URL, which
    is also the public URL join links are built from.
    """

    def __init__(
        self,
        *,
        database_path: Path,
        port: int = 0,
        password_policy: PasswordPolicy | None = None,
    ) -> None:
        self._database_path = database_path
        self._port = port
        self._password_policy = password_policy
        self._db: Database | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def db(self) -> Database:
        """The server's database (started servers only)."""
        if self._db is None:
            raise ConfigError("the embedded server is not started")
        return self._db

    async def start(self) -> str:
        """Migrates the database, binds the port and serves; returns the base URL."""
        # Step 1: the listening socket first, so the public URL names its port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((_LOOPBACK, self._port))
        except OSError as error:
            sock.close()
            raise ConfigError(f"cannot listen on {_LOOPBACK}:{self._port}: {error}") from error
        self.url = f"http://{_LOOPBACK}:{sock.getsockname()[1]}"

        # Step 2: the application over a fresh or existing SQLite file.
        self._db = Database(f"sqlite:///{self._database_path}")
        app = create_app(
            self._db,
            settings=ServerSettings(public_base_url=self.url, purge_interval_s=0.0),
            password_policy=self._password_policy,
        )
        # No access log, as `cloudlink serve`: it would hold client addresses.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self.url

    def add_organisation(
        self,
        name: str,
        *,
        admin: str,
        members: Sequence[tuple[str, str]],
        password: str,
    ) -> None:
        """An organisation whose administrator is ``admin`` and whose other
        members are ``(account name, display name)``, all with ``password``."""
        passwords = Passwords(self._password_policy)
        try:
            password_hash = passwords.hash(password)
        finally:
            passwords.close()

        def work(session: Session) -> None:
            organisation, _ = create_organisation(
                session,
                name=name,
                admin_account_name=admin,
                admin_display_name=admin.capitalize(),
                admin_password_hash=password_hash,
            )
            for account_name, display_name in members:
                add_member(
                    session,
                    organisation_id=organisation.id,
                    account_name=account_name,
                    display_name=display_name,
                    password_hash=password_hash,
                )

        self.db.run_sync(work)

    async def stop(self) -> None:
        """Stops serving (open WebSockets are closed) and closes the database."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._db is not None:
            self._db.close()
            self._db = None
