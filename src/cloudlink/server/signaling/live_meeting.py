"""A meeting in progress: its participants, waiting room, tracks and SFU room.

The state changes here are synchronous, so one message's effect is whole
before the next runs; what must wait (closing a participant's transport,
the attendance record) is for the caller. Views are the JSON forms of
docs/signaling.md.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from cloudlink.errors import ConflictError, NotFoundError
from cloudlink.server.signaling.connection import Connection
from cloudlink.server.signaling.media_link import MediaLink
from cloudlink.sfu.room import Room
from cloudlink.sfu.subscription import Subscription
from cloudlink.sfu.track import TrackKind

if TYPE_CHECKING:
    from cloudlink.server.signaling.sdp_session import SdpSession

__all__ = ["LiveMeeting", "LiveParticipant", "LiveTrack", "SubscriptionRecord"]

_log = logging.getLogger(__name__)

# The payload types a subscriber receives of each kind (docs/signaling.md:
# Opus 111, RED 63, VP8 96).
_PAYLOAD_TYPES: Final = {TrackKind.AUDIO: [111, 63], TrackKind.CAMERA: [96], TrackKind.SCREEN: [96]}


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass(eq=False, kw_only=True)
class LiveTrack:
    """A published track."""

    track_id: str
    participant_id: str
    kind: TrackKind
    ssrc: int


@dataclass(eq=False, kw_only=True)
class SubscriptionRecord:
    """A subscription: to one track, or to the active speaker's camera."""

    subscription_id: str
    track_id: str | None
    sfu: Subscription

    def view(self) -> dict[str, Any]:
        """The ``subscription`` of the subscribe answer."""
        kind = self.sfu.kind
        view: dict[str, Any] = {
            "subscription_id": self.subscription_id,
            "track_id": self.track_id,
            "ssrc": self.sfu.ssrc,
            "kind": kind.value,
            "payload_types": list(_PAYLOAD_TYPES[kind]),
        }
        if self.track_id is None:
            view["active_speaker"] = True
        return view


@dataclass(eq=False, kw_only=True)
class LiveParticipant:
    """One account's presence in a live meeting, through one socket."""

    participant_id: str
    connection: Connection
    meeting: LiveMeeting
    account_id: int
    display_name: str
    role: str
    state: str
    attendance_id: int
    # The secret ``resume`` needs, given in the join answer only.
    resume_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # ``reconnecting`` while its socket is gone and the hub waits for ``resume``.
    connection_state: str = "connected"
    audio_muted: bool = True
    video_muted: bool = True
    hand_raised: bool = False
    tracks: dict[TrackKind, LiveTrack] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    link: MediaLink | None = None
    # Set once the participant opens its media path with an SDP offer.
    sdp: SdpSession | None = None

    @property
    def privileged(self) -> bool:
        """Host or co-host."""
        return self.role in ("host", "cohost")

    @property
    def admitted(self) -> bool:
        """Out of the waiting room."""
        return self.state == "admitted"

    def muted(self, kind: TrackKind) -> bool:
        """Whether the SFU holds back this participant's track of ``kind``."""
        if kind is TrackKind.AUDIO:
            return self.audio_muted
        return kind is TrackKind.CAMERA and self.video_muted

    def view(self) -> dict[str, Any]:
        """The ``participant`` of the join answer and the events."""
        return {
            "participant_id": self.participant_id,
            "account_id": self.account_id,
            "display_name": self.display_name,
            "role": self.role,
            "state": self.state,
            "audio_muted": self.audio_muted,
            "video_muted": self.video_muted,
            "hand_raised": self.hand_raised,
            "connection": self.connection_state,
        }


