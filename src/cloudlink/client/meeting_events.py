"""A meeting's events as the application sees them: one
:class:`MeetingEvent` record per happening, handed to the callbacks
registered with :meth:`EventDispatcher.on` and to whoever awaits it with
:meth:`EventDispatcher.wait_for`.

Event types (the signaling events of docs/signaling.md, plus the client's
own ``reconnecting``, ``resumed``, ``reconnected`` and ``left``):

| type | fields set |
|---|---|
| ``participant-joined``, ``participant-updated`` | ``participant`` |
| ``participant-left`` | ``participant_id``, ``reason``, ``participant`` (as last known) |
| ``track-published`` | ``track`` |
| ``track-unpublished`` | ``track`` (as last known), ``participant_id`` |
| ``track-subscribed`` | ``track`` (this client now receives it) |
| ``active-speaker`` | ``participant_id`` (None: nobody) |
| ``chat`` | ``chat`` |
| ``muted-by-host`` | ``kind`` |
| ``meeting-updated`` | ``data`` (the meeting) |
| ``waiting-room`` | ``waiting`` |
| ``admitted`` | |
| ``removed`` | ``reason`` |
| ``meeting-ended`` | |
| ``reconnecting`` | (the signaling socket dropped; a resume is under way) |
| ``resumed`` | (back on a new socket; the meeting's state is the server's now) |
| ``reconnected`` | (an ICE restart completed) |
| ``left`` | ``reason``: ``left``, ``removed_by_host``, ``disconnected``, a resume refusal... |
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from cloudlink.client.meeting_records import ChatMessage, Participant, Track

__all__ = ["ANY_EVENT", "EventCallback", "EventDispatcher", "MeetingEvent"]

logger = logging.getLogger(__name__)

# Register for this to hear every event.
ANY_EVENT: Final = "*"
# Events kept for wait_for to find after the fact.
_HISTORY: Final = 1000


@dataclass(frozen=True)
class MeetingEvent:
    """One thing that happened in the meeting (see the module's table)."""

    type: str
    participant: Participant | None = None
    participant_id: str | None = None
    track: Track | None = None
    chat: ChatMessage | None = None
    reason: str | None = None
    kind: str | None = None
    waiting: tuple[Participant, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[MeetingEvent], None]
EventFilter = Callable[[MeetingEvent], bool]


class EventDispatcher:
    """Callbacks by event type, a history, and awaitable matches."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[EventCallback]] = collections.defaultdict(list)
        self._waiters: list[tuple[str, EventFilter | None, asyncio.Future[MeetingEvent]]] = []
        self.history: collections.deque[MeetingEvent] = collections.deque(maxlen=_HISTORY)

    def on(self, event_type: str, callback: EventCallback) -> None:
        """Calls ``callback(event)`` for each event of ``event_type``
        (``"*"``: all). A callback that raises is logged, never fatal."""
        self._callbacks[event_type].append(callback)

    def off(self, event_type: str, callback: EventCallback) -> None:
        """Undoes :meth:`on`."""
        if callback in self._callbacks.get(event_type, []):
            self._callbacks[event_type].remove(callback)

    async def wait_for(
        self,
        event_type: str,
        predicate: EventFilter | None = None,
        *,
        timeout_s: float | None = 30.0,
        past: bool = True,
    ) -> MeetingEvent:
        """The first event of ``event_type`` that ``predicate`` accepts:
        one already in the history when ``past``, else the next.
        TimeoutError after ``timeout_s``."""
        if past:
            for event in self.history:
                if _matches(event, event_type, predicate):
                    return event
        future: asyncio.Future[MeetingEvent] = asyncio.get_running_loop().create_future()
        entry = (event_type, predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def emit(self, event: MeetingEvent) -> None:
        """Records ``event`` and hands it to its callbacks and waiters."""
        self.history.append(event)
        for callback in [*self._callbacks.get(event.type, []), *self._callbacks.get(ANY_EVENT, [])]:
            try:
                callback(event)
            except Exception:
                logger.exception("an event callback failed [type:%s]", event.type)
        for event_type, predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                if _matches(event, event_type, predicate):
                    future.set_result(event)
            except Exception as error:
                future.set_exception(error)


def _matches(event: MeetingEvent, event_type: str, predicate: EventFilter | None) -> bool:
    if event_type not in (ANY_EVENT, event.type):
        return False
    return predicate is None or predicate(event)
