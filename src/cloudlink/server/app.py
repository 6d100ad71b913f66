"""The aiohttp application: the REST API under /api and its OpenAPI document.

``create_app`` migrates the database (Alembic, on every start), wires the
services into a ServerContext and registers every endpoint of the API
modules, the signaling WebSocket, the admin console and the browser join
page; a background task enforces the retention periods.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Final

from aiohttp import web

from cloudlink.accounts.passwords import PasswordPolicy, Passwords
from cloudlink.accounts.rate_limiter import RateLimiter
from cloudlink.accounts.sessions import Authenticator, LoginPolicy
from cloudlink.server.console_routes import add_console_routes
from cloudlink.server.context import CONTEXT, ServerContext, ServerSettings
from cloudlink.server.endpoint import Endpoint, json_body_limit_bytes, make_handler
from cloudlink.server.error_responses import error_middleware
from cloudlink.server.join_routes import add_join_routes
from cloudlink.server.openapi import build_document
from cloudlink.server.signaling import add_signaling
from cloudlink.store.database import Database

__all__ = ["API_MODULES", "all_endpoints", "create_app"]

_log = logging.getLogger(__name__)

# Modules under cloudlink.server that each define ENDPOINTS.
API_MODULES: Final = (
    "api_accounts",
    "api_dashboard",
    "api_directory",
    "api_meetings",
    "api_privacy",
    "api_telemetry",
)


def all_endpoints() -> list[Endpoint]:
    """Every endpoint of the API, in document order."""
    endpoints: list[Endpoint] = []
    for name in API_MODULES:
        module = importlib.import_module(f"cloudlink.server.{name}")
        endpoints.extend(module.ENDPOINTS)
    return endpoints


def create_app(
    db: Database,
    *,
    settings: ServerSettings | None = None,
    password_policy: PasswordPolicy | None = None,
    login_policy: LoginPolicy | None = None,
    migrate: bool = True,
) -> web.Application:
    """The server application over ``db``."""
    settings = settings or ServerSettings()
    if migrate:
        db.migrate()
    passwords = Passwords(password_policy)
    context = ServerContext(
        db=db,
        passwords=passwords,
        authenticator=Authenticator(db, passwords, policy=login_policy),
        meeting_password_limiter=RateLimiter(
            max_attempts=settings.meeting_password_attempts,
            window_s=settings.meeting_password_window_s,
        ),
        settings=settings,
    )
    app = web.Application(
        middlewares=[error_middleware], client_max_size=json_body_limit_bytes(context)
    )
    app[CONTEXT] = context
    endpoints = all_endpoints()
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, make_handler(endpoint))
    document = build_document(endpoints)

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/health", health)
    add_console_routes(app)
    add_join_routes(app)
    add_signaling(app)
    if settings.purge_interval_s > 0:
        app.cleanup_ctx.append(_purge_task(context))

    async def close_passwords(_app: web.Application) -> None:
        passwords.close()

    app.on_cleanup.append(close_passwords)
    return app


def _purge_task(context: ServerContext) -> Any:
    async def run(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_purge_forever(context))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run


async def _purge_forever(context: ServerContext) -> None:
    from cloudlink.privacy.retention import purge_expired

    while True:
        try:
            counts = await context.db.run(lambda s: purge_expired(s))
            if any(counts.values()):
                _log.info("retention purge removed %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("retention purge failed")
        await asyncio.sleep(context.settings.purge_interval_s)
