"""The ``offer`` message (docs/signaling.md): a participant opens its media
path with an SDP offer shaped like Chromium's; its sending sections become
tracks, its receiving sections subscriptions whose SSRCs the answer
announces; a renegotiation changes only what differs; a bad offer gets an
error and changes nothing. Media itself is the browser test's."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from _signaling_world import (  # noqa: F401
    Peer,
    World,
    WorldFactory,
    make_world_fixture,
    settle,
    world_fixture,
)

from cloudlink.rtc.header_extensions import (
    ABS_SEND_TIME_URI,
    AUDIO_LEVEL_URI,
    MID_URI,
    TRANSPORT_SEQUENCE_URI,
)
from cloudlink.rtc.session_description import parse_offer
from cloudlink.rtc.transport import Transport

UFRAG, PASSWORD = "pQUS", "wlX+wsbUoQA5df2/WhzIDB7i"
FINGERPRINT = ":".join(["D0"] * 32)
# Chromium's ids (its offer of tests/rtc/test_session_description.py).
EXTMAP = {1: AUDIO_LEVEL_URI, 2: ABS_SEND_TIME_URI, 3: TRANSPORT_SEQUENCE_URI, 4: MID_URI}


@dataclass(frozen=True)
class Section:
    kind: str  # audio or video
    direction: str
    ssrc: int | None = None
    payload_type: int | None = None  # Opus 111 / VP8 96 unless given
    red: bool = True


def offer(sections: Sequence[Section], *, ufrag: str = UFRAG) -> str:
    """An offer as Chromium writes it (the parts we read), one loopback candidate."""
    mids = [str(n) for n in range(len(sections))]
    lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    lines += ["a=group:BUNDLE " + " ".join(mids), "a=msid-semantic: WMS s"]
    for mid, section in zip(mids, sections, strict=True):
        audio = section.kind == "audio"
        pt = section.payload_type or (111 if audio else 96)
        formats = f"{pt} 63" if audio and section.red else str(pt)
        lines += [f"m={section.kind} 9 UDP/TLS/RTP/SAVPF {formats}", "c=IN IP4 0.0.0.0"]
        if mid == "0":
            lines.append("a=candidate:1 1 udp 2122194687 127.0.0.1 9 typ host generation 0")
        lines += [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{PASSWORD}"]
        lines += [f"a=fingerprint:sha-256 {FINGERPRINT}", "a=setup:actpass", f"a=mid:{mid}"]
        for id_, uri in EXTMAP.items():
            if audio or uri != AUDIO_LEVEL_URI:
                lines.append(f"a=extmap:{id_} {uri}")
        lines += [f"a={section.direction}", "a=rtcp-mux", "a=rtcp-rsize"]
        if audio:
            lines += [f"a=rtpmap:{pt} opus/48000/2", f"a=fmtp:{pt} minptime=10;useinbandfec=1"]
            if section.red:
                lines += ["a=rtpmap:63 red/48000/2", f"a=fmtp:63 {pt}/{pt}"]
        else:
            lines += [f"a=rtpmap:{pt} VP8/90000", f"a=rtcp-fb:{pt} nack pli"]
        if section.ssrc is not None:
            lines.append(f"a=ssrc:{section.ssrc} cname:browser")
    return "\r\n".join(lines) + "\r\n"


SEND_BOTH = [Section("audio", "sendonly", 1111), Section("video", "sendonly", 2222)]


async def _meeting(world: World) -> tuple[Peer, Peer]:
    """The host and Ada in one meeting, Ada's join events read."""
    _, host_token, host = await world.person("host")
    _, _, ada = await world.person("ada")
    code = await world.meeting(host_token)
    await host.ok("join", meeting=code)
    await ada.ok("join", meeting=code)
    await host.event("participant-joined")
    return host, ada


async def _host_tracks(host: Peer) -> dict[str, str]:
    """The host publishes audio and camera (signaling only): kind -> track id."""
    tracks = {}
    for kind, ssrc in (("audio", 5001), ("camera", 5002)):
        tracks[kind] = (await host.ok("publish", kind=kind, ssrc=ssrc))["track"]["track_id"]
    return tracks


