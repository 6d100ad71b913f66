"""Meetings through the HTTP API: scheduling, links, password, roles, lock, waiting room."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cloudlink.meetings.join_link import make_join_link, parse_join_link
from cloudlink.meetings.recurrence import occurrences
from cloudlink.store.models import Meeting
from conftest import PUBLIC_URL, Api

UTC = dt.timezone.utc


async def _org_with_bob(api: Api) -> tuple[str, str, dict[str, Any]]:
    admin = await api.create_org("acme")
    bob_account = await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    return admin, bob, bob_account


async def test_instant_meeting_has_a_code_and_a_join_link_that_parses_back(api: Api) -> None:
    admin = await api.create_org("acme")
    status, meeting = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "Stand-up", "kind": "instant"}
    )
    assert status == 201
    assert meeting["status"] == "active" and meeting["your_role"] == "host"
    assert len(meeting["code"]) == 9
    assert meeting["join_link"] == f"{PUBLIC_URL}/j/{meeting['code']}"
    status, parsed = await api.call(
        "GET", "/api/join-links/parse", admin, params={"link": f"  {meeting['join_link']}?x=1 "}
    )
    assert (status, parsed["meeting_code"]) == (200, meeting["code"])
    status, body = await api.call(
        "GET", "/api/join-links/parse", admin, params={"link": "https://example.org/nothing"}
    )
    assert (status, body["error"]["code"]) == (400, "invalid_join_link")


@pytest.mark.parametrize(
    "text",
    [
        "123456789",
        "123 456 789",
        "123-456-789",
        "meet.example.org/j/123456789",
        "https://meet.example.org/j/123456789/#now",
    ],
)
def test_join_link_forms_parse(text: str) -> None:
    assert parse_join_link(text) == "123456789"
    assert parse_join_link(make_join_link("https://x.test/", "123456789")) == "123456789"


def test_monthly_recurrence_keeps_the_day_or_the_months_last() -> None:
    start = dt.datetime(2027, 1, 31, 9, tzinfo=UTC)
    got = occurrences(start, "monthly", count=3)
    assert [d.date().isoformat() for d in got] == ["2027-01-31", "2027-02-28", "2027-03-31"]
    assert len(occurrences(start, "weekly", count=None, limit=7)) == 7
    assert occurrences(start, "none", count=None) == [start]


async def test_scheduled_recurring_meeting_lists_its_occurrences(api: Api) -> None:
    admin, bob, bob_account = await _org_with_bob(api)
    starts = (dt.datetime.now(UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    status, meeting = await api.call(
        "POST",
        "/api/meetings",
        admin,
        json={
            "topic": "Weekly",
            "kind": "scheduled",
            "starts_at": starts.isoformat(),
            "duration_min": 30,
            "recurrence": "weekly",
            "recurrence_count": 3,
            "invite_account_ids": [bob_account["id"]],
            "invite_emails": ["guest@example.org"],
        },
    )
    assert status == 201, meeting
    assert meeting["status"] == "scheduled"
    assert [dt.datetime.fromisoformat(t) for t in meeting["next_occurrences"]] == [
        starts + dt.timedelta(weeks=i) for i in range(3)
    ]
    assert [i["email"] for i in meeting["invitations"]] == [None, "guest@example.org"]
    # Bob is invited: the meeting is in his list, without the invitation list.
    status, listing = await api.call("GET", "/api/meetings", bob)
    assert [m["code"] for m in listing] == [meeting["code"]]
    assert listing[0]["your_role"] == "attendee" and listing[0]["invitations"] == []
    status, body = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "x", "kind": "scheduled"}
    )
    assert (status, body["error"]["code"]) == (400, "missing_start")


async def test_meeting_password_is_hashed_and_attempts_are_limited(api: Api) -> None:
    admin, bob, _ = await _org_with_bob(api)
    _, meeting = await api.call(
        "POST",
        "/api/meetings",
        admin,
        json={"topic": "Secret", "kind": "instant", "password": "open sesame"},
    )
    code = meeting["code"]
    stored = api.db.run_sync(lambda s: s.query(Meeting).one().password_hash)
    assert stored is not None and stored.startswith("$argon2id$") and "open sesame" not in stored
    join = f"/api/meetings/{code}/join"
    status, body = await api.call("POST", join, bob)
    assert (status, body["error"]["code"]) == (403, "meeting_password_required")
    codes = []
    for _ in range(6):
        status, body = await api.call("POST", join, bob, json={"password": "guess"})
        codes.append((status, body["error"]["code"]))
    assert codes[:5] == [(403, "wrong_meeting_password")] * 5
    assert codes[5] == (429, "too_many_password_attempts")
    # The host needs no password.
    status, joined = await api.call("POST", join, admin)
    assert (status, joined["participant"]["role"]) == (200, "host")


async def test_lock_waiting_room_and_admission(api: Api) -> None:
    admin, bob, _ = await _org_with_bob(api)
    _, meeting = await api.call(
        "POST",
        "/api/meetings",
        admin,
        json={"topic": "Review", "kind": "instant", "waiting_room": True},
    )
    path = f"/api/meetings/{meeting['code']}"
    status, joined = await api.call("POST", f"{path}/join", bob)
    assert (status, joined["participant"]["state"]) == (200, "waiting")
    participant_id = joined["participant"]["id"]
    # Bob cannot admit himself or see the attendance.
    assert (await api.call("POST", f"{path}/participants/{participant_id}/admit", bob))[0] == 403
    assert (await api.call("GET", f"{path}/participants", bob))[0] == 403
    status, admitted = await api.call("POST", f"{path}/participants/{participant_id}/admit", admin)
    assert (status, admitted["state"]) == (200, "admitted")
    assert (await api.call("POST", f"{path}/leave", bob))[0] == 204
    status, _ = await api.call("PATCH", path, admin, json={"locked": True})
    assert status == 200
    status, body = await api.call("POST", f"{path}/join", bob)
    assert (status, body["error"]["code"]) == (423, "meeting_locked")
    status, history = await api.call("GET", f"{path}/participants", admin)
    assert [(p["display_name"], p["state"]) for p in history] == [("Bob", "left")]


async def test_cohost_may_manage_but_not_cancel(api: Api) -> None:
    admin, bob, bob_account = await _org_with_bob(api)
    _, meeting = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "Board", "kind": "instant"}
    )
    path = f"/api/meetings/{meeting['code']}"
    assert (await api.call("PATCH", path, bob, json={"locked": True}))[0] == 403
    status, changed = await api.call(
        "PUT", f"{path}/cohosts", admin, json={"account_ids": [bob_account["id"]]}
    )
    assert (status, changed["cohost_account_ids"]) == (200, [bob_account["id"]])
    status, changed = await api.call("PATCH", path, bob, json={"locked": True, "topic": "Board!"})
    assert (status, changed["locked"], changed["your_role"]) == (200, True, "cohost")
    # A co-host gets into a locked meeting; may not cancel it; may end it.
    assert (await api.call("POST", f"{path}/join", bob))[0] == 200
    assert (await api.call("DELETE", path, bob))[0] == 403
    status, ended = await api.call("POST", f"{path}/end", bob)
    assert (status, ended["status"]) == (200, "ended")
    status, body = await api.call("POST", f"{path}/join", admin)
    assert (status, body["error"]["code"]) == (409, "meeting_over")


async def test_invitations_add_and_withdraw(api: Api) -> None:
    admin, _bob, bob_account = await _org_with_bob(api)
    _, meeting = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "1:1", "kind": "instant"}
    )
    path = f"/api/meetings/{meeting['code']}/invitations"
    status, invitation = await api.call("POST", path, admin, json={"account_id": bob_account["id"]})
    assert status == 201
    assert (await api.call("POST", path, admin, json={"account_id": bob_account["id"]}))[0] == 409
    assert (await api.call("POST", path, admin, json={"account_id": 1, "email": "a@b.c"}))[0] == 400
    assert (await api.call("DELETE", f"{path}/{invitation['id']}", admin))[0] == 204
    assert (await api.call("DELETE", f"{path}/{invitation['id']}", admin))[0] == 404


async def test_meetings_of_another_organisation_are_invisible(api: Api) -> None:
    acme = await api.create_org("acme")
    globex = await api.create_org("globex")
    _, meeting = await api.call(
        "POST", "/api/meetings", acme, json={"topic": "Acme only", "kind": "instant"}
    )
    path = f"/api/meetings/{meeting['code']}"
    for method, url, body in (
        ("GET", path, None),
        ("PATCH", path, {"locked": False}),
        ("DELETE", path, None),
        ("POST", f"{path}/join", {}),
        ("POST", f"{path}/end", None),
        ("GET", f"{path}/participants", None),
        ("PUT", f"{path}/cohosts", {"account_ids": []}),
        ("POST", f"{path}/invitations", {"email": "x@y.z"}),
    ):
        status, answer = await api.call(method, url, globex, json=body)
        assert (status, answer["error"]["code"]) == (404, "meeting_not_found"), (method, url)
    # Nor can a host of one organisation invite or co-host a member of another.
    _, own = await api.call(
        "POST", "/api/meetings", globex, json={"topic": "Globex", "kind": "instant"}
    )
    _, acme_me = await api.call("GET", "/api/me", acme)
    own_path = f"/api/meetings/{own['code']}"
    assert (
        await api.call("PUT", f"{own_path}/cohosts", globex, json={"account_ids": [acme_me["id"]]})
    )[0] == 404
    assert (
        await api.call(
            "POST", f"{own_path}/invitations", globex, json={"account_id": acme_me["id"]}
        )
    )[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"topic": "x", "kind": "scheduled", "starts_at": "tomorrow"},
        {"topic": "x", "kind": "scheduled", "starts_at": "2027-01-01T10:00:00"},
        {"topic": "x", "kind": "scheduled", "starts_at": "0001-01-01T00:00:00Z"},
        {"topic": "x", "kind": "instant", "recurrence": "daily"},
        {"topic": "", "kind": "instant"},
        {"topic": "x", "kind": "instant", "password": "abc"},
    ],
)
async def test_bad_meeting_input_is_400(api: Api, body: dict[str, Any]) -> None:
    admin = await api.create_org("acme")
    status, answer = await api.call("POST", "/api/meetings", admin, json=body)
    assert status == 400, answer


async def test_administrators_list_every_meeting_of_their_organisation(api: Api) -> None:
    admin, bob, _ = await _org_with_bob(api)
    globex = await api.create_org("globex")
    _, own = await api.call(
        "POST", "/api/meetings", bob, json={"topic": "Bob's", "kind": "instant"}
    )
    await api.call("POST", "/api/meetings", globex, json={"topic": "Globex", "kind": "instant"})
    status, listing = await api.call("GET", "/api/organisation/meetings", admin)
    assert (status, [m["code"] for m in listing]) == (200, [own["code"]])
    assert listing[0]["your_role"] == "attendee"
    _, ended = await api.call("GET", "/api/organisation/meetings?status=ended", admin)
    assert ended == []
    assert (await api.call("GET", "/api/organisation/meetings", bob))[0] == 403


async def test_a_join_link_opened_in_a_browser_is_the_join_page_of_the_meeting(api: Api) -> None:
    admin = await api.create_org("acme")
    _, meeting = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "Link", "kind": "instant"}
    )
    path = meeting["join_link"].removeprefix(PUBLIC_URL)
    response = await api.client.get(path)
    assert response.status == 200
    code = meeting["code"]
    page = await response.text()
    assert f"{code[:3]} {code[3:6]} {code[6:]}" in page
    assert "/join/main.js" in page
    assert (await api.client.get("/j/12345")).status == 404
