"""Declaring an API endpoint once: route, validation and OpenAPI from one record.

An ``Endpoint`` names its method, path, JSON schemas (body, query, path
parameters, response) and who may call it. ``EndpointRunner`` turns it into
an aiohttp handler that authenticates the caller, validates the input with
JSON Schema 2020-12 (the dialect of OpenAPI 3.1), calls the handler and
serialises its reply. cloudlink.server.openapi builds the document from the
same records, so the document cannot drift from what is enforced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import web
from jsonschema import Draft202012Validator, FormatChecker

from cloudlink.accounts.principal import Principal
from cloudlink.errors import AuthenticationError, InvalidRequestError
from cloudlink.privacy.ip_anonymiser import anonymise_ip
from cloudlink.server.context import CONTEXT, ServerContext

__all__ = ["PATH_PARAMETERS", "Call", "Endpoint", "Reply", "json_body_limit_bytes", "make_handler"]

Access = Literal["public", "member", "admin"]

# Every path parameter the API uses, with its schema.
PATH_PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "account_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "contact_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "participant_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "invitation_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "release_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "feedback_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "device_id": {"type": "string", "minLength": 1, "maxLength": 128},
    "meeting_code": {"type": "string", "pattern": "^[0-9]{9}$"},
}
_PATH_NAME: Final = re.compile(r"{([a-z_]+)}")
_INTEGER: Final = re.compile(r"^-?[0-9]{1,12}$")


@dataclass(frozen=True, kw_only=True)
class Reply:
    """A handler's answer: a JSON-serialisable payload and its status."""

    payload: Any
    status: int = 200


@dataclass(frozen=True, kw_only=True)
class Call:
    """One validated request, as a handler sees it."""

    context: ServerContext
    principal: Principal | None
    body: dict[str, Any]
    query: dict[str, Any]
    path: dict[str, Any]
    ip_prefix: str | None

    @property
    def caller(self) -> Principal:
        """The authenticated principal (the endpoint's access guarantees one)."""
        assert self.principal is not None
        return self.principal


Handler = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One operation of the API."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access = "member"
    body: dict[str, Any] | None = None
    body_required: bool = True
    query: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    response: dict[str, Any] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()

    @property
    def operation_id(self) -> str:
        """A stable operationId: the handler's name."""
        return self.handler.__name__.lstrip("_")

    @property
    def path_names(self) -> list[str]:
        """The path parameters, in order."""
        return _PATH_NAME.findall(self.path)


def json_body_limit_bytes(context: ServerContext) -> int:
    """The largest request body the server reads: a base64 log file and its envelope."""
    return context.settings.max_log_file_bytes * 4 // 3 + 64 * 1024


def make_handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of ``endpoint``."""
    body_validator = (
        Draft202012Validator(endpoint.body, format_checker=FormatChecker())
        if endpoint.body is not None
        else None
    )
    query_validators = {
        name: Draft202012Validator(schema, format_checker=FormatChecker())
        for name, schema in endpoint.query.items()
    }
    path_validators = {
        name: Draft202012Validator(PATH_PARAMETERS[name]) for name in endpoint.path_names
    }

    async def handle(request: web.Request) -> web.Response:
        context = request.app[CONTEXT]
        principal = None
        if endpoint.access != "public":
            principal = await _authenticate(context, request)
            if endpoint.access == "admin":
                principal.require_admin()
        path = {
            name: _coerce(request.match_info[name], PATH_PARAMETERS[name], f"path {name}", v)
            for name, v in path_validators.items()
        }
        query = _read_query(request, endpoint, query_validators)
        body: dict[str, Any] = {}
        if body_validator is not None:
            body = await _read_body(request, body_validator, required=endpoint.body_required)
        call = Call(
            context=context,
            principal=principal,
            body=body,
            query=query,
            path=path,
            # Behind a reverse proxy this is the proxy's address, shared by all clients.
            # TODO(#4): no X-Forwarded-For from trusted proxies; clients share one prefix
            ip_prefix=anonymise_ip(request.remote),
        )
        reply = await endpoint.handler(call)
        if reply.status == 204:
            return web.Response(status=204)
        return web.json_response(reply.payload, status=reply.status, dumps=_dumps)

    handle.__name__ = endpoint.operation_id
    return handle


def _dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def _authenticate(context: ServerContext, request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("a bearer token is required", code="unauthenticated")
    return await context.authenticator.authenticate(token.strip())


def _coerce(raw: str, schema: dict[str, Any], where: str, validator: Draft202012Validator) -> Any:
    value: Any = raw
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.match(raw):
            raise InvalidRequestError(f"{where} must be an integer", code="invalid_parameter")
        value = int(raw)
    elif kind == "boolean":
        if raw not in ("true", "false"):
            raise InvalidRequestError(f"{where} must be true or false", code="invalid_parameter")
        value = raw == "true"
    error = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        raise InvalidRequestError(f"{where}: {error.message}", code="invalid_parameter")
    return value


def _read_query(
    request: web.Request, endpoint: Endpoint, validators: Mapping[str, Draft202012Validator]
) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name, validator in validators.items():
        values = request.query.getall(name, [])
        if not values:
            if name in endpoint.required_query:
                raise InvalidRequestError(f"query {name} is required", code="invalid_parameter")
            continue
        query[name] = _coerce(values[-1], endpoint.query[name], f"query {name}", validator)
    return query


async def _read_body(
    request: web.Request, validator: Draft202012Validator, *, required: bool
) -> dict[str, Any]:
    raw = await request.read()
    if not raw and not required:
        return {}
    if not raw:
        raise InvalidRequestError("a JSON body is required", code="invalid_json")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidRequestError(f"the body is not JSON: {error}", code="invalid_json") from None
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "body"
        raise InvalidRequestError(f"{where}: {first.message}", code="invalid_body")
    if not isinstance(body, dict):
        raise InvalidRequestError("the body must be a JSON object", code="invalid_body")
    return body
