"""JSON Schema building blocks shared by the API modules (JSON Schema 2020-12)."""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "DATETIME",
    "EMAIL",
    "ERROR",
    "ID",
    "MOBILE",
    "array",
    "nullable",
    "obj",
    "text",
]

ID: Final[dict[str, Any]] = {"type": "integer", "minimum": 1}
DATETIME: Final[dict[str, Any]] = {"type": "string", "format": "date-time"}
# An E.164-style number: an optional +, then digits, spaces and dashes.
MOBILE: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": "^\\+?[0-9][0-9 -]{2,30}$",
    "maxLength": 32,
}
EMAIL: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": "^[^@\\s]{1,64}@[^@\\s]{1,189}$",
    "maxLength": 254,
}


def text(max_length: int, *, min_length: int = 1, **extra: Any) -> dict[str, Any]:
    """A string of ``min_length`` to ``max_length`` characters."""
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(
    properties: dict[str, dict[str, Any]],
    *,
    required: tuple[str, ...] | None = None,
    closed: bool = True,
    min_properties: int = 0,
) -> dict[str, Any]:
    """An object; all properties required unless ``required`` says otherwise."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }
    if closed:
        schema["additionalProperties"] = False
    if min_properties:
        schema["minProperties"] = min_properties
    return schema


def array(items: dict[str, Any]) -> dict[str, Any]:
    """A list of ``items``."""
    return {"type": "array", "items": items}


ERROR: Final[dict[str, Any]] = obj(
    {
        "error": obj(
            {"code": {"type": "string"}, "message": {"type": "string"}},
            closed=False,
        )
    },
    closed=False,
)
