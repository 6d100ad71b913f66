"""Reading a browser's SDP offer and answering it: a real Chromium offer
(captured from headless Chromium 156 with the flags and page of
test_browser_call.py), variants of it, a table of malformed and unsupported
offers, and arbitrary text, which gets SessionDescriptionError and
nothing else. Answers are read back with aiortc's own SDP parser."""

from __future__ import annotations

from typing import Any

import aiortc
import aiortc.sdp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink.errors import ConfigError, InvalidRequestError, SessionDescriptionError
from cloudlink.rtc.header_extensions import ABS_SEND_TIME_URI, HeaderExtensionIds
from cloudlink.rtc.session_description import RemoteDescription, build_answer, parse_offer
from cloudlink.rtc.transport import TransportParameters

CHROMIUM_OFFER = (
    "\r\n".join(
        """
v=0
o=- 5040080658606741254 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 82fa80eb-4511-4c7c-adcb-d8f5eac9a85f
m=audio 52862 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 127.0.0.1
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1294903409 1 udp 2122194687 127.0.0.1 52862 typ host generation 0 network-id 3 network-cost 50
a=candidate:3809687549 1 udp 2122063615 192.0.2.2 35288 typ host generation 0 network-id 1
a=candidate:1614249130 1 udp 2122267903 ::1 51148 typ host generation 0 network-id 4 network-cost 50
a=candidate:3831585613 1 udp 2122134271 fd00::2 35912 typ host generation 0 network-id 2
a=candidate:870402793 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 network-id 3 network-cost 50
a=candidate:2648495461 1 tcp 1518083839 192.0.2.2 9 typ host tcptype active generation 0 network-id 1
a=candidate:519609906 1 tcp 1518288127 ::1 9 typ host tcptype active generation 0 network-id 4 network-cost 50
a=candidate:2595142101 1 tcp 1518154495 fd00::2 9 typ host tcptype active generation 0 network-id 2
a=ice-ufrag:pQUS
a=ice-pwd:wlX+wsbUoQA5df2/WhzIDB7i
a=ice-options:trickle
a=fingerprint:sha-256 D0:2A:45:F9:9E:90:AF:22:0E:00:7D:E6:D1:7F:B1:E5:0D:E7:81:00:8E:8B:75:F3:34:11:FC:3A:AD:AE:D6:66
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:82fa80eb-4511-4c7c-adcb-d8f5eac9a85f 6b7882c6-23a4-45cd-a539-a0a5e7a6f6fe
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:2540599149 cname:0oZBcxsEyGPz1xaD
a=ssrc:2540599149 msid:82fa80eb-4511-4c7c-adcb-d8f5eac9a85f 6b7882c6-23a4-45cd-a539-a0a5e7a6f6fe
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:pQUS
a=ice-pwd:wlX+wsbUoQA5df2/WhzIDB7i
a=ice-options:trickle
a=fingerprint:sha-256 D0:2A:45:F9:9E:90:AF:22:0E:00:7D:E6:D1:7F:B1:E5:0D:E7:81:00:8E:8B:75:F3:34:11:FC:3A:AD:AE:D6:66
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:82fa80eb-4511-4c7c-adcb-d8f5eac9a85f 38d4bda3-a1ec-4a64-ab7a-b8bd4f863706
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=rtcp-fb:104 goog-remb
a=rtcp-fb:104 transport-cc
a=rtcp-fb:104 ccm fir
a=rtcp-fb:104 nack
a=rtcp-fb:104 nack pli
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=104
a=rtpmap:108 H264/90000
a=rtcp-fb:108 goog-remb
a=rtcp-fb:108 transport-cc
a=rtcp-fb:108 ccm fir
a=rtcp-fb:108 nack
a=rtcp-fb:108 nack pli
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:114 H264/90000
a=rtcp-fb:114 goog-remb
a=rtcp-fb:114 transport-cc
a=rtcp-fb:114 ccm fir
a=rtcp-fb:114 nack
a=rtcp-fb:114 nack pli
a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:115 rtx/90000
a=fmtp:115 apt=114
a=rtpmap:116 H264/90000
a=rtcp-fb:116 goog-remb
a=rtcp-fb:116 transport-cc
a=rtcp-fb:116 ccm fir
a=rtcp-fb:116 nack
a=rtcp-fb:116 nack pli
a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:117 rtx/90000
a=fmtp:117 apt=116
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:118 red/90000
a=rtpmap:119 rtx/90000
a=fmtp:119 apt=118
a=rtpmap:120 ulpfec/90000
a=ssrc-group:FID 1308322822 1105303539
a=ssrc:1308322822 cname:0oZBcxsEyGPz1xaD
a=ssrc:1308322822 msid:82fa80eb-4511-4c7c-adcb-d8f5eac9a85f 38d4bda3-a1ec-4a64-ab7a-b8bd4f863706
a=ssrc:1105303539 cname:0oZBcxsEyGPz1xaD
a=ssrc:1105303539 msid:82fa80eb-4511-4c7c-adcb-d8f5eac9a85f 38d4bda3-a1ec-4a64-ab7a-b8bd4f863706
""".strip().splitlines()  # noqa: E501 (the offer as Chromium wrote it)
    )
    + "\r\n"
)

