"""The client's end of the signaling WebSocket (docs/signaling.md): one
socket to ``/api/signaling``, JSON objects in text frames.

- :meth:`SignalingConnection.request` sends a message with a fresh ``id``
  and awaits the answer with that ``id``: ``ok`` returns its fields, an
  ``error`` raises :class:`~cloudlink.errors.SignalingError` with the
  server's code;
- everything else the server sends is an event, handed in arrival order to
  ``on_event`` (a callback that must not block);
- :meth:`open` authenticates with ``hello`` before returning;
- when the socket closes, requests still waiting fail with code
  ``connection_closed`` and ``on_close`` hears the close code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from cloudlink.errors import ConfigError, ServiceError, SignalingError

__all__ = ["MAX_MESSAGE_BYTES", "SignalingConnection", "signaling_url"]

logger = logging.getLogger(__name__)

# The server's limit on one message (it closes the socket with 1009 beyond).
MAX_MESSAGE_BYTES: Final = 65536
# How long a request waits for its answer before giving up.
_REQUEST_TIMEOUT_S: Final = 15.0
# WebSocket pings that find a dead socket (one that stopped without a
# close, as on a network change): closed when no pong comes in half a period.
_HEARTBEAT_S: Final = 10.0
# WebSocket close code the server uses after `signed-out`.
CLOSE_SIGNED_OUT: Final = 4001

EventHandler = Callable[[dict[str, Any]], None]
CloseHandler = Callable[[int | None], None]


def signaling_url(server_url: str) -> str:
    """``ws(s)://host:port/api/signaling`` for the server at ``server_url``."""
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the server URL must be http(s)://host[:port], got {server_url!r}")
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "/api/signaling", "", ""))


