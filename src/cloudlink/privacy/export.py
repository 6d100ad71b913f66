"""Data-subject access: everything stored about one member, as JSON.

The export is built from the schema rather than a list kept by hand: every
row of every table with a column that refers to the account (its devices,
sessions, contacts, meetings hosted, roles, invitations, attendances,
telemetry, audit entries it made) goes in, with every column but secrets
(password and token hashes). Audit entries about the account are added. A
table added later is exported without anyone remembering to.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any, Final

from sqlalchemy import Column, Table, and_, or_, select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member
from cloudlink.store.models import Account, AuditEntry, Base

__all__ = [
    "EXPORT_FORMAT",
    "OTHERS_REFERENCES",
    "SECRET_COLUMNS",
    "account_columns",
    "export_account",
]

EXPORT_FORMAT: Final = "cloudlink-export/1"
# Columns never exported: hashes that would only help an attacker.
SECRET_COLUMNS: Final = frozenset(
    {
        ("accounts", "password_hash"),
        ("auth_sessions", "token_sha256"),
        ("meetings", "password_hash"),
    }
)


# References left out: another member's address-book entry of this person
# (with that member's own notes) is that member's data; the privacy of
# others is a ground to decline this part of an access request.
OTHERS_REFERENCES: Final = frozenset({("contacts", "member_account_id")})


def account_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that refer to an account."""
    return [
        column
        for column in table.columns
        if any(fk.column.table.name == "accounts" for fk in column.foreign_keys)
    ]


def _exported_references(table: Table) -> list[Column[Any]]:
    return [c for c in account_columns(table) if (table.name, c.name) not in OTHERS_REFERENCES]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _rows(session: Session, table: Table, condition: Any) -> list[dict[str, Any]]:
    columns = [c for c in table.columns if (table.name, c.name) not in SECRET_COLUMNS]
    result = session.execute(select(*columns).where(condition).order_by(table.c.id))
    return [{key: _json_value(value) for key, value in row._mapping.items()} for row in result]


def export_account(session: Session, organisation_id: int, account_id: int) -> dict[str, Any]:
    """The member's data: the account row and, per table, the rows that refer to it."""
    get_member(session, organisation_id, account_id)
    accounts = Account.__table__
    assert isinstance(accounts, Table)
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": utc_now().isoformat(),
        "account": _rows(session, accounts, accounts.c.id == account_id)[0],
        "tables": {},
    }
    for name, table in sorted(Base.metadata.tables.items()):
        columns = _exported_references(table)
        if name == "accounts" or not columns:
            continue
        condition: Any = and_(
            table.c.organisation_id == organisation_id,
            or_(*(column == account_id for column in columns)),
        )
        if name == AuditEntry.__tablename__:
            condition = or_(
                condition,
                and_(
                    table.c.organisation_id == organisation_id,
                    table.c.target_type == "account",
                    table.c.target_id == account_id,
                ),
            )
        export["tables"][name] = _rows(session, table, condition)
    return export
