"""The address book over HTTP: the organisation directory and personal contacts."""

from __future__ import annotations

from typing import Any, Final

from cloudlink.accounts import address_book, members
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, EMAIL, ID, MOBILE, array, nullable, obj, text
from cloudlink.store.models import Account, Contact

__all__ = ["ENDPOINTS"]

_ENTRY: Final = obj(
    {
        "id": ID,
        "account_name": {"type": "string"},
        "display_name": {"type": "string"},
        "mobile": nullable({"type": "string"}),
        "email": nullable({"type": "string"}),
    }
)
_CONTACT: Final = obj(
    {
        "id": ID,
        "display_name": {"type": "string"},
        "mobile": nullable({"type": "string"}),
        "email": nullable({"type": "string"}),
        "note": nullable({"type": "string"}),
        "member_account_id": nullable(ID),
        "created_at": DATETIME,
        "updated_at": DATETIME,
    }
)
_CONTACT_FIELDS: Final = {
    "display_name": text(100),
    "mobile": nullable(MOBILE),
    "email": nullable(EMAIL),
    "note": nullable(text(500, min_length=0)),
    "member_account_id": nullable({"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
}


def _entry_view(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "account_name": account.account_name,
        "display_name": account.display_name,
        "mobile": account.mobile,
        "email": account.email,
    }


def _contact_view(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "display_name": contact.display_name,
        "mobile": contact.mobile,
        "email": contact.email,
        "note": contact.note,
        "member_account_id": contact.member_account_id,
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
    }


async def _search_directory(call: Call) -> Reply:
    caller = call.caller
    accounts = await call.context.db.run(
        lambda s: members.list_members(
            s,
            caller.organisation_id,
            query=call.query.get("q"),
            limit=call.query.get("limit", 100),
            offset=call.query.get("offset", 0),
        )
    )
    return Reply(payload=[_entry_view(a) for a in accounts])


async def _list_contacts(call: Call) -> Reply:
    caller = call.caller
    contacts = await call.context.db.run(
        lambda s: address_book.list_contacts(s, caller.organisation_id, caller.account_id)
    )
    return Reply(payload=[_contact_view(c) for c in contacts])


async def _add_contact(call: Call) -> Reply:
    caller = call.caller
    contact = await call.context.db.run(
        lambda s: address_book.add_contact(s, caller.organisation_id, caller.account_id, call.body)
    )
    return Reply(payload=_contact_view(contact), status=201)


async def _update_contact(call: Call) -> Reply:
    caller = call.caller
    contact = await call.context.db.run(
        lambda s: address_book.update_contact(
            s, caller.organisation_id, caller.account_id, call.path["contact_id"], call.body
        )
    )
    return Reply(payload=_contact_view(contact))


async def _delete_contact(call: Call) -> Reply:
    caller = call.caller
    await call.context.db.run(
        lambda s: address_book.delete_contact(
            s, caller.organisation_id, caller.account_id, call.path["contact_id"]
        )
    )
    return Reply(payload=None, status=204)


ENDPOINTS: Final = [
    Endpoint(
        method="GET",
        path="/api/directory",
        handler=_search_directory,
        tag="address book",
        summary="The organisation's directory, searched by name, phone number or email",
        query={
            "q": text(100, min_length=0),
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
        response=array(_ENTRY),
    ),
    Endpoint(
        method="GET",
        path="/api/me/contacts",
        handler=_list_contacts,
        tag="address book",
        summary="The caller's personal contacts",
        response=array(_CONTACT),
    ),
    Endpoint(
        method="POST",
        path="/api/me/contacts",
        handler=_add_contact,
        tag="address book",
        summary="Add a personal contact",
        body=obj(_CONTACT_FIELDS, required=("display_name",)),
        response=_CONTACT,
        status=201,
    ),
    Endpoint(
        method="PATCH",
        path="/api/me/contacts/{contact_id}",
        handler=_update_contact,
        tag="address book",
        summary="Modify a personal contact",
        body=obj(_CONTACT_FIELDS, required=(), min_properties=1),
        response=_CONTACT,
    ),
    Endpoint(
        method="DELETE",
        path="/api/me/contacts/{contact_id}",
        handler=_delete_contact,
        tag="address book",
        summary="Delete a personal contact",
        status=204,
    ),
]