class SignalingConnection:
    """One authenticated signaling socket; made by :meth:`open`."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        socket: aiohttp.ClientWebSocketResponse,
        *,
        owns_http: bool,
        request_timeout_s: float,
    ) -> None:
        self._http = http
        self._socket = socket
        self._owns_http = owns_http
        self._request_timeout_s = request_timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pending_types: dict[int, str] = {}
        self._reader: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self.on_event: EventHandler | None = None
        self.on_close: CloseHandler | None = None
        self.account: dict[str, Any] = {}
        self.close_code: int | None = None
        self.messages_sent = 0
        self.messages_received = 0
        self.messages_malformed = 0

    @classmethod
    async def open(
        cls,
        server_url: str,
        *,
        token: str,
        device_id: str,
        http: aiohttp.ClientSession | None = None,
        on_event: EventHandler | None = None,
        request_timeout_s: float = _REQUEST_TIMEOUT_S,
    ) -> SignalingConnection:
        """Connects to the server's signaling endpoint and says ``hello``
        with the session ``token`` and ``device_id``; SignalingError
        (``invalid_token``, ``device_mismatch``, ...) if refused,
        code ``unreachable`` if the socket cannot be opened."""
        owns_http = http is None
        session = http or aiohttp.ClientSession()
        try:
            socket = await session.ws_connect(
                signaling_url(server_url),
                max_msg_size=MAX_MESSAGE_BYTES,
                heartbeat=_HEARTBEAT_S,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
        except asyncio.CancelledError:
            if owns_http:
                await session.close()
            raise
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            if owns_http:
                await session.close()
            raise SignalingError(
                f"cannot open the signaling socket: {type(error).__name__}", code="unreachable"
            ) from None
        connection = cls(session, socket, owns_http=owns_http, request_timeout_s=request_timeout_s)
        connection.on_event = on_event
        connection._reader = asyncio.get_running_loop().create_task(connection._read())
        try:
            answer = await connection.request("hello", {"token": token, "device_id": device_id})
        except BaseException:
            await connection.close()
            raise
        account = answer.get("account")
        connection.account = account if isinstance(account, dict) else {}
        return connection

    @property
    def closed(self) -> bool:
        """True once the socket is closed, by either side."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Returns when the socket has closed."""
        await self._closed.wait()

    async def request(
        self, message_type: str, fields: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Sends ``{"type": message_type, "id": n, **fields}`` and returns
        the ``ok`` answer's fields; raises SignalingError for an ``error``
        answer, a closed socket (``connection_closed``) or no answer in
        time (``timeout``)."""
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._pending_types[request_id] = message_type
        try:
            await self._send({**(fields or {}), "type": message_type, "id": request_id})
            try:
                return await asyncio.wait_for(future, self._request_timeout_s)
            except asyncio.TimeoutError:
                raise SignalingError(
                    f"no answer to {message_type} in {self._request_timeout_s} s", code="timeout"
                ) from None
        finally:
            self._pending.pop(request_id, None)
            self._pending_types.pop(request_id, None)

    async def notify(self, message_type: str, fields: Mapping[str, Any] | None = None) -> None:
        """Sends a message without an ``id`` (no answer is awaited)."""
        await self._send({**(fields or {}), "type": message_type})

    async def ping(self) -> None:
        """``ping``, answered with ``pong``: proves the path both ways."""
        await self.request("ping")

    async def close(self) -> None:
        """Closes the socket (code 1000) and waits for the reader to end."""
        if not self._socket.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                await self._socket.close()
        if self._reader is not None:
            await self._reader
            self._reader = None
        self._finish(self._socket.close_code)
        if self._owns_http:
            await self._http.close()

    async def _send(self, message: dict[str, Any]) -> None:
        if self.closed or self._socket.closed:
            raise SignalingError("the signaling socket is closed", code="connection_closed")
        text = json.dumps(message, separators=(",", ":"))
        if len(text.encode()) > MAX_MESSAGE_BYTES:
            raise SignalingError(
                f"a {message['type']} message of over {MAX_MESSAGE_BYTES} bytes",
                code="message_too_large",
            )
        try:
            await self._socket.send_str(text)
        except (ConnectionError, aiohttp.ClientError) as error:
            raise SignalingError(
                f"the signaling socket failed: {type(error).__name__}", code="connection_closed"
            ) from None
        self.messages_sent += 1

    async def _read(self) -> None:
        try:
            async for frame in self._socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    self._on_text(frame.data)
                elif frame.type == aiohttp.WSMsgType.ERROR:
                    logger.warning("signaling socket error: %s", type(frame.data).__name__)
                    break
                else:
                    self.messages_malformed += 1
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, OSError, ServiceError) as error:
            logger.warning("signaling socket failed: %s", type(error).__name__)
        finally:
            self._finish(self._socket.close_code)

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.messages_malformed += 1
            logger.warning("signaling: a message that is not a typed JSON object")
            return
        self.messages_received += 1
        request_id = message.get("id")
        if message["type"] == "pong" and request_id is None:
            # A pong that does not repeat the id answers the oldest ping.
            request_id = next((i for i, t in self._pending_types.items() if t == "ping"), None)
        if message["type"] in ("ok", "error", "pong") and request_id is not None:
            future = self._pending.get(request_id) if isinstance(request_id, int) else None
            if future is None or future.done():
                logger.warning("signaling: an answer to no request [id:%s]", request_id)
                return
            if message["type"] == "error":
                future.set_exception(_error(message))
            else:
                future.set_result(message)
            return
        if message["type"] == "error":
            # An error without an id answers a message the server could not read.
            logger.warning("signaling: error without a request: %s", _error(message))
            return
        if self.on_event is not None:
            try:
                self.on_event(message)
            except Exception:
                logger.exception("signaling: the event handler failed [type:%s]", message["type"])

    def _finish(self, close_code: int | None) -> None:
        if self._closed.is_set():
            return
        self.close_code = close_code
        self._closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    SignalingError("the signaling socket closed", code="connection_closed")
                )
        logger.info("signaling closed [code:%s]", close_code)
        if self.on_close is not None:
            try:
                self.on_close(close_code)
            except Exception:
                logger.exception("signaling: the close handler failed")


def _error(message: dict[str, Any]) -> SignalingError:
    error = message.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    text = error.get("message") if isinstance(error, dict) else None
    return SignalingError(
        str(text or "refused"), code=str(code) if isinstance(code, str) and code else None
    )
