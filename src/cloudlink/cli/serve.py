"""``cloudlink serve``: runs the organisation server (REST API under /api).

The database is an embedded SQLite file by default; ``--database-url`` takes
a PostgreSQL URL instead. Migrations are applied on start. The server binds
to loopback unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Final

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
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from cloudlink.server import ServerSettings, create_app
    from cloudlink.store import Database

    if args.database_url.startswith("sqlite:///"):
        path = Path(args.database_url.removeprefix("sqlite:///"))
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
    db = Database(args.database_url)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    app = create_app(db, settings=ServerSettings(public_base_url=public_url))
    try:
        web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    finally:
        db.close()
    return 0
