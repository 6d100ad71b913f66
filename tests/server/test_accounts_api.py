"""Accounts through the HTTP API: login, sessions, members, devices, lockout, isolation."""

from __future__ import annotations

import asyncio

from cloudlink.accounts.tokens import hash_token
from cloudlink.store.models import AuthSession
from conftest import PASSWORD, Api


async def test_login_returns_a_token_whose_hash_alone_is_stored(api: Api) -> None:
    token = await api.create_org("acme")
    status, me = await api.call("GET", "/api/me", token)
    assert status == 200
    assert me["account_name"] == "admin" and me["is_admin"] is True
    stored = api.db.run_sync(lambda s: [row.token_sha256 for row in s.query(AuthSession)])
    assert stored == [hash_token(token)]
    assert token not in stored


async def test_wrong_password_and_unknown_account_answer_alike(api: Api) -> None:
    await api.create_org("acme")
    answers = []
    for account, password in (("admin", "wrong password"), ("nobody", PASSWORD)):
        status, body = await api.call(
            "POST",
            "/api/auth/login",
            json={
                "organisation": "acme",
                "account_name": account,
                "password": password,
                "device_id": "d1",
            },
        )
        answers.append((status, body["error"]["code"]))
    assert answers == [(401, "invalid_credentials")] * 2


async def test_repeated_failures_lock_the_account(api: Api) -> None:
    await api.create_org("acme")
    login = {"organisation": "acme", "account_name": "admin", "device_id": "d1"}
    for _ in range(3):
        status, _ = await api.call(
            "POST", "/api/auth/login", json={**login, "password": "nope-nope"}
        )
        assert status == 401
    status, body = await api.call("POST", "/api/auth/login", json={**login, "password": PASSWORD})
    assert status == 423
    assert body["error"]["code"] == "account_locked"


async def test_logout_revokes_the_token(api: Api) -> None:
    token = await api.create_org("acme")
    assert (await api.call("POST", "/api/auth/logout", token))[0] == 204
    status, body = await api.call("GET", "/api/me", token)
    assert (status, body["error"]["code"]) == (401, "session_revoked")


async def test_missing_or_bad_token_is_401(api: Api) -> None:
    await api.create_org("acme")
    assert (await api.call("GET", "/api/me"))[0] == 401
    status, body = await api.call("GET", "/api/me", "not-a-token")
    assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_admin_adds_modifies_and_cancels_members(api: Api) -> None:
    admin = await api.create_org("acme")
    bob = await api.add_member(admin, "bob", mobile="+44 20 7946 0000", email="bob@acme.test")
    status, body = await api.call(
        "PATCH", f"/api/accounts/{bob['id']}", admin, json={"display_name": "Robert"}
    )
    assert (status, body["display_name"]) == (200, "Robert")
    status, listing = await api.call("GET", "/api/accounts?q=robert", admin)
    assert [a["account_name"] for a in listing] == ["bob"]
    assert (await api.call("DELETE", f"/api/accounts/{bob['id']}", admin))[0] == 204
    assert (await api.call("GET", f"/api/accounts/{bob['id']}", admin))[0] == 404


