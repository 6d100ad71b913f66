"""The messages a client may send on the signaling socket and their validation.

Each request type has a JSON Schema (2020-12) of its fields; no field not
named is accepted (docs/signaling.md). Reading a frame goes in the order the
error codes are chosen: JSON object, envelope (``type``, ``id``), known
type, then the fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft202012Validator

from cloudlink.errors import InvalidRequestError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "REQUEST_TYPES",
    "Request",
    "RequestId",
    "check_fields",
    "read_envelope",
]

# The largest text frame read (docs/signaling.md: "over 65536 bytes").
MAX_MESSAGE_BYTES: Final = 64 * 1024
_MAX_ID_CHARS: Final = 64
_MAX_SSRC: Final = 2**32 - 1
_MAX_ACCOUNT_ID: Final = 2**31 - 1
_MAX_CHAT_CHARS: Final = 4000
# An SDP offer fits a message with room for the envelope and `receive`;
# MIDs are tokens of a one-byte header extension element (RFC 8285).
_MAX_SDP_CHARS: Final = 60_000
_MAX_MID_CHARS: Final = 16
_MAX_SECTIONS: Final = 16

RequestId = int | str


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


_ID: Final = _text(64)
_BOOL: Final = {"type": "boolean"}
_PARAMETERS: Final = {"type": "object"}


def _fields(properties: dict[str, Any], *required: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"type": "string"}, "id": {}, **properties},
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


# The fields of each request type (docs/signaling.md).
_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "hello": _fields({"token": _text(512), "device_id": _text(128)}, "token", "device_id"),
    "ping": _fields({}),
    "join": _fields({"meeting": _text(2000), "password": _text(64)}, "meeting"),
    "resume": _fields(
        {"participant_id": _ID, "resume_token": _text(128)}, "participant_id", "resume_token"
    ),
    "leave": _fields({}),
    "transport": _fields({"parameters": _PARAMETERS}, "parameters"),
    "restart-ice": _fields({"parameters": _PARAMETERS}, "parameters"),
    "publish": _fields(
        {
            "kind": {"enum": ["audio", "camera", "screen"]},
            "ssrc": {"type": "integer", "minimum": 1, "maximum": _MAX_SSRC},
        },
        "kind",
        "ssrc",
    ),
    "offer": _fields(
        {
            "sdp": _text(_MAX_SDP_CHARS),
            "receive": {
                "type": "object",
                "propertyNames": {"minLength": 1, "maxLength": _MAX_MID_CHARS},
                "additionalProperties": _ID,
                "maxProperties": _MAX_SECTIONS,
            },
        },
        "sdp",
    ),
    "unpublish": _fields({"track_id": _ID}, "track_id"),
    "subscribe": _fields(
        {"track_id": _ID, "active_speaker": {"const": True}},
        oneOf=[{"required": ["track_id"]}, {"required": ["active_speaker"]}],
    ),
    "unsubscribe": _fields({"subscription_id": _ID}, "subscription_id"),
    "mute": _fields({"kind": {"enum": ["audio", "video"]}, "muted": _BOOL}, "kind", "muted"),
    "raise-hand": _fields({"raised": _BOOL}, "raised"),
    "chat": _fields({"text": _text(_MAX_CHAT_CHARS), "to": _ID}, "text"),
    "mute-all": _fields({}),
    "mute-participant": _fields({"participant_id": _ID}, "participant_id"),
    "remove": _fields({"participant_id": _ID}, "participant_id"),
    "lock": _fields({"locked": _BOOL}, "locked"),
    "admit": _fields({"participant_id": _ID}, "participant_id"),
    "call": _fields(
        {"account_id": {"type": "integer", "minimum": 1, "maximum": _MAX_ACCOUNT_ID}},
        "account_id",
    ),
    "call-accept": _fields({"call_id": _ID}, "call_id"),
    "call-decline": _fields({"call_id": _ID}, "call_id"),
    "call-cancel": _fields({"call_id": _ID}, "call_id"),
}
_VALIDATORS: Final = {name: Draft202012Validator(schema) for name, schema in _SCHEMAS.items()}

REQUEST_TYPES: Final = frozenset(_SCHEMAS)


@dataclass(frozen=True, kw_only=True)
class Request:
    """One message of a client: its type, its id (if any) and its fields."""

    type: str
    id: RequestId | None
    fields: dict[str, Any]


def read_envelope(text: str) -> Request:
    """The frame as a request whose ``type`` and ``id`` are well formed
    (fields unchecked); InvalidRequestError (``invalid_json``,
    ``invalid_message``) otherwise."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InvalidRequestError(f"not JSON: {error}", code="invalid_json") from None
    if not isinstance(value, dict):
        raise InvalidRequestError("a message is a JSON object", code="invalid_json")
    request_id = value.get("id")
    if request_id is not None and not _valid_id(request_id):
        raise InvalidRequestError(
            f"id must be an integer or a string of at most {_MAX_ID_CHARS} characters",
            code="invalid_message",
        )
    kind = value.get("type")
    if not isinstance(kind, str):
        raise InvalidRequestError("type must be a string", code="invalid_message")
    return Request(type=kind, id=request_id, fields=value)


def check_fields(request: Request) -> None:
    """Raises InvalidRequestError (``unknown_type``, ``invalid_message``)
    unless ``request`` is a known type with valid fields."""
    validator = _VALIDATORS.get(request.type)
    if validator is None:
        raise InvalidRequestError(
            f"unknown message type {request.type[:64]!r}", code="unknown_type"
        )
    error = next(iter(validator.iter_errors(request.fields)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or request.type
        raise InvalidRequestError(f"{where}: {error.message[:200]}", code="invalid_message")


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**53) <= value <= 2**53
    return isinstance(value, str) and len(value) <= _MAX_ID_CHARS
