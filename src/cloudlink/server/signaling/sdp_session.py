"""A participant whose media path is negotiated in SDP (a browser), over
the ``offer`` message of docs/signaling.md.

The offer (JSEP, RFC 8829) carries what ``transport``, ``publish`` and
``subscribe`` carry for a Python participant: its sending sections become
the participant's audio and camera tracks under their SSRCs, and each
receiving section named in ``receive`` a subscription whose SSRC the
answer announces (``a=ssrc``), so the browser routes it to that section.
A later offer on the same transport (renegotiation) changes only what
differs.

The SFU forwards packets as published, so an offer must agree with what
every other participant sends: Opus 111, RED 63, VP8 96, and header
extension ids as Chromium numbers them. The answer takes only the
extensions whose offered id is the one the forwarded packets carry (audio
level 1, abs-send-time 2): the MID would name the publisher's section,
not the subscriber's, and transport-wide sequence numbers pass through
unchanged, so neither is agreed.

    plan = plan_offer(participant, sdp, receive)   # raises, changing nothing
    apply_offer(participant, plan)                  # tracks, subscriptions
    answer_offer(participant, plan)                 # the answer's fields
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import aiortc

from cloudlink.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    SessionDescriptionError,
)
from cloudlink.media.rtp_payload import OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE
from cloudlink.rtc import header_extensions as ext
from cloudlink.rtc.session_description import RemoteDescription, build_answer, parse_offer
from cloudlink.rtc.transport import TransportParameters
from cloudlink.server.signaling.live_meeting import LiveParticipant, LiveTrack, SubscriptionRecord
from cloudlink.sfu.room import DEFAULT_AUDIO_LEVEL_EXTENSION_ID
from cloudlink.sfu.track import TrackKind

__all__ = ["OfferPlan", "SdpSession", "answer_offer", "apply_offer", "plan_offer"]

_log = logging.getLogger(__name__)

# The extensions an answer agrees, at the ids every publisher's packets
# carry (HeaderExtensionIds' defaults, the room's audio-level id).
_FORWARDED_EXTENSIONS: Final = {
    ext.AUDIO_LEVEL_URI: DEFAULT_AUDIO_LEVEL_EXTENSION_ID,
    ext.ABS_SEND_TIME_URI: ext.HeaderExtensionIds().abs_send_time,
}
# The canonical name of every stream the SFU announces in an answer.
# TODO(#5): one msid stream for every forwarded track: browsers cannot lip-sync per participant.
_CNAME: Final = "cloudlink-sfu"
_SENDING: Final = frozenset({"sendrecv", "sendonly"})
_RECEIVING: Final = frozenset({"sendrecv", "recvonly"})


@dataclass(eq=False, kw_only=True)
class SdpSession:
    """What an SDP participant negotiated: the offerer's ICE credentials,
    the SFU's transport parameters, and by MID its tracks and subscriptions."""

    remote_ice: aiortc.RTCIceParameters
    local: TransportParameters
    published: dict[str, LiveTrack] = field(default_factory=dict)
    receiving: dict[str, SubscriptionRecord] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OfferPlan:
    """A checked offer: its description (extensions narrowed to those the
    SFU forwards), the tracks its sections send and the tracks to receive."""

    description: RemoteDescription
    publish: dict[str, tuple[TrackKind, int]]
    receive: dict[str, str]


def plan_offer(participant: LiveParticipant, sdp: str, receive: Mapping[str, str]) -> OfferPlan:
    """Reads and checks an offer of ``participant``; raises
    SessionDescriptionError (``invalid_sdp``), NotFoundError (a track to
    receive that does not exist) or ConflictError, and changes nothing."""
    description = parse_offer(sdp)
    session = participant.sdp
    if session is not None and (
        description.transport.ice.usernameFragment != session.remote_ice.usernameFragment
        or description.transport.ice.password != session.remote_ice.password
    ):
        # TODO(#5): no ICE restart by offer: a browser on a new network must leave and join again.
        raise SessionDescriptionError("new ICE credentials (an ICE restart) are not supported")
    for section in description.sections:
        if not section.accepted:
            continue
        if section.kind == "audio" and (
            section.payload_type != OPUS_PAYLOAD_TYPE
            or section.red_payload_type not in (None, RED_PAYLOAD_TYPE)
        ):
            raise SessionDescriptionError(
                f"the SFU forwards Opus as payload type {OPUS_PAYLOAD_TYPE} and RED as"
                f" {RED_PAYLOAD_TYPE} [mid:{section.mid}]"
            )
        if section.kind == "video" and section.payload_type != VP8_PAYLOAD_TYPE:
            raise SessionDescriptionError(
                f"the SFU forwards VP8 as payload type {VP8_PAYLOAD_TYPE} [mid:{section.mid}]"
            )
    return OfferPlan(
        description=_forwarded_extensions(description),
        publish=_publications(participant, description),
        receive=_receptions(participant, description, receive),
    )


def _forwarded_extensions(description: RemoteDescription) -> RemoteDescription:
    sections = tuple(
        replace(
            section,
            extensions={
                uri: id_
                for uri, id_ in section.extensions.items()
                if _FORWARDED_EXTENSIONS.get(uri) == id_
            },
        )
        for section in description.sections
    )
    return replace(description, sections=sections)


