"""The REST client against the real server on loopback: sign-in and out,
instant meetings and join links, the directory, errors with the server's
codes, and quality telemetry stored only when the user's settings allow."""

from __future__ import annotations

import socket

import pytest
from _client_world import ORGANISATION, PASSWORD, rest_of, server_fixture  # noqa: F401

from cloudlink.client import QualityReport, RestClient
from cloudlink.client.quality_reporter import QualityReporter
from cloudlink.errors import (
    AuthenticationError,
    ConfigError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
)
from cloudlink.server.embedded import EmbeddedServer

REPORT = QualityReport(media="audio", loss_pct=2.5, jitter_ms=12.0, rtt_ms=40.0, mos=4.1)


async def test_login_me_and_logout(server: EmbeddedServer) -> None:
    rest = RestClient(server.url + "/")
    try:
        result = await rest.login(
            organisation=ORGANISATION, account_name="ada", password=PASSWORD, device_id="d-1"
        )
        assert result.account.display_name == "Ada Lovelace"
        assert result.account.account_name == "ada"
        assert rest.token == result.token
        assert (await rest.me()).account_id == result.account.account_id
        await rest.logout()
        assert rest.token is None
        rest.token = result.token
        with pytest.raises(AuthenticationError):
            await rest.me()
    finally:
        await rest.close()


async def test_a_wrong_password_raises_the_servers_code(server: EmbeddedServer) -> None:
    rest = RestClient(server.url)
    try:
        with pytest.raises(AuthenticationError) as refused:
            await rest.login(
                organisation=ORGANISATION, account_name="ada", password="wrong-one", device_id="d"
            )
        assert refused.value.code == "invalid_credentials"
        assert rest.token is None
    finally:
        await rest.close()


async def test_instant_meeting_and_join_links(server: EmbeddedServer) -> None:
    rest = await rest_of(server, "ada")
    try:
        meeting = await rest.create_meeting(topic="Stand-up", password="s3cret")
        assert len(meeting.code) == 9 and meeting.code.isdigit()
        assert meeting.your_role == "host" and meeting.has_password
        assert meeting.status == "active" and meeting.kind == "instant"
        assert await rest.parse_join_link(meeting.join_link) == meeting.code
        spaced = f"{meeting.code[:3]} {meeting.code[3:6]} {meeting.code[6:]}"
        assert await rest.parse_join_link(spaced) == meeting.code
        assert (await rest.meeting(meeting.code)).topic == "Stand-up"
        with pytest.raises(InvalidRequestError):
            await rest.parse_join_link("https://elsewhere.example/x")
        with pytest.raises(NotFoundError):
            await rest.meeting("000000000")
    finally:
        await rest.close()


async def test_directory_search(server: EmbeddedServer) -> None:
    rest = await rest_of(server, "bob")
    try:
        found = await rest.search_directory("Lovelace")
        assert [entry.account_name for entry in found] == ["ada"]
        everyone = {entry.account_name for entry in await rest.search_directory()}
        assert {"ada", "bob", "cy", "host"} <= everyone
    finally:
        await rest.close()


async def test_unreachable_server_and_bad_urls() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rest = RestClient(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ServiceError) as failed:
            await rest.me()
        assert failed.value.code == "unreachable"
    finally:
        await rest.close()
    for url in ("ftp://127.0.0.1", "127.0.0.1:8080", "http://"):
        with pytest.raises(ConfigError):
            RestClient(url)


async def test_quality_reports_follow_the_privacy_setting(server: EmbeddedServer) -> None:
    ada, cy, admin = [await rest_of(server, name) for name in ("ada", "cy", "host")]
    try:
        # Ada keeps the organisation's default (collect); Cy opts out.
        assert (await ada.privacy_settings())["quality_collected"] is True
        settings = await cy.update_privacy_settings(collect_quality=False)
        assert settings["quality_collected"] is False

        assert await ada.post_quality([REPORT, REPORT]) == 2
        assert await cy.post_quality([REPORT]) == 0

        stored = await admin.request("GET", "/api/telemetry/quality")
        owners = {row["account_id"] for row in stored}
        ada_id, cy_id = (await ada.me()).account_id, (await cy.me()).account_id
        assert ada_id in owners and cy_id not in owners
        assert len(stored) == 2 and stored[0]["mos"] == pytest.approx(4.1)
    finally:
        for rest in (ada, cy, admin):
            await rest.close()


async def test_the_reporter_sends_nothing_for_an_opted_out_user(server: EmbeddedServer) -> None:
    stats = {
        ("audio", "t-1"): {"packetsReceived": 500, "packetsLost": 25, "jitter": 0.012,
                           "totalSamplesReceived": 480_000, "concealedSamples": 9600,
                           "audioLevel": 0.1, "mos": 4.0},
        ("camera", "t-2"): {"packetsReceived": 900, "packetsLost": 9, "jitter": 0.004},
    }  # fmt: skip
    ada, cy, admin = [await rest_of(server, name) for name in ("ada", "cy", "host")]
    try:
        await cy.update_privacy_settings(collect_quality=False)
        opted_out = QualityReporter(cy, lambda: stats, meeting_code=None, rtt_ms=lambda: 30.0)
        assert await opted_out.report_now() == 0
        assert opted_out.batches_withheld == 1 and opted_out.reports_sent == 0

        reporter = QualityReporter(ada, lambda: stats, meeting_code=None, rtt_ms=lambda: 30.0)
        assert await reporter.report_now() == 2
        # Nothing changed since: nothing to report.
        assert await reporter.report_now() == 0

        rows = await admin.request("GET", "/api/telemetry/quality")
        assert len(rows) == 2
        audio = next(row for row in rows if row["media"] == "audio")
        assert audio["loss_pct"] == pytest.approx(100 * 25 / 525)
        assert audio["concealment_pct"] == pytest.approx(2.0)
        assert audio["volume_dbov"] == pytest.approx(-20.0)
        assert audio["rtt_ms"] == pytest.approx(30.0)
    finally:
        for rest in (ada, cy, admin):
            await rest.close()
