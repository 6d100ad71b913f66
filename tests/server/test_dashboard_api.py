"""The administrator's overview through the HTTP API: quality per meeting, every meeting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Api

_REPORT: dict[str, Any] = {"media": "audio", "loss_pct": 1.0, "jitter_ms": 10.0, "rtt_ms": 50.0}


async def _meeting(api: Api, token: str, topic: str) -> str:
    status, meeting = await api.call(
        "POST", "/api/meetings", token, json={"topic": topic, "kind": "instant"}
    )
    assert status == 201, meeting
    code: str = meeting["code"]
    return code


async def test_quality_is_summarised_per_meeting(api: Api) -> None:
    admin = await api.create_org("acme")
    await api.add_member(admin, "bob")
    bob = await api.login("acme", "bob")
    review = await _meeting(api, admin, "Review")
    standup = await _meeting(api, bob, "Stand-up")
    reports = [
        {**_REPORT, "meeting_code": review, "loss_pct": 2.0, "mos": 4.0},
        {**_REPORT, "meeting_code": review, "loss_pct": 4.0, "jitter_ms": 30.0, "mos": 3.0},
        {**_REPORT, "meeting_code": review, "media": "video", "loss_pct": 6.0},
        _REPORT,
    ]
    await api.call("POST", "/api/telemetry/quality", admin, json={"reports": reports})
    await api.call(
        "POST",
        "/api/telemetry/quality",
        bob,
        json={"reports": [{**_REPORT, "meeting_code": standup, "mos": 4.4}]},
    )

    status, rows = await api.call("GET", "/api/dashboard/quality", admin)
    assert status == 200
    by_code = {row["meeting_code"]: row for row in rows}
    assert set(by_code) == {review, standup, None}
    first = by_code[review]
    assert (first["topic"], first["reports"]) == ("Review", 3)
    assert first["mean_loss_pct"] == pytest.approx(4.0)
    assert first["mean_jitter_ms"] == pytest.approx(50.0 / 3)
    # MOS is averaged over the reports that carry one.
    assert (first["mean_mos"], first["min_mos"]) == (pytest.approx(3.5), 3.0)
    assert first["first_at"] <= first["last_at"]
    assert by_code[None]["mean_mos"] is None and by_code[None]["topic"] is None
    # The latest reported first: Bob's report came last.
    assert rows[0]["meeting_code"] == standup


async def test_the_quality_summary_keeps_to_the_period_asked(api: Api) -> None:
    admin = await api.create_org("acme")
    code = await _meeting(api, admin, "Review")
    await api.call(
        "POST",
        "/api/telemetry/quality",
        admin,
        json={"reports": [{**_REPORT, "meeting_code": code}]},
    )
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).isoformat()
    status, rows = await api.call("GET", "/api/dashboard/quality", admin, params={"since": later})
    assert (status, rows) == (200, [])
    status, rows = await api.call("GET", "/api/dashboard/quality", admin, params={"until": later})
    assert status == 200 and [r["meeting_code"] for r in rows] == [code]
    status, body = await api.call("GET", "/api/dashboard/quality", admin, params={"since": "soon"})
    assert status == 400, body


@pytest.mark.parametrize("path", ["/api/dashboard/quality", "/api/organisation/meetings"])
async def test_the_overview_is_for_administrators_of_the_same_organisation(
    api: Api, path: str
) -> None:
    acme = await api.create_org("acme")
    other = await api.create_org("globex")
    await api.add_member(acme, "bob")
    bob = await api.login("acme", "bob")
    code = await _meeting(api, acme, "Review")
    await api.call(
        "POST",
        "/api/telemetry/quality",
        acme,
        json={"reports": [{**_REPORT, "meeting_code": code}]},
    )
    assert (await api.call("GET", path, bob))[0] == 403
    assert (await api.call("GET", path))[0] == 401
    status, rows = await api.call("GET", path, other)
    assert (status, rows) == (200, [])
