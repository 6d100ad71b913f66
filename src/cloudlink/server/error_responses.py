"""Every error as a JSON body with a stable code: ``{"error": {"code", "message"}}``.

The middleware maps our service errors to statuses, gives aiohttp's own
HTTP errors (unknown route, wrong method, body too large) the same shape, and
turns anything unexpected into a 500 whose body says nothing of the cause.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from cloudlink.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceError,
    StoreError,
)

__all__ = ["error_middleware", "error_response"]

_log = logging.getLogger(__name__)

_STATUS_BY_ERROR: Final[tuple[tuple[type[ServiceError], int], ...]] = (
    (InvalidRequestError, 400),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (RateLimitedError, 429),
)
# Codes whose status differs from their class's.
_STATUS_BY_CODE: Final = {"account_locked": 423, "meeting_locked": 423, "log_too_large": 413}
_HTTP_CODES: Final = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON error response."""
    body = json.dumps({"error": {"code": code, "message": message}})
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def _service_error_response(error: ServiceError) -> web.Response:
    status = _STATUS_BY_CODE.get(error.code)
    if status is None:
        status = next((s for cls, s in _STATUS_BY_ERROR if isinstance(error, cls)), 400)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status, error.code, str(error), headers=headers)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Catches every error of a handler and answers with a JSON error body."""
    try:
        return await handler(request)
    except asyncio.CancelledError:
        raise
    except ServiceError as error:
        return _service_error_response(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _HTTP_CODES.get(error.status, "http_error")
        headers: dict[str, Any] = {}
        if "Allow" in error.headers:
            headers["Allow"] = error.headers["Allow"]
        return error_response(error.status, code, error.reason, headers=headers)
    except StoreError:
        return error_response(503, "store_unavailable", "the database cannot serve the request")
    except Exception:
        _log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal server error")