async def _update_of(peer: Peer, participant_id: str) -> dict[str, Any]:
    """The next ``participant-updated`` about ``participant_id`` (others dropped)."""
    while True:
        participant: dict[str, Any] = (await peer.event("participant-updated"))["participant"]
        if participant["participant_id"] == participant_id:
            return participant


def _section_lines(sdp: str, mid: str) -> list[str]:
    """The lines of one section of an answer."""
    sections = ("\r\n" + sdp).split("\r\nm=")[1:]
    for section in sections:
        if f"a=mid:{mid}\r\n" in section:
            return section.split("\r\n")
    raise AssertionError(f"no section {mid} in {sdp!r}")


async def test_an_offer_publishes_its_sending_sections_and_answers_them(world: World) -> None:
    host, ada = await _meeting(world)
    answer = await ada.ok("offer", sdp=offer(SEND_BOTH))

    # Ada's two tracks under the offered SSRCs, published to the host.
    tracks = answer["tracks"]
    assert {mid: t["kind"] for mid, t in tracks.items()} == {"0": "audio", "1": "camera"}
    assert answer["subscriptions"] == {}
    published = [(await host.event("track-published"))["track"] for _ in range(2)]
    assert {t["track_id"] for t in published} == {t["track_id"] for t in tracks.values()}
    updated = await host.event("participant-updated")
    assert updated["participant"]["audio_muted"] is False

    # The answer: the SFU receives both, as the DTLS client of a full-ICE
    # offerer; only the extensions forwarded at the offered ids are agreed.
    sdp = answer["sdp"]
    parse_offer(sdp.replace("a=setup:active", "a=setup:actpass"))  # well formed
    assert "a=setup:active" in sdp and "a=candidate:" in sdp
    audio, video = _section_lines(sdp, "0"), _section_lines(sdp, "1")
    assert "a=recvonly" in audio and "a=recvonly" in video
    assert [line for line in audio if line.startswith("a=extmap")] == [
        f"a=extmap:1 {AUDIO_LEVEL_URI}",
        f"a=extmap:2 {ABS_SEND_TIME_URI}",
    ]
    assert [line for line in video if line.startswith("a=extmap")] == [
        f"a=extmap:2 {ABS_SEND_TIME_URI}"
    ]
    assert not any("transport-cc" in line for line in audio + video)


async def test_receiving_sections_get_the_named_tracks_under_the_answered_ssrcs(
    world: World,
) -> None:
    host, ada = await _meeting(world)
    tracks = await _host_tracks(host)
    receive = [Section("audio", "recvonly"), Section("video", "recvonly")]
    answer = await ada.ok(
        "offer", sdp=offer(receive), receive={"0": tracks["audio"], "1": tracks["camera"]}
    )

    subscriptions = answer["subscriptions"]
    assert subscriptions["0"]["track_id"] == tracks["audio"]
    assert subscriptions["1"]["track_id"] == tracks["camera"]
    for mid, kind in (("0", "audio"), ("1", "camera")):
        subscription = subscriptions[mid]
        assert subscription["kind"] == kind
        lines = _section_lines(answer["sdp"], mid)
        assert "a=sendonly" in lines
        assert f"a=ssrc:{subscription['ssrc']} cname:cloudlink-sfu" in lines
    assert answer["tracks"] == {}


