"""A browser's SDP offer (RFC 8866, JSEP RFC 8829) read into what our
transport and RTP session need, and the answer that accepts it.

What we accept is what Chromium offers in unified plan: every audio and
video section bundled on one transport (RFC 8843) with RTP and RTCP on one
port (RFC 5761), ICE credentials and candidates (RFC 8839), DTLS
fingerprints and setup role (RFC 8122, RFC 8842). Per section: Opus,
RED over Opus (RFC 2198) and VP8 (RFC 7741); RTX, FEC and other codecs
are left out of the answer. Header extensions: audio level (RFC 6464),
abs-send-time, transport-wide sequence and the MID (RFC 8843 section 15),
one-byte ids only (RFC 8285).

    offer = parse_offer(sdp)                  # SessionDescriptionError if unusable
    transport.connect(offer.transport, controlling=offer.answerer_controls)
    RtpSession(transport, extension_ids=offer.extension_ids, ...)
    build_answer(offer, transport=local, cname=..., sending={mid: ssrc})

The answerer's DTLS role follows its ICE role as :class:`Transport` sets
it (controlling: DTLS server), so the answer says ``a=setup:active`` to a
full-ICE offerer and ``a=setup:passive`` to a lite one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import aiortc
import aiortc.sdp

from cloudlink.errors import ConfigError, SessionDescriptionError
from cloudlink.rtc import header_extensions as ext
from cloudlink.rtc.transport import TransportParameters

__all__ = [
    "MediaSection",
    "RemoteDescription",
    "build_answer",
    "parse_offer",
]

Kind = Literal["audio", "video"]
Direction = Literal["sendrecv", "sendonly", "recvonly", "inactive"]

# Bounds on what a peer may send (signaling input): Chromium's offer for one
# audio and one video section is about 5 KB.
_MAX_SDP_CHARS: Final = 65_536
_MAX_SECTIONS: Final = 16
_MAX_CANDIDATES: Final = 32
_PROFILES: Final = frozenset({"UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF"})
_DIRECTIONS: Final = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
# RFC 8839 section 5.4: ice-char is ALPHA / DIGIT / "+" / "/".
_ICE_UFRAG: Final = re.compile(r"[A-Za-z0-9+/]{4,256}")
_ICE_PWD: Final = re.compile(r"[A-Za-z0-9+/]{22,256}")
_FINGERPRINT: Final = re.compile(r"([0-9A-Fa-f]{2}:){15,63}[0-9A-Fa-f]{2}")
_HASHES: Final = frozenset({"sha-256", "sha-384", "sha-512"})
# A MID is a token (RFC 5888 section 4; Chromium's are "0", "1", ...) that
# must fit a one-byte extension element (RFC 8285): 16 bytes at most.
_MID: Final = re.compile(r"[A-Za-z0-9_.\-]{1,16}")
# The extensions we read or write, by URI, and the HeaderExtensionIds field
# each maps to; audio level belongs to audio sections only.
_EXTENSIONS: Final = {
    ext.AUDIO_LEVEL_URI: "audio_level",
    ext.ABS_SEND_TIME_URI: "abs_send_time",
    ext.TRANSPORT_SEQUENCE_URI: "transport_sequence",
    ext.MID_URI: "mid",
}
# RFC 8285 section 4.2: one-byte elements take ids 1..14.
_MAX_ONE_BYTE_ID: Final = 14
# RTCP feedback we answer (RFC 4585, RFC 5104, REMB, TWCC): the session
# sends and honours all of it.
_VIDEO_FEEDBACK: Final = ("goog-remb", "transport-cc", "ccm fir", "nack", "nack pli")
_AUDIO_FEEDBACK: Final = ("transport-cc",)
_OPUS_FMTP: Final = "minptime=10;useinbandfec=1"
_NUMBER: Final = re.compile(r"[0-9]{1,12}")
# What our cname and msid may hold: a token that cannot break an SDP line.
_TOKEN: Final = re.compile(r"[A-Za-z0-9+/=._\-]{1,64}")


@dataclass(frozen=True)
class MediaSection:
    """One ``m=`` section of the offer. ``payload_type`` is its Opus or VP8
    payload type, None when it offers neither (we reject the section);
    ``red_payload_type`` is RED over that Opus when offered. ``ssrcs`` are
    the offerer's media SSRCs (RTX and FEC SSRCs left out), ``extensions``
    the offered ids of the URIs we understand."""

    mid: str
    kind: str
    direction: Direction
    payload_type: int | None
    red_payload_type: int | None = None
    ssrcs: tuple[int, ...] = ()
    cname: str | None = None
    extensions: Mapping[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Whether the answer takes this section (audio or video with a
        codec of ours); the others are rejected with port 0."""
        return self.kind in ("audio", "video") and self.payload_type is not None