async def test_members_cannot_administer(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    status, body = await api.call("GET", "/api/accounts", bob)
    assert (status, body["error"]["code"]) == (403, "admin_required")
    status, _ = await api.call(
        "POST",
        "/api/accounts",
        bob,
        json={"account_name": "eve", "display_name": "Eve", "password": PASSWORD},
    )
    assert status == 403


async def test_duplicate_account_name_is_409(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    status, body = await api.call(
        "POST",
        "/api/accounts",
        admin,
        json={"account_name": "BOB", "display_name": "Bob", "password": PASSWORD},
    )
    assert (status, body["error"]["code"]) == (409, "account_exists")


async def test_password_change_ends_other_sessions(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    first = await api.login("acme", "bob")
    second = await api.login("acme", "bob")
    status, _body = await api.call(
        "POST",
        "/api/me/password",
        first,
        json={"current_password": "wrong one!", "new_password": "a new secret"},
    )
    assert status == 401
    status, _ = await api.call(
        "POST",
        "/api/me/password",
        first,
        json={"current_password": PASSWORD, "new_password": "a new secret"},
    )
    assert status == 204
    assert (await api.call("GET", "/api/me", first))[0] == 200
    assert (await api.call("GET", "/api/me", second))[0] == 401
    await api.login("acme", "bob", password="a new secret")


async def test_device_limit_and_sign_out(api: Api) -> None:
    admin = await api.create_org("acme")
    status, _ = await api.call(
        "PATCH", "/api/organisation", admin, json={"max_devices_per_account": 2}
    )
    assert status == 200
    await api.add_member(admin, "bob")
    phone = await api.login("acme", "bob", device="phone")
    await api.login("acme", "bob", device="laptop")
    # Signing in again on a known device is not a new device.
    await api.login("acme", "bob", device="laptop")
    status, body = await api.call(
        "POST",
        "/api/auth/login",
        json={
            "organisation": "acme",
            "account_name": "bob",
            "password": PASSWORD,
            "device_id": "tablet",
        },
    )
    assert (status, body["error"]["code"]) == (409, "device_limit")
    status, devices = await api.call("GET", "/api/me/devices", phone)
    assert sorted(d["device_id"] for d in devices if d["signed_in"]) == ["laptop", "phone"]
    # The user signs the laptop out; the tablet may then sign in.
    assert (await api.call("DELETE", "/api/me/devices/laptop", phone))[0] == 204
    tablet = await api.login("acme", "bob", device="tablet")
    # An administrator signs the tablet out.
    status, listing = await api.call("GET", "/api/accounts?q=bob", admin)
    bob_id = listing[0]["id"]
    assert (await api.call("DELETE", f"/api/accounts/{bob_id}/devices/tablet", admin))[0] == 204
    assert (await api.call("GET", "/api/me", tablet))[0] == 401


async def test_no_cross_organisation_access(api: Api) -> None:
    acme = await api.create_org("acme")
    globex = await api.create_org("globex")
    bob = await api.add_member(acme, "bob")
    path = f"/api/accounts/{bob['id']}"
    for method, url, body in (
        ("GET", path, None),
        ("PATCH", path, {"display_name": "Hacked"}),
        ("DELETE", path, None),
        ("GET", f"{path}/devices", None),
        ("DELETE", f"{path}/devices/x", None),
        ("POST", f"{path}/password", {"new_password": "taken over"}),
    ):
        status, answer = await api.call(method, url, globex, json=body)
        assert status == 404, (method, url, answer)
    status, listing = await api.call("GET", "/api/accounts", globex)
    assert [a["account_name"] for a in listing] == ["admin"]
    status, me = await api.call("GET", f"/api/accounts/{bob['id']}", acme)
    assert me["display_name"] == "Bob"


async def test_bad_input_is_a_json_4xx(api: Api) -> None:
    admin = await api.create_org("acme")
    cases = [
        ("POST", "/api/accounts", {"data": b"{not json"}, 400, "invalid_json"),
        ("POST", "/api/accounts", {"json": {"account_name": "x"}}, 400, "invalid_body"),
        (
            "POST",
            "/api/accounts",
            {"json": {"account_name": "ok", "display_name": "Ok", "password": "short"}},
            400,
            "weak_password",
        ),
        ("GET", "/api/accounts/abc", {}, 400, "invalid_parameter"),
        ("GET", "/api/accounts?limit=0", {}, 400, "invalid_parameter"),
        ("GET", "/api/nowhere", {}, 404, "not_found"),
        ("PUT", "/api/me", {}, 405, "method_not_allowed"),
    ]
    for method, path, kwargs, status, code in cases:
        got_status, body = await api.call(method, path, admin, **kwargs)
        assert (got_status, body["error"]["code"]) == (status, code), (method, path, body)


async def test_concurrent_logins_and_additions_do_not_collide(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    tokens = await asyncio.gather(*(api.login("acme", "bob", device="new") for _ in range(4)))
    assert len(set(tokens)) == 4
    answers = await asyncio.gather(
        *(
            api.call(
                "POST",
                "/api/accounts",
                admin,
                json={"account_name": "carol", "display_name": "Carol", "password": PASSWORD},
            )
            for _ in range(3)
        )
    )
    assert sorted(status for status, _ in answers) == [201, 409, 409]