async def test_a_renegotiation_keeps_what_did_not_change(world: World) -> None:
    host, ada = await _meeting(world)
    audio_track = (await host.ok("publish", kind="audio", ssrc=5001))["track"]["track_id"]
    sections = [Section("audio", "sendonly", 1111), Section("audio", "recvonly")]
    first = await ada.ok("offer", sdp=offer(sections), receive={"1": audio_track})
    await host.event("track-published")
    ada_id = first["tracks"]["0"]["participant_id"]
    assert (await _update_of(host, ada_id))["audio_muted"] is False

    # The host starts its camera: Ada offers again with a section for it.
    camera_track = (await host.ok("publish", kind="camera", ssrc=5002))["track"]["track_id"]
    sections.append(Section("video", "recvonly"))
    receive = {"1": audio_track, "2": camera_track}
    second = await ada.ok("offer", sdp=offer(sections), receive=receive)
    assert second["tracks"] == first["tracks"]
    assert second["subscriptions"]["1"] == first["subscriptions"]["1"]
    assert second["subscriptions"]["2"]["track_id"] == camera_track
    await settle(host)
    assert host.kept("track-published") == []

    # Ada's microphone stops: its track ends, the host hears of it.
    sections[0] = Section("audio", "inactive")
    third = await ada.ok("offer", sdp=offer(sections), receive=receive)
    assert third["tracks"] == {}
    gone = await host.event("track-unpublished")
    assert gone["track_id"] == first["tracks"]["0"]["track_id"]
    assert (await _update_of(host, ada_id))["audio_muted"] is True
    assert third["subscriptions"] == second["subscriptions"]


async def test_a_section_whose_track_ended_is_answered_inactive(world: World) -> None:
    host, ada = await _meeting(world)
    tracks = await _host_tracks(host)
    sections = [Section("audio", "recvonly"), Section("video", "recvonly")]
    await ada.ok(
        "offer", sdp=offer(sections), receive={"0": tracks["audio"], "1": tracks["camera"]}
    )
    await host.ok("unpublish", track_id=tracks["camera"])
    await ada.event("track-unpublished")

    answer = await ada.ok("offer", sdp=offer(sections), receive={"0": tracks["audio"]})
    assert list(answer["subscriptions"]) == ["0"]
    assert "a=inactive" in _section_lines(answer["sdp"], "1")


def _bad_cases() -> list[Any]:
    send_audio = [Section("audio", "sendonly", 1111)]
    receive = [Section("audio", "recvonly"), Section("video", "recvonly")]
    return [
        pytest.param({"sdp": "v=0\r\nnot sdp"}, "invalid_sdp", id="garbage"),
        pytest.param(
            {"sdp": offer(send_audio).replace("a=group:BUNDLE 0\r\n", "")},
            "invalid_sdp",
            id="no-bundle",
        ),
        pytest.param(
            {"sdp": offer([Section("audio", "sendonly", 1111, payload_type=109)])},
            "invalid_sdp",
            id="opus-not-111",
        ),
        pytest.param(
            {"sdp": offer([Section("video", "sendonly", 2222, payload_type=98)])},
            "invalid_sdp",
            id="vp8-not-96",
        ),
        pytest.param(
            {"sdp": offer(send_audio * 2)},
            "invalid_sdp",
            id="two-sending-audio",
        ),
        pytest.param({"sdp": offer(receive), "receive": {"0": "t-none"}}, "not_found", id="track"),
        pytest.param(
            {"sdp": offer(send_audio), "receive": {"0": "{audio}"}},
            "invalid_sdp",
            id="receive-on-sendonly",
        ),
        pytest.param(
            {"sdp": offer(receive), "receive": {"1": "{audio}"}},
            "invalid_sdp",
            id="audio-in-video",
        ),
        pytest.param(
            {"sdp": offer([Section("audio", "recvonly", red=False)]), "receive": {"0": "{audio}"}},
            "invalid_sdp",
            id="audio-without-red",
        ),
        pytest.param(
            {"sdp": offer(receive), "receive": {"0": "{audio}", "5": "{camera}"}},
            "invalid_sdp",
            id="unknown-mid",
        ),
        pytest.param(
            {"sdp": offer(receive), "receive": {"0": "{audio}", "1": "{audio}"}},
            "invalid_message",
            id="track-twice",
        ),
        pytest.param({"sdp": offer(receive), "receive": ["0"]}, "invalid_message", id="list"),
        pytest.param({"sdp": 5}, "invalid_message", id="sdp-not-text"),
        pytest.param({"sdp": offer(send_audio), "extra": 1}, "invalid_message", id="extra"),
    ]


