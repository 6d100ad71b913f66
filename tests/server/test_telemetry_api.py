"""Telemetry and client versions through the HTTP API, under the members' privacy settings."""

from __future__ import annotations

import base64
import io
import json

from cloudlink.store.models import ClientEvent, Feedback, QualityReport
from conftest import Api

_REPORT = {
    "media": "audio",
    "loss_pct": 2.5,
    "jitter_ms": 18.0,
    "rtt_ms": 80.0,
    "mos": 4.1,
    "volume_dbov": -23.0,
    "concealment_pct": 1.2,
}
_EVENT = {"kind": "crash", "message": "segfault in renderer", "client_version": "1.2.3"}


def _count(api: Api, model: type) -> int:
    return api.db.run_sync(lambda s: s.query(model).count())


async def test_quality_reports_are_stored_with_an_anonymised_address(api: Api) -> None:
    admin = await api.create_org("acme")
    _, meeting = await api.call(
        "POST", "/api/meetings", admin, json={"topic": "Q", "kind": "instant"}
    )
    status, body = await api.call(
        "POST",
        "/api/telemetry/quality",
        admin,
        json={"reports": [{**_REPORT, "meeting_code": meeting["code"]}, _REPORT]},
    )
    assert (status, body) == (202, {"stored": 2})
    status, rows = await api.call(
        "GET", "/api/telemetry/quality", admin, params={"meeting_code": meeting["code"]}
    )
    assert len(rows) == 1
    assert rows[0]["mos"] == 4.1 and rows[0]["device_id"] == "admin-device-1"
    # The test client comes from 127.0.0.1: only its /24 is kept.
    assert rows[0]["ip_prefix"] == "127.0.0.0/24"


