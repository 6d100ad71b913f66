"""The directory and personal contacts through the HTTP API."""

from __future__ import annotations

import pytest

from conftest import Api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("carol", ["carol"]),
        ("7946", ["bob"]),
        ("CAROL@ACME", ["carol"]),
        ("", ["admin", "bob", "carol"]),
        ("100%", []),
    ],
)
async def test_directory_search_by_name_phone_email(
    api: Api, query: str, expected: list[str]
) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob", mobile="+44 20 7946 0000", email="bob@acme.test")
    await api.add_member(admin, "carol", display_name="Carol King", email="carol@acme.test")
    member = await api.login("acme", "bob")
    status, entries = await api.call("GET", "/api/directory", member, params={"q": query})
    assert status == 200
    assert [e["account_name"] for e in entries] == expected


async def test_directory_holds_only_the_callers_organisation(api: Api) -> None:
    acme = await api.create_org("acme")
    globex = await api.create_org("globex")
    await api.add_member(acme, "bob")
    await api.add_member(globex, "bobby")
    _status, entries = await api.call("GET", "/api/directory?q=bob", globex)
    assert [e["account_name"] for e in entries] == ["bobby"]


async def test_contacts_add_modify_delete(api: Api) -> None:
    admin = await api.create_org("acme")
    carol = await api.add_member(admin, "carol")
    await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    status, contact = await api.call(
        "POST",
        "/api/me/contacts",
        bob,
        json={"display_name": "Plumber", "mobile": "+1 555 0100", "note": "weekdays"},
    )
    assert status == 201
    status, linked = await api.call(
        "POST",
        "/api/me/contacts",
        bob,
        json={"display_name": "Carol", "member_account_id": carol["id"]},
    )
    assert (status, linked["member_account_id"]) == (201, carol["id"])
    status, changed = await api.call(
        "PATCH", f"/api/me/contacts/{contact['id']}", bob, json={"email": "p@example.org"}
    )
    assert (status, changed["email"], changed["display_name"]) == (200, "p@example.org", "Plumber")
    assert (await api.call("DELETE", f"/api/me/contacts/{contact['id']}", bob))[0] == 204
    status, listing = await api.call("GET", "/api/me/contacts", bob)
    assert [c["display_name"] for c in listing] == ["Carol"]


async def test_contacts_are_private_to_their_owner(api: Api) -> None:
    acme = await api.create_org("acme")
    globex = await api.create_org("globex")
    await api.add_member(acme, "bob")
    bob = await api.login("acme", "bob")
    _, contact = await api.call("POST", "/api/me/contacts", bob, json={"display_name": "Mum"})
    path = f"/api/me/contacts/{contact['id']}"
    for token in (acme, globex):
        assert (await api.call("PATCH", path, token, json={"display_name": "x"}))[0] == 404
        assert (await api.call("DELETE", path, token))[0] == 404
        assert (await api.call("GET", "/api/me/contacts", token))[1] == []
    # A contact cannot link to a member of another organisation.
    _, globex_me = await api.call("GET", "/api/me", globex)
    status, _ = await api.call(
        "POST",
        "/api/me/contacts",
        bob,
        json={"display_name": "Spy", "member_account_id": globex_me["id"]},
    )
    assert status == 404