class LiveMeeting:
    """The participants of one meeting and the SFU room between them."""

    def __init__(self, *, organisation_id: int, code: str, topic: str, locked: bool) -> None:
        self.organisation_id = organisation_id
        self.code = code
        self.topic = topic
        self.locked = locked
        self.participants: dict[str, LiveParticipant] = {}
        self.tracks: dict[str, LiveTrack] = {}
        self.room = Room(room_id=code, on_active_speaker=self._active_speaker)

    # --- views and events ---

    def view(self) -> dict[str, Any]:
        """The ``meeting`` of the join answer and ``meeting-updated``."""
        return {"meeting_code": self.code, "topic": self.topic, "locked": self.locked}

    def track_view(self, track: LiveTrack) -> dict[str, Any]:
        """The ``track`` of the publish answer and ``track-published``."""
        owner = self.participants.get(track.participant_id)
        return {
            "track_id": track.track_id,
            "participant_id": track.participant_id,
            "kind": track.kind.value,
            "muted": owner.muted(track.kind) if owner is not None else False,
        }

    def admitted(self) -> list[LiveParticipant]:
        """The participants in the meeting proper, in joining order."""
        return [p for p in self.participants.values() if p.admitted]

    def waiting(self) -> list[LiveParticipant]:
        """The participants in the waiting room, in joining order."""
        return [p for p in self.participants.values() if not p.admitted]

    def welcome(self, participant: LiveParticipant) -> dict[str, Any]:
        """The join answer (and the ``admitted`` event): the meeting, the
        participant, and the admitted others with their tracks."""
        others = (
            [p for p in self.admitted() if p is not participant] if participant.admitted else []
        )
        return {
            "meeting": self.view(),
            "participant": participant.view(),
            "participants": [p.view() for p in others],
            "tracks": [self.track_view(t) for p in others for t in p.tracks.values()],
        }

    def resumed_view(self, participant: LiveParticipant) -> dict[str, Any]:
        """The ``resume`` answer: the join answer's fields, and the
        participant's own tracks and subscriptions as they stand."""
        return {
            **self.welcome(participant),
            "published": [self.track_view(t) for t in participant.tracks.values()],
            "subscriptions": [r.view() for r in participant.subscriptions.values()],
        }

    def broadcast(self, event: dict[str, Any], *, skip: LiveParticipant | None = None) -> None:
        """Sends ``event`` to every admitted participant but ``skip``."""
        for participant in self.admitted():
            if participant is not skip:
                participant.connection.send(event)

    def updated(self, participant: LiveParticipant) -> None:
        """Tells everyone a participant's state changed."""
        self.broadcast({"type": "participant-updated", "participant": participant.view()})

    def waiting_room_changed(self) -> None:
        """Tells the hosts who is waiting."""
        event = {"type": "waiting-room", "waiting": [p.view() for p in self.waiting()]}
        for participant in self.admitted():
            if participant.privileged:
                participant.connection.send(event)

    def _active_speaker(self, _room_id: str, speaker: str | None, _previous: str | None) -> None:
        self.broadcast({"type": "active-speaker", "participant_id": speaker})

    # --- membership ---

    def add(
        self,
        connection: Connection,
        *,
        account_id: int,
        display_name: str,
        role: str,
        state: str,
        attendance_id: int,
    ) -> LiveParticipant:
        """A new participant, admitted or waiting as ``state`` says."""
        participant = LiveParticipant(
            participant_id=_new_id("p"),
            connection=connection,
            meeting=self,
            account_id=account_id,
            display_name=display_name,
            role=role,
            state="waiting",
            attendance_id=attendance_id,
        )
        self.participants[participant.participant_id] = participant
        connection.participant = participant
        if state == "admitted":
            self.admit(participant)
        else:
            self.waiting_room_changed()
        return participant

    def admit(self, participant: LiveParticipant) -> None:
        """Lets a waiting participant in: the room gets it, everyone hears of it."""
        participant.state = "admitted"
        pid = participant.participant_id
        participant.link = MediaLink(
            on_rtp=lambda data: self._receive_rtp(participant, data),
            on_rtcp=lambda data: self.room.receive_rtcp(pid, data),
        )
        self.room.add_participant(pid, participant.link)
        self.broadcast(
            {"type": "participant-joined", "participant": participant.view()}, skip=participant
        )

    def remove(self, participant: LiveParticipant, *, reason: str) -> MediaLink | None:
        """Takes a participant out (its tracks unpublished, its subscriptions
        ended); returns its link for the caller to close."""
        if self.participants.pop(participant.participant_id, None) is None:
            return None
        if participant.connection.participant is participant:
            participant.connection.participant = None
        if not participant.admitted:
            self.waiting_room_changed()
            return None
        for track in list(participant.tracks.values()):
            self.unpublish(participant, track)
        self.room.remove_participant(participant.participant_id)
        participant.subscriptions.clear()
        self.broadcast(
            {
                "type": "participant-left",
                "participant_id": participant.participant_id,
                "reason": reason,
            }
        )
        return participant.link

    def detach(self, participant: LiveParticipant) -> None:
        """The participant's socket is gone: it stays, tracks and
        subscriptions too, and everyone sees it ``reconnecting``."""
        # TODO(#5): events sent meanwhile are lost, not replayed on resume
        participant.connection_state = "reconnecting"
        self.updated(participant)

    def reattach(self, participant: LiveParticipant, connection: Connection) -> None:
        """A detached participant is back on ``connection`` (the caller
        tells everyone, after its answer)."""
        old = participant.connection
        if old.participant is participant:
            old.participant = None
        participant.connection = connection
        connection.participant = participant
        participant.connection_state = "connected"

    def find(self, participant_id: str, *, admitted: bool = True) -> LiveParticipant:
        """An admitted (or, with ``admitted=False``, waiting) participant, else NotFoundError."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.admitted != admitted:
            raise NotFoundError("no such participant", code="not_found")
        return participant

    # --- tracks ---

    def publish(self, participant: LiveParticipant, kind: TrackKind, ssrc: int) -> LiveTrack:
        """A new track of ``participant``; its kind's muted state turns off."""
        if kind in participant.tracks:
            raise ConflictError(
                f"a {kind.value} track is already published", code="already_published"
            )
        if any(t.ssrc == ssrc for t in participant.tracks.values()):
            raise ConflictError(f"ssrc {ssrc} is already published", code="invalid_message")
        if kind is TrackKind.SCREEN and any(
            t.kind is TrackKind.SCREEN for t in self.tracks.values()
        ):
            raise ConflictError("someone is already sharing a screen", code="screen_share_busy")
        track = LiveTrack(
            track_id=_new_id("t"), participant_id=participant.participant_id, kind=kind, ssrc=ssrc
        )
        self.room.publish(participant.participant_id, track_id=track.track_id, kind=kind, ssrc=ssrc)
        participant.tracks[kind] = track
        self.tracks[track.track_id] = track
        if kind is TrackKind.AUDIO and participant.audio_muted:
            participant.audio_muted = False
            self.updated(participant)
        elif kind is TrackKind.CAMERA and participant.video_muted:
            participant.video_muted = False
            self.updated(participant)
        self.broadcast(
            {"type": "track-published", "track": self.track_view(track)}, skip=participant
        )
        return track

    def unpublish(self, participant: LiveParticipant, track: LiveTrack) -> None:
        """Ends a track and every subscription to it."""
        participant.tracks.pop(track.kind, None)
        self.tracks.pop(track.track_id, None)
        self.room.unpublish(track.track_id)
        for other in self.participants.values():
            ended = [s for s, r in other.subscriptions.items() if r.track_id == track.track_id]
            for subscription_id in ended:
                del other.subscriptions[subscription_id]
        self.broadcast({"type": "track-unpublished", "track_id": track.track_id}, skip=participant)

    def own_track(self, participant: LiveParticipant, track_id: str) -> LiveTrack:
        """A track ``participant`` publishes; NotFoundError otherwise."""
        track = self.tracks.get(track_id)
        if track is None or track.participant_id != participant.participant_id:
            raise NotFoundError("no such track of yours", code="not_found")
        return track

    def subscribe(
        self, participant: LiveParticipant, *, track_id: str | None
    ) -> SubscriptionRecord:
        """A subscription to a track, or (``track_id`` None) to the active speaker's camera."""
        if track_id is None:
            sfu = self.room.subscribe_active_speaker(participant.participant_id)
        else:
            if track_id not in self.tracks:
                raise NotFoundError("no such track", code="not_found")
            sfu = self.room.subscribe(participant.participant_id, track_id)
        record = SubscriptionRecord(subscription_id=_new_id("s"), track_id=track_id, sfu=sfu)
        participant.subscriptions[record.subscription_id] = record
        return record

    def unsubscribe(self, participant: LiveParticipant, subscription_id: str) -> None:
        """Ends one of ``participant``'s subscriptions; NotFoundError when unknown."""
        record = participant.subscriptions.pop(subscription_id, None)
        if record is None:
            raise NotFoundError("no such subscription", code="not_found")
        self.room.unsubscribe(record.sfu)

    def set_muted(self, participant: LiveParticipant, kind: str, muted: bool) -> None:
        """``kind`` is ``audio`` or ``video`` (the camera); tells everyone."""
        if kind == "audio":
            participant.audio_muted = muted
            track = participant.tracks.get(TrackKind.AUDIO)
        else:
            participant.video_muted = muted
            track = participant.tracks.get(TrackKind.CAMERA)
        if track is not None:
            # The room stops forwarding it; on unmute subscribers go on from
            # the next packet (a keyframe for video) with no gap to count as loss.
            self.room.set_paused(track.track_id, muted)
        self.updated(participant)

    # --- the data path ---

    def _receive_rtp(self, participant: LiveParticipant, data: bytes) -> None:
        """A publisher's RTP into the room (which holds back muted tracks)."""
        self.room.receive_rtp(participant.participant_id, data)