async def test_opted_out_members_reports_are_not_stored(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    status, settings = await api.call(
        "PATCH", "/api/me/privacy", bob, json={"collect_quality": False}
    )
    assert (status, settings["quality_collected"], settings["events_collected"]) == (
        200,
        False,
        True,
    )
    _, body = await api.call("POST", "/api/telemetry/quality", bob, json={"reports": [_REPORT]})
    assert body == {"stored": 0}
    assert _count(api, QualityReport) == 0
    _, body = await api.call("POST", "/api/telemetry/events", bob, json={"events": [_EVENT]})
    assert body == {"stored": 1}


async def test_organisation_default_and_restriction_decide_collection(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    await api.call("PATCH", "/api/organisation", admin, json={"default_collect_events": False})
    _, body = await api.call("POST", "/api/telemetry/events", bob, json={"events": [_EVENT]})
    assert body == {"stored": 0}
    # Bob's own choice overrides the default ...
    await api.call("PATCH", "/api/me/privacy", bob, json={"collect_events": True})
    _, body = await api.call("POST", "/api/telemetry/events", bob, json={"events": [_EVENT]})
    assert body == {"stored": 1}
    # ... and a restriction of processing overrides everything, feedback included.
    await api.call("PATCH", "/api/me/privacy", bob, json={"processing_restricted": True})
    _, body = await api.call("POST", "/api/telemetry/events", bob, json={"events": [_EVENT]})
    assert body == {"stored": 0}
    _, body = await api.call("POST", "/api/telemetry/quality", bob, json={"reports": [_REPORT]})
    assert body == {"stored": 0}
    _, body = await api.call(
        "POST", "/api/telemetry/feedback", bob, json={"description": "no sound"}
    )
    assert body == {"stored": False, "id": None, "log_stored": False}
    assert (_count(api, ClientEvent), _count(api, QualityReport), _count(api, Feedback)) == (
        1,
        0,
        0,
    )


async def test_feedback_with_log_file_and_its_size_limit(api: Api) -> None:
    admin = await api.create_org("acme")
    log = b"12:00:01 ice failed\n" * 100
    status, body = await api.call(
        "POST",
        "/api/telemetry/feedback",
        admin,
        json={
            "description": "call dropped",
            "log_file_name": "client.log",
            "log_base64": base64.b64encode(log).decode(),
        },
    )
    assert (status, body["stored"], body["log_stored"]) == (202, True, True)
    stored = api.db.run_sync(lambda s: s.query(Feedback).one().log_file)
    assert stored == log
    status, listing = await api.call("GET", "/api/telemetry/feedback", admin)
    assert listing[0]["log_size_bytes"] == len(log)
    feedback_path = f"/api/telemetry/feedback/{listing[0]['id']}/log"
    status, body = await api.call("GET", feedback_path, admin)
    assert (status, base64.b64decode(body["log_base64"])) == (200, log)
    _, audit = await api.call("GET", "/api/audit", admin)
    assert audit[0]["action"] == "feedback.read_log"
    globex = await api.create_org("globex")
    assert (await api.call("GET", feedback_path, globex))[0] == 404
    limit = 1024 * 1024
    oversized = {"description": "big", "log_base64": base64.b64encode(b"x" * (limit + 1)).decode()}
    status, body = await api.call(
        "POST",
        "/api/telemetry/feedback",
        admin,
        data=io.BytesIO(json.dumps(oversized).encode()),
        headers={"Content-Type": "application/json"},
    )
    assert (status, body["error"]["code"]) == (413, "log_too_large")
    status, body = await api.call(
        "POST", "/api/telemetry/feedback", admin, json={"description": "bad", "log_base64": "%%%"}
    )
    assert status == 400
    # Without event logs the feedback is kept, its log is not.
    await api.call("PATCH", "/api/me/privacy", admin, json={"collect_events": False})
    _, body = await api.call(
        "POST",
        "/api/telemetry/feedback",
        admin,
        json={"description": "again", "log_base64": "aGk="},
    )
    assert (body["stored"], body["log_stored"]) == (True, False)


async def test_telemetry_is_per_organisation(api: Api) -> None:
    acme = await api.create_org("acme")
    globex = await api.create_org("globex")
    _, meeting = await api.call(
        "POST", "/api/meetings", acme, json={"topic": "A", "kind": "instant"}
    )
    await api.call("POST", "/api/telemetry/quality", acme, json={"reports": [_REPORT]})
    await api.call("POST", "/api/telemetry/events", acme, json={"events": [_EVENT]})
    for path in ("/api/telemetry/quality", "/api/telemetry/events", "/api/telemetry/feedback"):
        assert (await api.call("GET", path, globex))[1] == []
    # Reporting against another organisation's meeting fails.
    status, _ = await api.call(
        "POST",
        "/api/telemetry/quality",
        globex,
        json={"reports": [{**_REPORT, "meeting_code": meeting["code"]}]},
    )
    assert status == 404


async def test_client_versions(api: Api) -> None:
    admin = await api.create_org("acme")
    globex = await api.create_org("globex")
    for version in ("1.9.0", "1.10.0"):
        status, _ = await api.call(
            "POST",
            "/api/client-versions",
            admin,
            json={
                "platform": "linux",
                "version": version,
                "download_url": f"https://dl.acme.test/cloudlink-{version}.tar.gz",
            },
        )
        assert status == 201
    latest = "/api/client-versions/latest"
    _, body = await api.call("GET", latest, admin, params={"platform": "linux", "current": "1.9.0"})
    assert body["update_available"] is True
    assert body["latest"]["download_url"].endswith("cloudlink-1.10.0.tar.gz")
    _, body = await api.call(
        "GET", latest, admin, params={"platform": "linux", "current": "1.10.0"}
    )
    assert body["update_available"] is False
    _, body = await api.call("GET", latest, globex, params={"platform": "linux"})
    assert body == {"platform": "linux", "latest": None, "update_available": False}
    assert (await api.call("GET", latest, admin))[0] == 400
    release_id = (await api.call("GET", "/api/client-versions", admin))[1][0]["id"]
    assert (await api.call("DELETE", f"/api/client-versions/{release_id}", globex))[0] == 404
    assert (await api.call("DELETE", f"/api/client-versions/{release_id}", admin))[0] == 204