@dataclass(frozen=True)
class RemoteDescription:
    """What a browser's offer says: its transport, its DTLS ``setup``
    (RFC 8842), whether it is an ICE lite agent, its sections in order and
    the header extension ids the whole bundle uses."""

    transport: TransportParameters
    setup: str
    ice_lite: bool
    sections: tuple[MediaSection, ...]
    extension_ids: ext.HeaderExtensionIds

    @property
    def answerer_controls(self) -> bool:
        """RFC 8445 section 6.1.1: the offerer controls ICE unless it is
        lite; pass this as ``Transport.connect(controlling=...)``."""
        return self.ice_lite

    def section(self, mid: str) -> MediaSection:
        """The section of ``mid``; SessionDescriptionError if none."""
        for section in self.sections:
            if section.mid == mid:
                return section
        raise SessionDescriptionError(f"the offer has no section [mid:{mid}]")

    def accepted(self, kind: Kind) -> list[MediaSection]:
        """The sections of ``kind`` the answer takes, in offer order."""
        return [s for s in self.sections if s.kind == kind and s.accepted]


@dataclass
class _Section:
    """One section while it is read."""

    kind: str
    port: int
    formats: list[str]
    attributes: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.attributes if key == name]

    def value(self, name: str) -> str | None:
        values = self.values(name)
        return values[0] if values else None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.attributes)


def parse_offer(sdp: str) -> RemoteDescription:
    """Reads a browser's offer; SessionDescriptionError (code
    ``invalid_sdp``) names what is malformed or unsupported."""
    if not isinstance(sdp, str):
        raise SessionDescriptionError(f"an SDP offer is text, got {type(sdp).__name__}")
    if len(sdp) > _MAX_SDP_CHARS:
        raise SessionDescriptionError(f"the offer is longer than {_MAX_SDP_CHARS} characters")
    session, raw_sections = _split(sdp)
    if not raw_sections:
        raise SessionDescriptionError("the offer has no media section")

    # Step 1: the bundle and its one transport.
    bundles = [v.split()[1:] for v in session.values("group") if v.split()[:1] == ["BUNDLE"]]
    mids = [_mid(s) for s in raw_sections]
    if len(set(mids)) != len(mids):
        raise SessionDescriptionError(f"MIDs repeat: {mids}")
    live = [s for s in raw_sections if s.port != 0 or s.has("bundle-only")]
    live_mids = [_mid(s) for s in live]
    if not bundles or not set(live_mids) <= set(bundles[0]) or not live:
        raise SessionDescriptionError("every media section must be in one BUNDLE group (RFC 8843)")
    tagged = live[0]
    transport, setup = _transport(session, tagged, live)
    for section in live:
        if section.kind in ("audio", "video") and not section.has("rtcp-mux"):
            raise SessionDescriptionError(f"rtcp-mux is required (RFC 5761) [mid:{_mid(section)}]")

    # Step 2: each section's codecs, sources and extensions; the ids of the
    # bundle (RFC 8843 section 9.2: one id means one extension throughout).
    sections = tuple(_media(s, live=s in live) for s in raw_sections)
    extension_ids = _bundle_extensions(s for s in sections if s.accepted)
    description = RemoteDescription(
        transport=transport,
        setup=setup,
        ice_lite=session.has("ice-lite"),
        sections=sections,
        extension_ids=extension_ids,
    )
    if not any(s.accepted for s in sections):
        raise SessionDescriptionError("the offer has no Opus audio or VP8 video section")
    _check_setup(description)
    return description


