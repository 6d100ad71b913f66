"""``cloudlink admin ...``: bootstrapping an organisation from the command line.

``create-org NAME --admin ACCOUNT`` creates an organisation with its first
administrator. The password is read from a prompt on a terminal, or from the
first line of standard input otherwise; it never appears on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from cloudlink.cli.serve import add_database_option
from cloudlink.errors import ConfigError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds ``cloudlink admin create-org``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "admin", help="administer the organisation server's database"
    )
    commands = parser.add_subparsers(dest="admin_command", metavar="COMMAND")
    create = commands.add_parser(
        "create-org",
        help="create an organisation and its first administrator",
        description="Creates organisation NAME with administrator ACCOUNT; the password "
        "comes from a prompt, or from standard input when it is not a terminal.",
    )
    create.add_argument("name", metavar="NAME", help="the organisation's name (unique)")
    create.add_argument("--admin", required=True, metavar="ACCOUNT", help="administrator account")
    create.add_argument(
        "--display-name", default=None, help="administrator's name (default ACCOUNT)"
    )
    add_database_option(create)
    create.set_defaults(run=_create_org)


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("administrator password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _create_org(args: argparse.Namespace) -> int:
    from cloudlink.accounts.members import normalise_account_name
    from cloudlink.accounts.organisations import create_organisation
    from cloudlink.accounts.passwords import Passwords
    from cloudlink.errors import ServiceError
    from cloudlink.store import Database

    password = _read_password()
    try:
        Passwords.check_strength(password)
        account_name = normalise_account_name(args.admin)
    except ServiceError as error:
        raise ConfigError(str(error)) from error
    password_hash = Passwords().hash(password)
    db = Database(args.database_url)
    try:
        db.migrate()
        organisation, admin = db.run_sync(
            lambda s: create_organisation(
                s,
                name=args.name,
                admin_account_name=account_name,
                admin_display_name=args.display_name or args.admin,
                admin_password_hash=password_hash,
            )
        )
    except ServiceError as error:
        raise ConfigError(str(error)) from error
    finally:
        db.close()
    print(
        f"created organisation {organisation.name!r} (id {organisation.id}) "
        f"with administrator {admin.account_name!r}"
    )
    return 0
