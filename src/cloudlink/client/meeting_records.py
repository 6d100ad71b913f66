"""The meeting's state as signaling describes it (docs/signaling.md):
participants, tracks, subscriptions and chat messages, read from the
server's JSON. A record the server sends malformed raises
:class:`~cloudlink.errors.SignalingError` (code ``invalid_message``) from
its ``from_json``; the meeting logs and drops such a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from cloudlink.errors import SignalingError

__all__ = [
    "TRACK_KINDS",
    "ChatMessage",
    "MeetingDetails",
    "Participant",
    "SubscriptionInfo",
    "Track",
    "TrackKind",
]

TrackKind = Literal["audio", "camera", "screen"]
TRACK_KINDS: Final[tuple[TrackKind, ...]] = ("audio", "camera", "screen")
_ROLES: Final = ("host", "cohost", "attendee")


def _field(body: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(body, dict):
        raise SignalingError(f"expected an object holding {key}", code="invalid_message")
    value = body.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SignalingError(f"field {key} missing or of the wrong type", code="invalid_message")
    return value


def _kind(value: Any) -> TrackKind:
    for kind in TRACK_KINDS:
        if value == kind:
            return kind
    raise SignalingError(f"unknown track kind {value!r}", code="invalid_message")


@dataclass(frozen=True)
class MeetingDetails:
    """The meeting: its nine-digit code, topic and lock."""

    code: str
    topic: str
    locked: bool

    @classmethod
    def from_json(cls, body: Any) -> MeetingDetails:
        return cls(
            code=_field(body, "meeting_code", str),
            topic=str(body.get("topic", "")),
            locked=bool(body.get("locked", False)),
        )


@dataclass(frozen=True)
class Participant:
    """One participant (this client's own included)."""

    participant_id: str
    account_id: int | None
    display_name: str
    role: str
    state: str
    audio_muted: bool
    video_muted: bool
    hand_raised: bool
    # ``reconnecting`` while its signaling socket is gone and the server waits for it.
    connection: str = "connected"

    @property
    def is_host(self) -> bool:
        """Host or co-host: may use the host controls."""
        return self.role in ("host", "cohost")

    @classmethod
    def from_json(cls, body: Any) -> Participant:
        account_id = body.get("account_id") if isinstance(body, dict) else None
        role = _field(body, "role", str)
        if role not in _ROLES:
            raise SignalingError(f"unknown role {role!r}", code="invalid_message")
        return cls(
            participant_id=_field(body, "participant_id", str),
            account_id=account_id if isinstance(account_id, int) else None,
            display_name=str(body.get("display_name") or ""),
            role=role,
            state=str(body.get("state", "admitted")),
            audio_muted=bool(body.get("audio_muted", False)),
            video_muted=bool(body.get("video_muted", False)),
            hand_raised=bool(body.get("hand_raised", False)),
            connection=str(body.get("connection", "connected")),
        )


@dataclass(frozen=True)
class Track:
    """A published track: one participant's audio, camera or screen."""

    track_id: str
    participant_id: str
    kind: TrackKind
    muted: bool

    @classmethod
    def from_json(cls, body: Any) -> Track:
        return cls(
            track_id=_field(body, "track_id", str),
            participant_id=_field(body, "participant_id", str),
            kind=_kind(_field(body, "kind", str)),
            muted=bool(body.get("muted", False)),
        )


@dataclass(frozen=True)
class SubscriptionInfo:
    """What the SFU sends this client for one track: under ``ssrc``, with
    these payload types."""

    subscription_id: str
    track_id: str | None
    ssrc: int
    kind: TrackKind
    payload_types: tuple[int, ...]

    @classmethod
    def from_json(cls, body: Any) -> SubscriptionInfo:
        ssrc = _field(body, "ssrc", int)
        if not 0 < ssrc < 2**32:
            raise SignalingError(f"ssrc {ssrc} out of range", code="invalid_message")
        types = body.get("payload_types", [])
        if not isinstance(types, list) or not all(
            isinstance(t, int) and 0 <= t < 128 for t in types
        ):
            raise SignalingError("payload_types must be a list of 0..127", code="invalid_message")
        track_id = body.get("track_id")
        return cls(
            subscription_id=_field(body, "subscription_id", str),
            track_id=track_id if isinstance(track_id, str) else None,
            ssrc=ssrc,
            kind=_kind(_field(body, "kind", str)),
            payload_types=tuple(types),
        )


@dataclass(frozen=True)
class ChatMessage:
    """A chat message: ``to`` is None for everyone, a participant id otherwise."""

    sender_id: str
    text: str
    to: str | None
    sent_at: datetime | None

    @classmethod
    def from_json(cls, body: Any) -> ChatMessage:
        to = body.get("to") if isinstance(body, dict) else None
        sent_at = body.get("sent_at") if isinstance(body, dict) else None
        try:
            when = datetime.fromisoformat(sent_at) if isinstance(sent_at, str) else None
        except ValueError:
            when = None
        sender = _field(body, "from", (str, dict))
        if isinstance(sender, dict):
            sender = _field(sender, "participant_id", str)
        return cls(
            sender_id=sender,
            text=_field(body, "text", str),
            to=to if isinstance(to, str) else None,
            sent_at=when,
        )