def _split(sdp: str) -> tuple[_Section, list[_Section]]:
    """The session part and the media sections of ``sdp``, as attributes."""
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise SessionDescriptionError("an SDP description starts with v=0")
    session = _Section(kind="session", port=0, formats=[])
    sections: list[_Section] = []
    current = session
    for number, line in enumerate(lines, start=1):
        if len(line) < 2 or line[1] != "=" or not line.isprintable():
            raise SessionDescriptionError(f"line {number} is not type=value: {line[:40]!r}")
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            if len(parts) < 4 or not _is_number(parts[1]) or int(parts[1]) > 65535:
                raise SessionDescriptionError(f"line {number}: malformed m= line {value[:60]!r}")
            if parts[2] not in _PROFILES and parts[0] in ("audio", "video"):
                raise SessionDescriptionError(f"line {number}: unsupported profile {parts[2]!r}")
            current = _Section(kind=parts[0], port=int(parts[1]), formats=parts[3:])
            sections.append(current)
            if len(sections) > _MAX_SECTIONS:
                raise SessionDescriptionError(f"more than {_MAX_SECTIONS} media sections")
        elif kind == "a":
            name, _, attribute = value.partition(":")
            current.attributes.append((name, attribute))
    return session, sections


def _is_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    return _NUMBER.fullmatch(text) is not None


def _mid(section: _Section) -> str:
    mid = section.value("mid")
    if mid is None or not _MID.fullmatch(mid):
        raise SessionDescriptionError(f"every media section needs a MID token, got {mid!r}")
    return mid


def _transport(
    session: _Section, tagged: _Section, live: list[_Section]
) -> tuple[TransportParameters, str]:
    """The bundle's ICE and DTLS parameters: those of its first section,
    falling back to the session level; candidates of every section."""

    def attribute(name: str) -> str:
        value = tagged.value(name) or session.value(name)
        if value is None:
            raise SessionDescriptionError(f"the offer has no a={name}")
        return value

    ufrag, password = attribute("ice-ufrag"), attribute("ice-pwd")
    if not _ICE_UFRAG.fullmatch(ufrag) or not _ICE_PWD.fullmatch(password):
        raise SessionDescriptionError("malformed ICE credentials (RFC 8839 section 5.4)")
    fingerprints = []
    for value in tagged.values("fingerprint") or session.values("fingerprint"):
        algorithm, _, digest = value.partition(" ")
        if algorithm.lower() in _HASHES and _FINGERPRINT.fullmatch(digest.strip()):
            fingerprints.append(
                aiortc.RTCDtlsFingerprint(algorithm=algorithm.lower(), value=digest.strip())
            )
    if not fingerprints:
        raise SessionDescriptionError("the offer has no SHA-256/384/512 DTLS fingerprint")
    setup = attribute("setup")
    if setup not in ("actpass", "active", "passive"):
        raise SessionDescriptionError(f"unknown DTLS setup {setup!r} (RFC 8842)")

    candidates: dict[tuple[str, int], aiortc.RTCIceCandidate] = {}
    for section in live:
        for line in section.values("candidate"):
            candidate = _candidate(line)
            if candidate is not None:
                candidates.setdefault((candidate.ip, candidate.port), candidate)
    if len(candidates) > _MAX_CANDIDATES:
        raise SessionDescriptionError(f"more than {_MAX_CANDIDATES} ICE candidates")
    return (
        TransportParameters(
            ice=aiortc.RTCIceParameters(usernameFragment=ufrag, password=password),
            dtls=aiortc.RTCDtlsParameters(fingerprints=fingerprints),
            candidates=tuple(candidates.values()),
        ),
        setup,
    )