AUDIO_SSRC, VIDEO_SSRC, VIDEO_RTX_SSRC = 2540599149, 1308322822, 1105303539

OURS = TransportParameters(
    ice=aiortc.RTCIceParameters(usernameFragment="CLnk", password="ourpasswordof22charsxx"),
    dtls=aiortc.RTCDtlsParameters(
        fingerprints=[aiortc.RTCDtlsFingerprint(algorithm="sha-256", value=":".join(["AB"] * 32))]
    ),
    candidates=(aiortc.sdp.candidate_from_sdp("1 1 udp 2130706431 127.0.0.1 40000 typ host"),),
)


def _edit(old: str, new: str, sdp: str = CHROMIUM_OFFER) -> str:
    assert old in sdp, old
    return sdp.replace(old, new, 1)


def _answer(offer: RemoteDescription, sending: dict[str, int] | None = None) -> str:
    return build_answer(
        offer,
        transport=OURS,
        cname="ourcname",
        sending={"0": 11, "1": 22} if sending is None else sending,
    )


def test_a_chromium_offer_reads_into_transport_sections_and_extension_ids() -> None:
    offer = parse_offer(CHROMIUM_OFFER)

    assert offer.transport.ice.usernameFragment == "pQUS"
    assert offer.transport.ice.password == "wlX+wsbUoQA5df2/WhzIDB7i"
    [fingerprint] = offer.transport.dtls.fingerprints
    assert fingerprint.algorithm == "sha-256" and fingerprint.value.startswith("D0:2A:45")
    # UDP candidates of the RTP component only (TCP ones are left out).
    assert [(c.ip, c.port, c.protocol) for c in offer.transport.candidates] == [
        ("127.0.0.1", 52862, "udp"),
        ("192.0.2.2", 35288, "udp"),
        ("::1", 51148, "udp"),
        ("fd00::2", 35912, "udp"),
    ]
    assert (offer.setup, offer.ice_lite, offer.answerer_controls) == ("actpass", False, False)
    assert offer.extension_ids == HeaderExtensionIds(
        audio_level=1, abs_send_time=2, transport_sequence=3, mid=4
    )

    audio, video = offer.sections
    assert (audio.mid, audio.kind, audio.direction) == ("0", "audio", "sendrecv")
    assert (audio.payload_type, audio.red_payload_type) == (111, 63)
    assert audio.ssrcs == (AUDIO_SSRC,) and audio.cname == "0oZBcxsEyGPz1xaD"
    assert (video.mid, video.kind, video.payload_type, video.red_payload_type) == (
        "1",
        "video",
        96,
        None,
    )
    # The RTX SSRC of the FID group is a repair stream, not media.
    assert video.ssrcs == (VIDEO_SSRC,)
    assert offer.accepted("video") == [video] and offer.section("0") is audio
    with pytest.raises(SessionDescriptionError):
        offer.section("9")


