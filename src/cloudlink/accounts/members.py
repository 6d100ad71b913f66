"""Members of an organisation: added, modified and listed by an administrator.

Cancelling a member erases the person (cloudlink.privacy.erasure); this
module only holds the account record. Account names are unique within one
organisation, and every lookup is scoped by the organisation.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.errors import ConflictError, InvalidRequestError, NotFoundError
from cloudlink.store.models import Account

__all__ = [
    "ACCOUNT_NAME_PATTERN",
    "PROFILE_FIELDS",
    "add_member",
    "get_member",
    "list_members",
    "normalise_account_name",
    "update_member",
]

ACCOUNT_NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
_ACCOUNT_NAME: Final = re.compile(ACCOUNT_NAME_PATTERN)
# Fields a member may correct about themselves (data-subject right to rectification).
PROFILE_FIELDS: Final = ("display_name", "mobile", "email")


def normalise_account_name(name: str) -> str:
    """Lower-cases ``name`` after checking it against ACCOUNT_NAME_PATTERN."""
    if not _ACCOUNT_NAME.match(name):
        raise InvalidRequestError(
            "account name must be 1-64 letters, digits or ._@- and start with a letter or digit",
            code="invalid_account_name",
        )
    return name.lower()


def add_member(
    session: Session,
    *,
    organisation_id: int,
    account_name: str,
    display_name: str,
    password_hash: str,
    mobile: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
) -> Account:
    """Adds an account to the organisation."""
    name = normalise_account_name(account_name)
    taken = session.scalar(
        select(Account.id).where(
            Account.organisation_id == organisation_id, Account.account_name == name
        )
    )
    if taken is not None:
        raise ConflictError(f"account {name!r} exists", code="account_exists")
    now = utc_now()
    account = Account(
        organisation_id=organisation_id,
        account_name=name,
        display_name=display_name,
        mobile=mobile,
        email=email,
        is_admin=is_admin,
        password_hash=password_hash,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
        failed_logins=0,
        processing_restricted=False,
    )
    session.add(account)
    session.flush()
    return account


def get_member(session: Session, organisation_id: int, account_id: int) -> Account:
    """The account ``account_id`` of the organisation; NotFoundError for any other's."""
    account = session.get(Account, account_id)
    if account is None or account.organisation_id != organisation_id:
        raise NotFoundError("no such account", code="account_not_found")
    return account


def list_members(
    session: Session,
    organisation_id: int,
    *,
    query: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Account]:
    """Accounts of the organisation, by account name; ``query`` matches name, phone or email."""
    statement = select(Account).where(Account.organisation_id == organisation_id)
    if query:
        pattern = f"%{_escape_like(query.lower())}%"
        statement = statement.where(
            or_(
                func.lower(Account.display_name).like(pattern, escape="\\"),
                func.lower(Account.account_name).like(pattern, escape="\\"),
                func.lower(Account.email).like(pattern, escape="\\"),
                Account.mobile.like(pattern, escape="\\"),
            )
        )
    statement = statement.order_by(Account.account_name).limit(limit).offset(offset)
    return list(session.scalars(statement))


def update_member(
    session: Session,
    organisation_id: int,
    account_id: int,
    changes: dict[str, Any],
    *,
    allowed: tuple[str, ...] = (*PROFILE_FIELDS, "is_admin"),
) -> Account:
    """Applies ``changes`` to the account's ``allowed`` fields."""
    account = get_member(session, organisation_id, account_id)
    for key, value in changes.items():
        if key not in allowed:
            raise InvalidRequestError(f"field {key!r} cannot be changed here", code="invalid_field")
        setattr(account, key, value)
    account.updated_at = utc_now()
    return account


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
