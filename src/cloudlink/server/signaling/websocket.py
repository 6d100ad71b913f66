"""``GET /api/signaling``: the WebSocket each client keeps open (docs/signaling.md).

:func:`add_signaling` registers the route and a :class:`SignalingHub` on
the application; the hub starts with the application and, at shutdown,
closes every socket (code 1001), the participants' transports and its tasks.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import WSMsgType, web

from cloudlink.privacy.ip_anonymiser import anonymise_ip
from cloudlink.server.context import CONTEXT
from cloudlink.server.signaling.connection import Connection
from cloudlink.server.signaling.hub import SignalingHub
from cloudlink.server.signaling.messages import MAX_MESSAGE_BYTES
from cloudlink.server.signaling.requests import handle_text

__all__ = ["HUB", "SIGNALING_PATH", "add_signaling"]

_log = logging.getLogger(__name__)

SIGNALING_PATH: Final = "/api/signaling"
HUB = web.AppKey("cloudlink_signaling_hub", SignalingHub)
# Frames up to this size are read and answered ``message_too_large``;
# aiohttp closes the socket (1009) on anything larger without reading it.
_MAX_FRAME_BYTES: Final = 4 * MAX_MESSAGE_BYTES
# WebSocket pings that find a vanished client: aiohttp waits half a period
# for the pong, so a dead socket is closed within 15 s, inside the resume grace.
_HEARTBEAT_S: Final = 10.0


def add_signaling(app: web.Application) -> None:
    """Registers ``GET /api/signaling`` and a hub that starts with ``app``
    and closes at its shutdown (``app[CONTEXT]`` must be set)."""
    app[HUB] = SignalingHub(app[CONTEXT])
    app.router.add_get(SIGNALING_PATH, _signaling)
    app.on_startup.append(_start_hub)
    app.on_shutdown.append(_close_hub)
    app.on_cleanup.append(_close_hub)


async def _start_hub(app: web.Application) -> None:
    app[HUB].start()


async def _close_hub(app: web.Application) -> None:
    await app[HUB].close()


async def _signaling(request: web.Request) -> web.WebSocketResponse:
    hub = request.app[HUB]
    settings = hub.context.settings
    ws = web.WebSocketResponse(max_msg_size=_MAX_FRAME_BYTES, heartbeat=_HEARTBEAT_S)
    await ws.prepare(request)
    connection = Connection(
        ws,
        ip_prefix=anonymise_ip(request.remote),
        messages_per_window=settings.signaling_messages_per_window,
        window_s=settings.signaling_rate_window_s,
    )
    hub.connections.add(connection)
    # TODO(#5): a socket that never sends hello stays open; nothing bounds unauthenticated sockets
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await handle_text(hub, connection, message.data)
            elif message.type is WSMsgType.BINARY:
                connection.error(None, "invalid_json", "messages are JSON in text frames")
            if connection.closing:
                break
    finally:
        await hub.disconnect(connection)
    return ws