def test_the_answer_reads_back_with_aiortcs_parser() -> None:
    offer = parse_offer(CHROMIUM_OFFER)
    answer = aiortc.sdp.SessionDescription.parse(_answer(offer))

    assert answer.group[0].semantic == "BUNDLE" and answer.group[0].items == ["0", "1"]
    audio, video = answer.media
    for media in (audio, video):
        assert media.rtcp_mux and media.direction == "sendrecv"
        assert media.ice.usernameFragment == "CLnk"
        assert media.dtls.role == "client"  # a=setup:active: we are DTLS client
        assert [f.value for f in media.dtls.fingerprints] == [OURS.dtls.fingerprints[0].value]
    assert [(c.name, c.payloadType, c.clockRate, c.channels) for c in audio.rtp.codecs] == [
        ("opus", 111, 48000, 2),
        ("red", 63, 48000, 2),
    ]
    assert [(c.name, c.payloadType) for c in video.rtp.codecs] == [("VP8", 96)]
    feedback = {(f.type, f.parameter) for f in video.rtp.codecs[0].rtcpFeedback}
    assert feedback == {
        ("goog-remb", None),
        ("transport-cc", None),
        ("ccm", "fir"),
        ("nack", None),
        ("nack", "pli"),
    }
    assert {(e.id, e.uri) for e in audio.rtp.headerExtensions} == {
        (1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        (2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
        (3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
        (4, "urn:ietf:params:rtp-hdrext:sdes:mid"),
    }
    assert len(video.rtp.headerExtensions) == 3  # no audio level, no toffset & co.
    # Our SSRCs with cname and msid, so the browser demultiplexes by SSRC.
    assert [(s.ssrc, s.cname) for s in audio.ssrc] == [(11, "ourcname")]
    assert [(s.ssrc, s.msid) for s in video.ssrc] == [(22, "cloudlink cloudlink-1")]
    assert audio.msid == "cloudlink cloudlink-0"
    # Candidates once, on the bundle's first section.
    assert [(c.ip, c.port) for c in audio.ice_candidates] == [("127.0.0.1", 40000)]
    assert audio.ice_candidates_complete and not video.ice_candidates


def test_directions_follow_what_each_side_sends() -> None:
    offer = parse_offer(_edit("a=sendrecv\r\na=msid:82fa", "a=recvonly\r\na=msid:82fa"))
    answer = aiortc.sdp.SessionDescription.parse(_answer(offer, {"1": 22}))
    # Audio: the browser only receives and we send nothing -> inactive;
    # video: sendrecv offered, we send -> sendrecv.
    assert [m.direction for m in answer.media] == ["inactive", "sendrecv"]
    answer = aiortc.sdp.SessionDescription.parse(_answer(offer, {}))
    assert [m.direction for m in answer.media] == ["inactive", "recvonly"]


def test_sections_we_cannot_use_are_rejected_in_place() -> None:
    # A video section offering H.264 only, and a data channel.
    h264_only = _edit("m=video 9 UDP/TLS/RTP/SAVPF 96 97 ", "m=video 9 UDP/TLS/RTP/SAVPF ")
    with_data = _edit("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2", h264_only) + (
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=mid:2\r\na=sctp-port:5000\r\n"
    )
    offer = parse_offer(with_data)
    assert [s.accepted for s in offer.sections] == [True, False, False]
    assert offer.extension_ids.mid == 4
    text = _answer(offer, {"0": 11})
    answer = aiortc.sdp.SessionDescription.parse(text)
    assert [(m.kind, m.port) for m in answer.media] == [
        ("audio", 9),
        ("video", 0),
        ("application", 0),
    ]
    assert "a=group:BUNDLE 0\r\n" in text
    with pytest.raises(SessionDescriptionError, match="no accepted section"):
        _answer(offer, {"1": 22})


def test_an_ice_lite_offerer_makes_us_controlling_and_dtls_server() -> None:
    offer = parse_offer(_edit("a=extmap-allow-mixed", "a=ice-lite\r\na=extmap-allow-mixed"))
    assert offer.ice_lite and offer.answerer_controls
    answer = aiortc.sdp.SessionDescription.parse(_answer(offer))
    assert {m.dtls.role for m in answer.media} == {"server"}  # a=setup:passive


def test_extension_ids_follow_the_offer() -> None:
    moved = CHROMIUM_OFFER.replace("a=extmap:3 ", "a=extmap:9 ").replace(
        "a=extmap:4 ", "a=extmap:12 "
    )
    offer = parse_offer(moved)
    assert offer.extension_ids == HeaderExtensionIds(
        audio_level=1, abs_send_time=2, transport_sequence=9, mid=12
    )
    assert "a=extmap:9 http://www.ietf.org/id/draft-holmer" in _answer(offer)
    # An id beyond the one-byte form is not taken (we write one-byte elements).
    two_byte = CHROMIUM_OFFER.replace("a=extmap:2 ", "a=extmap:15 ")
    assert parse_offer(two_byte).extension_ids.abs_send_time == 0


def test_our_own_answer_inputs_are_checked() -> None:
    offer = parse_offer(CHROMIUM_OFFER)
    for bad in ({"cname": "two words"}, {"cname": "x\r\na=evil"}, {"stream_id": ""}):
        with pytest.raises(ConfigError):
            options: Any = {"cname": "c", "sending": {}, **bad}
            build_answer(offer, transport=OURS, **options)
    with pytest.raises(ConfigError):
        build_answer(offer, transport=OURS, cname="c", sending={"0": 5, "1": 5})
    with pytest.raises(ConfigError):
        build_answer(offer, transport=OURS, cname="c", sending={"0": 1 << 32})


@pytest.mark.parametrize(
    ("sdp", "reason"),
    [
        ("", "v=0"),
        ("v=1\r\n", "v=0"),
        ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "no media"),
        ("v=0\r\nm=audio\r\n", "malformed m="),
        ("v=0\r\nm=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", "malformed m="),
        ("v=0\r\nm=audio 9 RTP/AVP 111\r\n", "profile"),
        ("v=0\r\nbroken line\r\n", "type=value"),
        (_edit("a=group:BUNDLE 0 1\r\n", ""), "BUNDLE"),
        (_edit("a=group:BUNDLE 0 1", "a=group:BUNDLE 0"), "BUNDLE"),
        (_edit("a=mid:1", "a=mid:0"), "MIDs repeat"),
        (_edit("a=mid:1", "a=mid:has space"), "MID"),
        (CHROMIUM_OFFER.replace("a=rtcp-mux\r\n", ""), "rtcp-mux"),
        (CHROMIUM_OFFER.replace("a=ice-ufrag:pQUS\r\n", ""), "ice-ufrag"),
        (CHROMIUM_OFFER.replace("a=ice-pwd:wlX+wsbUoQA5df2/WhzIDB7i", "a=ice-pwd:short"), "ICE"),
        (CHROMIUM_OFFER.replace("a=fingerprint:sha-256", "a=fingerprint:md5"), "fingerprint"),
        (CHROMIUM_OFFER.replace("a=setup:actpass", "a=setup:holdconn"), "setup"),
        (CHROMIUM_OFFER.replace("a=setup:actpass", "a=setup:active"), "DTLS role"),
        (_edit("a=candidate:1294903409 1 udp", "a=candidate:1294903409 1 udp x"), "candidate"),
        (_edit("52862 typ host generation 0 network-id 3 network-cost 50", "52862"), "candidate"),
        (_edit("a=rtpmap:111 opus", "a=rtpmap:300 opus"), "rtpmap"),
        (_edit("a=ssrc:2540599149 cname", "a=ssrc:99999999999 cname"), "ssrc"),
        (_edit("a=extmap:1 urn", "a=extmap:x urn"), "extmap"),
        (_edit("a=extmap:14 urn:ietf:params:rtp-hdrext:toffset", "a=extmap:14"), "extmap"),
        (CHROMIUM_OFFER.replace("a=extmap:3 ", "a=extmap:7 ", 1), "two ids"),
        (_edit("a=extmap:13 ", f"a=extmap:1 {ABS_SEND_TIME_URI}\r\na=extmap:13 "), "two ids"),
        (
            CHROMIUM_OFFER.replace("opus/48000/2", "opus/16000/1").replace(" VP8/", " VP9/"),
            "no Opus",
        ),
        (CHROMIUM_OFFER + "a=x:" + "y" * 70_000 + "\r\n", "longer"),
        ("v=0\r\n" + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" * 17, "more than 16"),
    ],
)
def test_malformed_or_unsupported_offers_are_refused_with_a_reason(sdp: str, reason: str) -> None:
    with pytest.raises(SessionDescriptionError, match=reason) as refused:
        parse_offer(sdp)
    assert refused.value.code == "invalid_sdp"
    assert isinstance(refused.value, InvalidRequestError | ValueError)


def test_an_offer_that_is_not_text_is_refused() -> None:
    with pytest.raises(SessionDescriptionError):
        parse_offer(b"v=0")  # type: ignore[arg-type]


def _read(sdp: str) -> None:
    try:
        parse_offer(sdp)
    except SessionDescriptionError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_is_an_offer_or_a_clear_error(text: str) -> None:
    _read(text)
    _read("v=0\r\n" + text)


# Text made of SDP's own pieces reaches deeper than arbitrary characters.
_PIECES = st.sampled_from(
    ["\r\n", "\n", " ", ":", "/", "=", "a=", "m=", "v=0", "0", "1", "96", "111", "²", "\x00"]
    + [line.split(" ", 1)[0] for line in CHROMIUM_OFFER.split("\r\n")[4:40]]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60))
def test_text_of_sdp_pieces_is_an_offer_or_a_clear_error(pieces: list[str]) -> None:
    _read("v=0\r\n" + "".join(pieces))
    _read(CHROMIUM_OFFER.split("m=video")[0] + "".join(pieces))


_LINES = CHROMIUM_OFFER.split("\r\n")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_LINES) - 1), st.text(max_size=40)), min_size=1, max_size=4
    ),
    st.integers(0, len(CHROMIUM_OFFER)),
)
def test_damaged_chromium_offers_are_an_offer_or_a_clear_error(
    damage: list[tuple[int, str]], cut: int
) -> None:
    lines = list(_LINES)
    for index, text in damage:
        # Replace a line, or only the value after its first ':' or '='.
        head = lines[index].split(":", 1)[0] if ":" in lines[index] else lines[index][:2]
        lines[index] = head + (":" if ":" in lines[index] else "") + text
    damaged = "\r\n".join(lines)
    _read(damaged)
    _read(CHROMIUM_OFFER[:cut])
