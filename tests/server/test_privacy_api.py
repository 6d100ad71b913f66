"""Privacy through the HTTP API: export, erasure on cancellation, retention purge, audit log."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from typing import Any

from sqlalchemy import String, Text, select, update
from sqlalchemy.types import JSON, LargeBinary

from cloudlink.privacy.export import OTHERS_REFERENCES, SECRET_COLUMNS, account_columns
from cloudlink.server import ServerSettings, create_app
from cloudlink.store import Base
from cloudlink.store.models import (
    AuditEntry,
    AuthSession,
    ClientEvent,
    Device,
    Feedback,
    Meeting,
    MeetingParticipant,
    QualityReport,
)
from conftest import FAST_PASSWORDS, PASSWORD, Api

# Values that identify the person, each unlike anything else in the database.
PERSON = {
    "account_name": "zebedee7",
    "display_name": "Zebedee Quux",
    "email": "zq@acme.test",
    "mobile": "+44 7700 900123",
}
DEVICE = "zq-phone-42"
MARKERS = [*PERSON.values(), DEVICE, "zq-secret-problem", "zq-log-line"]


async def _populate(api: Api) -> tuple[str, str, int, str]:
    """An organisation where the person has data in every table that can hold some."""
    admin = await api.create_org("acme")
    person = await api.add_member(
        admin,
        PERSON["account_name"],
        is_admin=True,
        **{k: v for k, v in PERSON.items() if k != "account_name"},
    )
    person_id = person["id"]
    token = await api.login("acme", PERSON["account_name"], device=DEVICE)
    # Address books: the person's own, and the administrator's entries of the person.
    await api.call("POST", "/api/me/contacts", token, json={"display_name": "Dentist"})
    await api.call(
        "POST",
        "/api/me/contacts",
        admin,
        json={"display_name": "Zeb", "member_account_id": person_id},
    )
    await api.call(
        "POST", "/api/me/contacts", admin, json={"display_name": "Z.", "email": PERSON["email"]}
    )
    # Meetings: hosted, co-hosted, invited (by account and by email), attended.
    _, own = await api.call(
        "POST", "/api/meetings", token, json={"topic": "Zeb's sync", "kind": "instant"}
    )
    _, theirs = await api.call(
        "POST",
        "/api/meetings",
        admin,
        json={
            "topic": "All hands",
            "kind": "instant",
            "invite_account_ids": [person_id],
            "invite_emails": [PERSON["email"]],
        },
    )
    await api.call(
        "PUT", f"/api/meetings/{theirs['code']}/cohosts", admin, json={"account_ids": [person_id]}
    )
    await api.call("POST", f"/api/meetings/{theirs['code']}/join", token)
    await api.call("POST", f"/api/meetings/{theirs['code']}/leave", token)
    # Telemetry of every kind.
    await api.call(
        "POST",
        "/api/telemetry/quality",
        token,
        json={
            "reports": [
                {
                    "media": "audio",
                    "loss_pct": 1,
                    "jitter_ms": 20,
                    "rtt_ms": 90,
                    "meeting_code": theirs["code"],
                }
            ]
        },
    )
    await api.call(
        "POST",
        "/api/telemetry/events",
        token,
        json={"events": [{"kind": "error", "message": "zq-secret-problem"}]},
    )
    await api.call(
        "POST",
        "/api/telemetry/feedback",
        token,
        json={
            "description": "zq-secret-problem",
            "log_file_name": "a.log",
            "log_base64": base64.b64encode(b"zq-log-line\n").decode(),
        },
    )
    # Audit entries by the person (an administrator) and about the person.
    await api.call("PATCH", "/api/organisation", token, json={"max_devices_per_account": 4})
    await api.call(
        "PATCH", f"/api/accounts/{person_id}/privacy", admin, json={"collect_events": True}
    )
    return admin, token, person_id, own["code"]


async def test_export_holds_everything_stored_about_the_person(api: Api) -> None:
    _, token, person_id, _ = await _populate(api)
    status, export = await api.call("GET", "/api/me/export", token)
    assert status == 200
    assert export["account"]["email"] == PERSON["email"]
    assert export["account"]["mobile"] == PERSON["mobile"]

    def stored_ids(session: Any) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for name, table in Base.metadata.tables.items():
            columns = [c for c in account_columns(table) if (name, c.name) not in OTHERS_REFERENCES]
            if name == "accounts" or not columns:
                continue
            ids: set[int] = set()
            for column in columns:
                ids |= set(session.scalars(select(table.c.id).where(column == person_id)))
            found[name] = ids
        return found

    stored = api.db.run_sync(stored_ids)
    exported = {name: {row["id"] for row in rows} for name, rows in export["tables"].items()}
    # Every table that refers to accounts holds something of the person ...
    assert all(stored.values()), {n: ids for n, ids in stored.items() if not ids}
    # ... and the export has exactly that (plus audit entries about the person).
    audit_about = {
        e["id"]
        for e in export["tables"]["audit_log"]
        if e["target_type"] == "account" and e["target_id"] == person_id
    }
    assert audit_about
    assert {**exported, "audit_log": exported["audit_log"] - audit_about} == {
        **stored,
        "audit_log": stored["audit_log"] - audit_about,
    }
    feedback = export["tables"]["feedback"][0]
    assert base64.b64decode(feedback["log_file"]) == b"zq-log-line\n"
    for table, column in SECRET_COLUMNS:
        assert all(column not in row for row in export["tables"].get(table, [export["account"]]))


async def test_administrator_exports_a_member_of_their_own_organisation_only(api: Api) -> None:
    admin, _, person_id, _ = await _populate(api)
    globex = await api.create_org("globex")
    status, export = await api.call("GET", f"/api/accounts/{person_id}/export", admin)
    assert (status, export["account"]["id"]) == (200, person_id)
    assert (await api.call("GET", f"/api/accounts/{person_id}/export", globex))[0] == 404
    assert (
        await api.call(
            "PATCH",
            f"/api/accounts/{person_id}/privacy",
            globex,
            json={"processing_restricted": True},
        )
    )[0] == 404


async def test_cancellation_leaves_no_personal_data_in_any_table(api: Api) -> None:
    admin, _, person_id, own_code = await _populate(api)
    assert (await api.call("DELETE", f"/api/accounts/{person_id}", admin))[0] == 204

    def leftovers(session: Any) -> list[str]:
        found = []
        for name, table in Base.metadata.tables.items():
            for column in account_columns(table):
                if session.scalar(select(table.c.id).where(column == person_id)) is not None:
                    found.append(f"{name}.{column.name} refers to the person")
            textual = [
                c for c in table.columns if isinstance(c.type, (String, Text, JSON, LargeBinary))
            ]
            if not textual:
                continue
            for row in session.execute(select(*textual)):
                for column, value in zip(textual, row, strict=True):
                    blob = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [f"{name}.{column.name} holds {m!r}" for m in MARKERS if m in blob]
        return found

    assert api.db.run_sync(leftovers) == []

    # The meeting history keeps an anonymous participant; hosted meetings stay, hostless.
    def history(session: Any) -> tuple[list[tuple[Any, ...]], Any]:
        participants = [
            tuple(r)
            for r in session.execute(
                select(
                    MeetingParticipant.account_id,
                    MeetingParticipant.display_name,
                    MeetingParticipant.ip_prefix,
                    MeetingParticipant.role,
                )
            )
        ]
        host = session.scalar(select(Meeting.host_account_id).where(Meeting.code == own_code))
        return participants, host

    participants, host = api.db.run_sync(history)
    assert (None, None, None, "cohost") in participants
    assert host is None
    status, log = await api.call("GET", "/api/audit", admin)
    assert log[0]["action"] == "account.cancel" and log[0]["target_id"] == person_id
    # The person can no longer sign in.
    status, _body = await api.call(
        "POST",
        "/api/auth/login",
        json={
            "organisation": "acme",
            "account_name": PERSON["account_name"],
            "password": PASSWORD,
            "device_id": DEVICE,
        },
    )
    assert status == 401


async def test_administrators_cannot_cancel_themselves(api: Api) -> None:
    admin = await api.create_org("acme")
    _, me = await api.call("GET", "/api/me", admin)
    status, body = await api.call("DELETE", f"/api/accounts/{me['id']}", admin)
    assert (status, body["error"]["code"]) == (409, "self_cancellation")


def _age_everything(api: Api, days: int) -> None:
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)

    def work(session: Any) -> None:
        for model in (QualityReport, ClientEvent, Feedback):
            session.execute(update(model).values(received_at=past))
        session.execute(update(AuditEntry).values(at=past))
        session.execute(
            update(AuthSession).where(AuthSession.revoked_at.is_not(None)).values(revoked_at=past)
        )
        session.execute(update(Meeting).where(Meeting.status == "ended").values(ended_at=past))
        session.execute(update(Device).values(last_seen_at=past))

    api.db.run_sync(work)


async def test_purge_removes_data_past_its_retention_period(api: Api) -> None:
    admin, token, _, own_code = await _populate(api)
    await api.call("POST", f"/api/meetings/{own_code}/end", token)
    await api.call("POST", "/api/auth/logout", await api.login("acme", "admin"))
    _age_everything(api, days=40)
    # Fresh rows of each kind, which must survive.
    await api.call(
        "POST",
        "/api/telemetry/events",
        admin,
        json={"events": [{"kind": "restart", "message": "fresh"}]},
    )
    status, _ = await api.call(
        "PATCH",
        "/api/organisation",
        admin,
        json={
            "retention_quality_days": 30,
            "retention_events_days": 30,
            "retention_feedback_days": 30,
            "retention_sessions_days": 30,
            "retention_meetings_days": 30,
            "retention_audit_days": 30,
        },
    )
    assert status == 200
    status, counts = await api.call("POST", "/api/privacy/purge", admin)
    assert status == 200
    assert counts["quality_reports"] == 1 and counts["client_events"] == 1
    assert counts["feedback"] == 1 and counts["meetings"] == 1
    assert counts["sessions"] >= 1 and counts["audit_log"] >= 1
    # The signed-out device goes; devices that still hold a session stay.
    assert counts["devices"] == 1
    status, devices = await api.call("GET", "/api/me/devices", token)
    assert [d["device_id"] for d in devices] == [DEVICE]

    def remaining(session: Any) -> tuple[int, int, int, list[str]]:
        return (
            session.query(QualityReport).count(),
            session.query(Feedback).count(),
            session.query(ClientEvent).count(),
            list(session.scalars(select(Meeting.code))),
        )

    quality, feedback, events, meetings = api.db.run_sync(remaining)
    assert (quality, feedback, events) == (0, 0, 1)
    assert own_code not in meetings and len(meetings) == 1
    # The purge itself and the retention change are audited afresh.
    _, log = await api.call("GET", "/api/audit", admin)
    assert [e["action"] for e in log][:2] == ["retention.purge", "organisation.update"]


async def test_the_server_purges_in_the_background(api: Api, aiohttp_client: Any) -> None:
    admin = await api.create_org("acme")
    await api.call(
        "POST",
        "/api/telemetry/events",
        admin,
        json={"events": [{"kind": "upgrade", "message": "old"}]},
    )
    _age_everything(api, days=400)
    app = create_app(
        api.db,
        settings=ServerSettings(purge_interval_s=3600),
        password_policy=FAST_PASSWORDS,
        migrate=False,
    )
    await aiohttp_client(app)
    for _ in range(100):
        if api.db.run_sync(lambda s: s.query(ClientEvent).count()) == 0:
            break
        await asyncio.sleep(0.05)
    assert api.db.run_sync(lambda s: s.query(ClientEvent).count()) == 0


async def test_audit_log_names_ids_not_personal_data(api: Api) -> None:
    admin = await api.create_org("acme")
    globex = await api.create_org("globex")
    member = await api.add_member(admin, "bob", email="bob@acme.test", mobile="+1 987 6543")
    await api.call(
        "PATCH", f"/api/accounts/{member['id']}", admin, json={"email": "robert@acme.test"}
    )
    _, log = await api.call("GET", "/api/audit", admin)
    assert [(e["action"], e["target_id"]) for e in log] == [
        ("account.update", member["id"]),
        ("account.add", member["id"]),
    ]
    assert log[0]["details"] == {"fields": ["email"]}
    assert "acme.test" not in str(log) and "987 6543" not in str(log)
    assert (await api.call("GET", "/api/audit", globex))[1] == []
    bob = await api.login("acme", "bob")
    assert (await api.call("GET", "/api/audit", bob))[0] == 403