# TODO(#5): no trickle ICE (RFC 8838): the offer must hold every candidate, so the page waits
# for gathering to complete, which adds the browser's gathering time to a join.
# TODO(#5): .local (mDNS) candidates, which a browser without camera or microphone permission
# sends, go to aioice, which resolves them by multicast: untested, a receive-only browser may
# not connect.
def _candidate(line: str) -> aiortc.RTCIceCandidate | None:
    """An RTP-component UDP candidate; None for the others (RTCP, TCP),
    which a bundled, rtcp-muxed UDP transport does not use."""
    try:
        candidate = aiortc.sdp.candidate_from_sdp(line)
    except (AssertionError, ValueError, IndexError):
        raise SessionDescriptionError(f"malformed candidate {line[:80]!r}") from None
    if not 0 < candidate.port < 65536 or not candidate.ip:
        raise SessionDescriptionError(f"unusable candidate {line[:80]!r}")
    if candidate.component != 1 or candidate.protocol.lower() != "udp":
        return None
    return candidate


def _media(section: _Section, *, live: bool) -> MediaSection:
    mid = _mid(section)
    directions = [key for key, _ in section.attributes if key in _DIRECTIONS]
    direction: Direction = directions[0] if directions else "sendrecv"  # type: ignore[assignment]
    if not live or section.kind not in ("audio", "video"):
        return MediaSection(mid=mid, kind=section.kind, direction=direction, payload_type=None)

    # Codecs: a=rtpmap:<pt> <name>/<clock>[/<channels>], fmtp for RED.
    codecs: dict[int, str] = {}
    for value in section.values("rtpmap"):
        pt_text, _, encoding = value.partition(" ")
        if not _is_number(pt_text) or int(pt_text) > 127:
            raise SessionDescriptionError(f"malformed rtpmap {value[:60]!r} [mid:{mid}]")
        if pt_text in section.formats:
            codecs[int(pt_text)] = encoding.strip().lower()
    fmtp: dict[int, str] = {}
    for value in section.values("fmtp"):
        pt_text, _, parameters = value.partition(" ")
        if _is_number(pt_text):
            fmtp[int(pt_text)] = parameters.strip()
    payload_type = red_payload_type = None
    wanted = "opus/48000/2" if section.kind == "audio" else "vp8/90000"
    for pt_text in section.formats:
        pt = int(pt_text) if _is_number(pt_text) else -1
        if codecs.get(pt) == wanted and payload_type is None:
            payload_type = pt
    if section.kind == "audio" and payload_type is not None:
        for pt, encoding in codecs.items():
            inner = fmtp.get(pt, str(payload_type)).split("/")
            if encoding == "red/48000/2" and all(p == str(payload_type) for p in inner):
                red_payload_type = pt
                break

    # Sources: a=ssrc:<id> <attribute>; FID (RTX) and FEC-FR groups name
    # the media SSRC first, the repair SSRC after.
    # TODO(#5): no simulcast (a=rid, a=simulcast, ssrc-group SIM): a simulcasting browser's
    # layers all land in ssrcs, and nothing tells the SFU which is which.
    ssrcs: dict[int, str | None] = {}
    for value in section.values("ssrc"):
        id_text, _, attribute = value.partition(" ")
        if not _is_number(id_text) or int(id_text) >= 1 << 32:
            raise SessionDescriptionError(f"malformed ssrc {value[:60]!r} [mid:{mid}]")
        name, _, cname = attribute.partition(":")
        ssrc = int(id_text)
        if name == "cname" or ssrc not in ssrcs:
            ssrcs[ssrc] = cname if name == "cname" else ssrcs.get(ssrc)
    repair: set[int] = set()
    for value in section.values("ssrc-group"):
        if not value.split():
            raise SessionDescriptionError(f"empty ssrc-group [mid:{mid}]")
        semantics, *members = value.split()
        if semantics in ("FID", "FEC-FR"):
            repair.update(int(m) for m in members[1:] if _is_number(m))
    media = [ssrc for ssrc in ssrcs if ssrc not in repair]
    return MediaSection(
        mid=mid,
        kind=section.kind,
        direction=direction,
        payload_type=payload_type,
        red_payload_type=red_payload_type,
        ssrcs=tuple(media),
        cname=next((ssrcs[s] for s in media if ssrcs[s]), None),
        extensions=_extensions(section, mid),
    )


