"""One client's signaling socket: who it is, its outgoing queue and its rate limit.

Everything the server sends a socket (answers and events) goes through one
bounded queue that a writer task drains, so events can be sent from
synchronous code (the SFU's callbacks) and answers keep their order. A
client that stops reading until the queue is full is disconnected (code
1008) rather than letting the server buffer without bound.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from cloudlink.accounts.principal import Principal
from cloudlink.server.signaling.messages import RequestId

if TYPE_CHECKING:
    from cloudlink.server.signaling.live_meeting import LiveParticipant

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SIGNED_OUT",
    "CLOSE_TOO_LARGE",
    "CLOSE_TOO_SLOW",
    "Connection",
]

_log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT: Final = 4001
CLOSE_TOO_LARGE: Final = 1009
CLOSE_TOO_SLOW: Final = 1008
CLOSE_GOING_AWAY: Final = 1001
# Messages waiting for a socket's writer before the client counts as not reading.
_SEND_QUEUE_MESSAGES: Final = 1024
# How long closing waits for the writer to flush what is queued.
_FLUSH_TIMEOUT_S: Final = 5.0


class Connection:
    """One open signaling socket."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        ip_prefix: str | None,
        messages_per_window: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.ip_prefix = ip_prefix
        self.principal: Principal | None = None
        self.token: str | None = None
        self.display_name = ""
        self.participant: LiveParticipant | None = None
        self.closing = False
        # The code the server closed the socket with (None: the client closed it, or it broke).
        self.close_code: int | None = None
        # Set once the socket's handler has cleaned up after it.
        self.finished = asyncio.Event()
        self._messages_per_window = messages_per_window
        self._window_s = window_s
        self._clock = clock
        self._arrivals: collections.deque[float] = collections.deque()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(_SEND_QUEUE_MESSAGES)
        self._writer = asyncio.create_task(self._write())
        self._close_task: asyncio.Task[None] | None = None
        self._writer_stopping = False

    @property
    def account_id(self) -> int | None:
        """The signed-in account, None before ``hello``."""
        return self.principal.account_id if self.principal is not None else None

    def over_rate(self) -> bool:
        """Counts one incoming message; True when it is over the limit
        (at most ``messages_per_window`` in any ``window_s``)."""
        now = self._clock()
        arrivals = self._arrivals
        while arrivals and arrivals[0] <= now - self._window_s:
            arrivals.popleft()
        if len(arrivals) >= self._messages_per_window:
            return True
        arrivals.append(now)
        return False

    def send(self, message: dict[str, Any]) -> None:
        """Queues one message (an event, or an answer built by :meth:`reply`)."""
        if self.closing:
            return
        try:
            self._queue.put_nowait(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
        except asyncio.QueueFull:
            _log.warning("signaling client not reading, disconnected")
            self.start_close(CLOSE_TOO_SLOW)

    def reply(self, request_id: RequestId | None, payload: dict[str, Any]) -> None:
        """The ``ok`` answer to a request."""
        message: dict[str, Any] = {"type": "ok"}
        if request_id is not None:
            message["id"] = request_id
        message.update(payload)
        self.send(message)

    def error(self, request_id: RequestId | None, code: str, message: str) -> None:
        """The ``error`` answer to a request."""
        answer: dict[str, Any] = {"type": "error"}
        if request_id is not None:
            answer["id"] = request_id
        answer["error"] = {"code": code, "message": message}
        self.send(answer)

    def start_close(self, code: int) -> None:
        """Closes the socket in the background after what is queued is sent."""
        if self._close_task is None:
            self.close_code = code
            self._close_task = asyncio.create_task(self.close(code))

    async def close(self, code: int) -> None:
        """Flushes what is queued, then closes the socket with ``code``."""
        self.closing = True
        if self.close_code is None:
            self.close_code = code
        if not self._writer_stopping:
            self._writer_stopping = True
            try:
                self._queue.put_nowait(None)
            except asyncio.QueueFull:
                self._writer.cancel()
        await asyncio.wait([self._writer], timeout=_FLUSH_TIMEOUT_S)
        self._writer.cancel()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code)

    async def finish(self) -> None:
        """Stops the writer (the handler's last step)."""
        self.closing = True
        if self._close_task is not None and self._close_task is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await self._close_task
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                # The peer went away; the handler's read loop ends and cleans up.
                return
