"""The OpenAPI 3.1 document, built from the endpoint records (served at /api/openapi.json)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from cloudlink import __version__
from cloudlink.server.endpoint import PATH_PARAMETERS, Endpoint
from cloudlink.server.schemas import ERROR

__all__ = ["build_document"]

_STATUS_TEXT: Final = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Bad input",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflicts with the stored state",
    413: "Body too large",
    423: "Locked",
    429: "Too many attempts",
}


def build_document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """The OpenAPI document describing ``endpoints``."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CloudLink organisation server",
            "version": __version__,
            "description": "Accounts, devices, address book, meetings, privacy and telemetry. "
            'Every error body is {"error": {"code", "message"}} with a stable code.',
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    if endpoint.access != "public":
        operation["security"] = [{"bearer": []}]
    else:
        operation["security"] = []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in endpoint.path_names
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": name in endpoint.required_query,
            "schema": schema,
        }
        for name, schema in endpoint.query.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": endpoint.body_required,
            "content": {"application/json": {"schema": endpoint.body}},
        }
    responses: dict[str, Any] = {}
    if endpoint.status == 204:
        responses["204"] = {"description": _STATUS_TEXT[204]}
    else:
        responses[str(endpoint.status)] = {
            "description": _STATUS_TEXT.get(endpoint.status, "OK"),
            "content": {"application/json": {"schema": endpoint.response or {}}},
        }
    error_ref = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    }
    statuses = {400, *endpoint.errors}
    if endpoint.access != "public":
        statuses |= {401}
    if endpoint.access == "admin":
        statuses |= {403}
    if endpoint.path_names:
        statuses |= {404}
    for status in sorted(statuses):
        responses[str(status)] = {"description": _STATUS_TEXT.get(status, "Error"), **error_ref}
    responses["default"] = {"description": "Error", **error_ref}
    operation["responses"] = responses
    return operation