def _extensions(section: _Section, mid: str) -> dict[str, int]:
    """The one-byte ids the section offers for the URIs we understand."""
    found: dict[str, int] = {}
    for value in section.values("extmap"):
        parts = value.split()
        id_text = parts[0].split("/")[0] if parts else ""
        if len(parts) < 2 or not _is_number(id_text) or not 1 <= int(id_text) <= 255:
            raise SessionDescriptionError(f"malformed extmap {value[:80]!r} [mid:{mid}]")
        uri = parts[1]
        if uri == ext.AUDIO_LEVEL_URI and section.kind != "audio":
            continue
        if uri in _EXTENSIONS and int(id_text) <= _MAX_ONE_BYTE_ID:
            found[uri] = int(id_text)
    return found


def _bundle_extensions(sections: Iterable[MediaSection]) -> ext.HeaderExtensionIds:
    ids: dict[str, int] = {}
    for section in sections:
        for uri, id_ in section.extensions.items():
            if ids.setdefault(uri, id_) != id_:
                raise SessionDescriptionError(f"{uri} has two ids in one bundle")
    if len(set(ids.values())) != len(ids):
        raise SessionDescriptionError(f"one id names two extensions in one bundle: {ids}")
    # An extension the offer leaves out is off (id 0), whatever our defaults.
    fields = dict.fromkeys(_EXTENSIONS.values(), 0)
    fields.update({_EXTENSIONS[uri]: id_ for uri, id_ in ids.items()})
    return ext.HeaderExtensionIds(**fields)


def _check_setup(description: RemoteDescription) -> None:
    # Our DTLS role follows our ICE role; the offer must leave us that one.
    ours = _answer_setup(description)
    if description.setup != "actpass" and description.setup == ours:
        raise SessionDescriptionError(
            f"a=setup:{description.setup} leaves us no DTLS role we can take (RFC 8842)"
        )


def _answer_setup(description: RemoteDescription) -> str:
    # Controlling: DTLS server, which waits (passive); controlled: client.
    return "passive" if description.answerer_controls else "active"


_ANSWER_DIRECTION: Final[dict[tuple[str, bool], Direction]] = {
    ("sendrecv", True): "sendrecv",
    ("sendrecv", False): "recvonly",
    ("sendonly", True): "recvonly",
    ("sendonly", False): "recvonly",
    ("recvonly", True): "sendonly",
    ("recvonly", False): "inactive",
    ("inactive", True): "inactive",
    ("inactive", False): "inactive",
}


# TODO(#5): answers only, no build_offer: a stream the server adds later (a new participant
# for a subscriber) needs the browser to offer again (a recvonly transceiver) to get its section.
def build_answer(
    offer: RemoteDescription,
    *,
    transport: TransportParameters,
    cname: str,
    sending: Mapping[str, int],
    stream_id: str = "cloudlink",
) -> str:
    """The answer (JSEP RFC 8829 section 5.3) to ``offer``: our ICE
    credentials, candidates and fingerprints on the bundle; per accepted
    section Opus (and RED when offered) or VP8 without RTX, the RTCP
    feedback and header extensions we handle, and for each MID in
    ``sending`` our SSRC with ``cname`` and an msid (RFC 8830), by which
    the browser demultiplexes what we send. ``cname`` must match the
    session's (:class:`RtpSession`); sections we do not take get port 0."""
    unknown = set(sending) - {s.mid for s in offer.sections if s.accepted}
    if unknown:
        raise SessionDescriptionError(f"no accepted section for MIDs {sorted(unknown)}")
    for name, token in (("cname", cname), ("stream_id", stream_id)):
        if not _TOKEN.fullmatch(token):
            raise ConfigError(f"{name} must be 1..64 letters, digits or +/=._-, got {token!r}")
    ssrcs = list(sending.values())
    if len(set(ssrcs)) != len(ssrcs) or not all(0 <= ssrc < 1 << 32 for ssrc in ssrcs):
        raise ConfigError(f"sending SSRCs must be distinct 32-bit numbers, got {ssrcs}")
    accepted = [s.mid for s in offer.sections if s.accepted]
    lines = [
        "v=0",
        f"o=- {secrets.randbits(62)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE " + " ".join(accepted),
        f"a=msid-semantic:WMS {stream_id}",
    ]
    first = True
    for section in offer.sections:
        if not section.accepted:
            lines += _rejected(section)
            continue
        lines += _accepted(
            section,
            offer=offer,
            transport=transport if first else None,
            credentials=transport,
            cname=cname,
            ssrc=sending.get(section.mid),
            stream_id=stream_id,
        )
        first = False
    return "\r\n".join(lines) + "\r\n"