def _publications(
    participant: LiveParticipant, description: RemoteDescription
) -> dict[str, tuple[TrackKind, int]]:
    """The tracks the offer's sending sections make, by MID."""
    publish: dict[str, tuple[TrackKind, int]] = {}
    for section in description.sections:
        if not section.accepted or section.direction not in _SENDING or not section.ssrcs:
            continue
        if len(section.ssrcs) > 1:
            raise SessionDescriptionError(
                f"one SSRC per sending section (no simulcast) [mid:{section.mid}]"
            )
        # TODO(#5): a browser publishes no screen share: a second sending video section is refused.
        # TODO(#5): no REMB to publishers: a browser camera stays near 300 kbit/s.
        kind = TrackKind.AUDIO if section.kind == "audio" else TrackKind.CAMERA
        if any(k is kind for k, _ in publish.values()):
            raise SessionDescriptionError(f"at most one sending {section.kind} section")
        publish[section.mid] = (kind, section.ssrcs[0])
    ssrcs = [ssrc for _, ssrc in publish.values()]
    if len(set(ssrcs)) != len(ssrcs):
        raise SessionDescriptionError(f"sending sections share an SSRC: {ssrcs}")

    # Tracks published with `publish` stay; the offer may not add a second of a kind.
    ours = set() if participant.sdp is None else set(participant.sdp.published.values())
    for track in participant.tracks.values():
        if track in ours:
            continue
        if any(kind is track.kind for kind, _ in publish.values()):
            raise ConflictError(
                f"a {track.kind.value} track is already published", code="already_published"
            )
        if track.ssrc in ssrcs:
            raise SessionDescriptionError(f"ssrc {track.ssrc} is already published")
    return publish


def _receptions(
    participant: LiveParticipant, description: RemoteDescription, receive: Mapping[str, str]
) -> dict[str, str]:
    """``receive`` checked against the offer's sections and the meeting's tracks."""
    meeting = participant.meeting
    if len(set(receive.values())) != len(receive):
        raise InvalidRequestError("receive names a track twice", code="invalid_message")
    for mid, track_id in receive.items():
        section = next((s for s in description.sections if s.mid == mid), None)
        if section is None or not section.accepted or section.direction not in _RECEIVING:
            raise SessionDescriptionError(f"no accepted section that receives [mid:{mid}]")
        track = meeting.tracks.get(track_id)
        if track is None:
            raise NotFoundError(f"no such track [mid:{mid}]", code="not_found")
        if track.participant_id == participant.participant_id:
            raise InvalidRequestError(f"your own track [mid:{mid}]", code="invalid_message")
        wanted = "audio" if track.kind is TrackKind.AUDIO else "video"
        if section.kind != wanted:
            raise SessionDescriptionError(
                f"a {track.kind.value} track needs a {wanted} section [mid:{mid}]"
            )
        if wanted == "audio" and section.red_payload_type is None:
            # TODO(#5): no RED unwrapping: a receiver that offers no RED cannot take audio.
            raise SessionDescriptionError(f"receiving audio needs RED offered [mid:{mid}]")
    return dict(receive)


def apply_offer(participant: LiveParticipant, plan: OfferPlan) -> None:
    """Brings the participant's tracks and subscriptions to what ``plan``
    says, keeping those that did not change (same MID, SSRC, track). A
    track to receive that was unpublished meanwhile is left out."""
    session = participant.sdp
    assert session is not None
    meeting = participant.meeting

    # Step 1: tracks of sections that stopped sending or changed SSRC end;
    # new ones start (publishing unmutes, as `publish` does).
    ended: set[TrackKind] = set()
    for mid, track in list(session.published.items()):
        if (
            plan.publish.get(mid) != (track.kind, track.ssrc)
            or track.track_id not in meeting.tracks
        ):
            del session.published[mid]
            if meeting.tracks.get(track.track_id) is track:
                meeting.unpublish(participant, track)
                ended.add(track.kind)
    for mid, (kind, ssrc) in plan.publish.items():
        if mid not in session.published:
            session.published[mid] = meeting.publish(participant, kind, ssrc)
            ended.discard(kind)
    for kind in ended:
        meeting.set_muted(participant, "audio" if kind is TrackKind.AUDIO else "video", True)

    # Step 2: subscriptions, by MID.
    for mid, record in list(session.receiving.items()):
        alive = record.subscription_id in participant.subscriptions
        if plan.receive.get(mid) != record.track_id or not alive:
            del session.receiving[mid]
            if alive:
                meeting.unsubscribe(participant, record.subscription_id)
    for mid, track_id in plan.receive.items():
        if mid not in session.receiving and track_id in meeting.tracks:
            session.receiving[mid] = meeting.subscribe(participant, track_id=track_id)


def answer_offer(participant: LiveParticipant, plan: OfferPlan) -> dict[str, Any]:
    """The ``offer`` answer: the SDP answer and, by MID, the tracks and
    subscriptions it carries. A receiving section whose subscription has
    ended (its track unpublished) is answered ``inactive``."""
    session = participant.sdp
    assert session is not None
    meeting = participant.meeting
    receiving = {
        mid: record
        for mid, record in session.receiving.items()
        if record.subscription_id in participant.subscriptions and mid in plan.receive
    }
    sdp = build_answer(
        plan.description,
        transport=session.local,
        cname=_CNAME,
        sending={mid: record.sfu.ssrc for mid, record in receiving.items()},
    )
    return {
        "sdp": sdp,
        "tracks": {mid: meeting.track_view(t) for mid, t in session.published.items()},
        "subscriptions": {mid: record.view() for mid, record in receiving.items()},
    }
