"""The address book: the organisation's directory and each member's personal contacts.

The directory is every member of the caller's organisation, searchable by
name, phone number or email (cloudlink.accounts.members.list_members).
Personal contacts belong to one account; only its owner sees or changes
them. A contact may point at a directory member (``member_account_id``) so
that it can be called or invited directly.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member
from cloudlink.errors import InvalidRequestError, NotFoundError
from cloudlink.store.models import Contact

__all__ = ["CONTACT_FIELDS", "add_contact", "delete_contact", "list_contacts", "update_contact"]

CONTACT_FIELDS: Final = ("display_name", "mobile", "email", "note", "member_account_id")


def list_contacts(session: Session, organisation_id: int, owner_account_id: int) -> list[Contact]:
    """The owner's contacts, by name."""
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.organisation_id == organisation_id,
                Contact.owner_account_id == owner_account_id,
            )
            .order_by(Contact.display_name, Contact.id)
        )
    )


def add_contact(
    session: Session, organisation_id: int, owner_account_id: int, fields: dict[str, Any]
) -> Contact:
    """Adds a contact to the owner's address book."""
    _check(session, organisation_id, fields)
    now = utc_now()
    contact = Contact(
        organisation_id=organisation_id,
        owner_account_id=owner_account_id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(contact)
    session.flush()
    return contact


def update_contact(
    session: Session,
    organisation_id: int,
    owner_account_id: int,
    contact_id: int,
    changes: dict[str, Any],
) -> Contact:
    """Modifies one of the owner's contacts."""
    contact = _get(session, organisation_id, owner_account_id, contact_id)
    _check(session, organisation_id, changes)
    for key, value in changes.items():
        setattr(contact, key, value)
    contact.updated_at = utc_now()
    return contact


def delete_contact(
    session: Session, organisation_id: int, owner_account_id: int, contact_id: int
) -> None:
    """Deletes one of the owner's contacts."""
    session.delete(_get(session, organisation_id, owner_account_id, contact_id))


def _get(session: Session, organisation_id: int, owner_account_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if (
        contact is None
        or contact.organisation_id != organisation_id
        or contact.owner_account_id != owner_account_id
    ):
        raise NotFoundError("no such contact", code="contact_not_found")
    return contact


def _check(session: Session, organisation_id: int, fields: dict[str, Any]) -> None:
    for key in fields:
        if key not in CONTACT_FIELDS:
            raise InvalidRequestError(f"unknown contact field {key!r}", code="invalid_field")
    member_id = fields.get("member_account_id")
    if member_id is not None:
        get_member(session, organisation_id, member_id)