def _rejected(section: MediaSection) -> list[str]:
    # RFC 8829 section 5.3.1: a rejected section keeps its place and kind, port 0.
    if section.kind == "application":
        m_line = "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"
    else:
        m_line = f"m={section.kind} 0 UDP/TLS/RTP/SAVPF 0"
    return [m_line, "c=IN IP4 0.0.0.0", f"a=mid:{section.mid}"]


def _accepted(
    section: MediaSection,
    *,
    offer: RemoteDescription,
    transport: TransportParameters | None,
    credentials: TransportParameters,
    cname: str,
    ssrc: int | None,
    stream_id: str,
) -> list[str]:
    assert section.payload_type is not None
    pt = section.payload_type
    formats = [pt] + ([section.red_payload_type] if section.red_payload_type is not None else [])
    lines = [
        f"m={section.kind} 9 UDP/TLS/RTP/SAVPF " + " ".join(str(f) for f in formats),
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=ice-ufrag:{credentials.ice.usernameFragment}",
        f"a=ice-pwd:{credentials.ice.password}",
    ]
    lines += [f"a=fingerprint:{f.algorithm} {f.value}" for f in credentials.dtls.fingerprints]
    lines += [f"a=setup:{_answer_setup(offer)}", f"a=mid:{section.mid}"]
    lines += [f"a=extmap:{id_} {uri}" for uri, id_ in section.extensions.items()]
    direction = _ANSWER_DIRECTION[(section.direction, ssrc is not None)]
    lines.append(f"a={direction}")
    track_id = f"{stream_id}-{section.mid}"
    if ssrc is not None:
        lines.append(f"a=msid:{stream_id} {track_id}")
    lines += ["a=rtcp-mux", "a=rtcp-rsize"]
    # Transport-wide feedback needs its sequence numbers (the extension) agreed.
    feedback = set(_VIDEO_FEEDBACK)
    if ext.TRANSPORT_SEQUENCE_URI not in section.extensions:
        feedback.discard("transport-cc")
    if section.kind == "audio":
        lines += [f"a=rtpmap:{pt} opus/48000/2", f"a=fmtp:{pt} {_OPUS_FMTP}"]
        lines += [f"a=rtcp-fb:{pt} {fb}" for fb in _AUDIO_FEEDBACK if fb in feedback]
        if section.red_payload_type is not None:
            red = section.red_payload_type
            lines += [f"a=rtpmap:{red} red/48000/2", f"a=fmtp:{red} {pt}/{pt}"]
    else:
        lines.append(f"a=rtpmap:{pt} VP8/90000")
        lines += [f"a=rtcp-fb:{pt} {fb}" for fb in _VIDEO_FEEDBACK if fb in feedback]
    if ssrc is not None:
        lines += [f"a=ssrc:{ssrc} cname:{cname}", f"a=ssrc:{ssrc} msid:{stream_id} {track_id}"]
    if transport is not None:
        lines += ["a=candidate:" + aiortc.sdp.candidate_to_sdp(c) for c in transport.candidates]
        lines.append("a=end-of-candidates")
    return lines
