"""``cloudlink serve``: runs the organisation server (REST API under /api).

The database is an embedded SQLite file by default; ``--database-url`` takes
a PostgreSQL URL instead. Migrations are applied on start. The server binds
to loopback unless ``--host`` says otherwise, and speaks HTTPS when given a
certificate and key (otherwise put it behind a TLS-terminating proxy).
"""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path
from typing import Any, Final

from cloudlink.errors import ConfigError

__all__ = ["DEFAULT_DATABASE_URL", "add_database_option", "register"]

DEFAULT_DATABASE_URL: Final = "sqlite:///cloudlink.db"


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Adds ``--database-url`` with its default."""
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="sqlite:///FILE (default: cloudlink.db in the working directory) "
        "or postgresql://USER:PASSWORD@HOST:PORT/DB",
    )


def register(subparsers: Any) -> None:
    """Adds the ``serve`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="run the organisation server", description=__doc__.splitlines()[0]
    )
    add_database_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument(
        "--public-url",
        default=None,
        help="the address users reach the server at, for join links (default http://HOST:PORT)",
    )
    parser.add_argument(
        "--login-attempts-per-minute",
        type=int,
        default=120,
        metavar="N",
        help="password logins one client network (/24 or /48) may try per minute (default 120)",
    )
    parser.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", type=Path, default=None, help="PEM private key of --tls-cert")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from cloudlink.accounts.sessions import LoginPolicy
    from cloudlink.server import ServerSettings, create_app
    from cloudlink.store import Database

    if args.database_url.startswith("sqlite:///"):
        path = Path(args.database_url.removeprefix("sqlite:///"))
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
    ssl_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ConfigError("--tls-cert and --tls-key go together")
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(f"cannot load the TLS certificate: {error}") from error
    db = Database(args.database_url)
    scheme = "https" if ssl_context else "http"
    public_url = args.public_url or f"{scheme}://{args.host}:{args.port}"
    if args.login_attempts_per_minute < 1:
        raise ConfigError("--login-attempts-per-minute must be at least 1")
    app = create_app(
        db,
        settings=ServerSettings(public_base_url=public_url),
        login_policy=LoginPolicy(attempts_per_network=args.login_attempts_per_minute),
    )
    try:
        # No access log: it would hold every client's full address.
        web.run_app(
            app,
            host=args.host,
            port=args.port,
            ssl_context=ssl_context,
            print=None,
            access_log=None,
        )
    finally:
        db.close()
    return 0