@pytest.mark.parametrize(("fields", "code"), _bad_cases())
async def test_a_bad_offer_gets_an_error_and_changes_nothing(
    world: World, fields: dict[str, Any], code: str
) -> None:
    host, ada = await _meeting(world)
    tracks = await _host_tracks(host)
    receive = fields.get("receive")
    if isinstance(receive, dict):
        fields["receive"] = {m: t.format(**tracks) for m, t in receive.items()}
    assert await ada.refused("offer", **fields) == code

    # Nothing was published or opened: a good offer still works from scratch.
    await settle(host, ada)
    assert host.kept("track-published") == []
    answer = await ada.ok("offer", sdp=offer(SEND_BOTH), receive={})
    assert len(answer["tracks"]) == 2


async def test_a_renegotiation_that_fails_keeps_the_negotiated_state(world: World) -> None:
    host, ada = await _meeting(world)
    tracks = await _host_tracks(host)
    sections = [Section("audio", "sendonly", 1111), Section("audio", "recvonly")]
    first = await ada.ok("offer", sdp=offer(sections), receive={"1": tracks["audio"]})

    # New ICE credentials (an ICE restart), and an SSRC another track holds.
    restart = offer(sections, ufrag="othr")
    assert await ada.refused("offer", sdp=restart, receive={"1": tracks["audio"]}) == "invalid_sdp"
    wrong = [Section("audio", "sendonly", 1111), Section("video", "sendonly", 1111)]
    assert await ada.refused("offer", sdp=offer(wrong)) == "invalid_sdp"
    again = await ada.ok("offer", sdp=offer(sections), receive={"1": tracks["audio"]})
    assert again["tracks"] == first["tracks"]
    assert again["subscriptions"] == first["subscriptions"]


async def test_offer_and_transport_parameters_do_not_mix(world: World) -> None:
    host, ada = await _meeting(world)
    await ada.ok("offer", sdp=offer(SEND_BOTH))
    transport = Transport(loopback=True)
    try:
        parameters = (await transport.gather()).to_json()
        assert await ada.refused("transport", parameters=parameters) == "invalid_message"
        assert await ada.refused("restart-ice", parameters=parameters) == "invalid_message"
        await host.ok("transport", parameters=parameters)
        assert await host.refused("offer", sdp=offer(SEND_BOTH)) == "invalid_message"
    finally:
        await transport.close()


async def test_damaged_offers_are_answered_never_with_internal_error(
    make_world: WorldFactory,
) -> None:
    host, ada = await _meeting(await make_world(signaling_messages_per_window=1000))
    tracks = await _host_tracks(host)
    sections = [*SEND_BOTH, Section("audio", "recvonly"), Section("video", "recvonly")]
    receive = {"2": tracks["audio"], "3": tracks["camera"]}
    lines = offer(sections).split("\r\n")
    rng = random.Random(5)
    codes: set[str] = set()
    accepted = 0
    for _ in range(60):
        damaged = list(lines)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(damaged))
            action = rng.choice(["drop", "repeat", "cut", "digit"])
            if action == "drop":
                del damaged[at]
            elif action == "repeat":
                damaged.insert(at, damaged[at])
            elif action == "cut":
                damaged[at] = damaged[at][: rng.randrange(len(damaged[at]) + 1)]
            else:
                damaged[at] = "".join(
                    str(rng.randrange(10)) if c.isdigit() and rng.random() < 0.3 else c
                    for c in damaged[at]
                )
        answer = await ada.request("offer", sdp="\r\n".join(damaged), receive=receive)
        if answer["type"] == "error":
            codes.add(answer["error"]["code"])
        else:
            accepted += 1
            parse_offer(answer["sdp"].replace("a=setup:active", "a=setup:actpass"))
    assert "internal_error" not in codes and "invalid_sdp" in codes, codes
    assert accepted > 0  # some damage leaves an offer usable
