"""
`EventFeed`: committed events for the deliveries, newest from the bus, older from the log.

The bus wakes whoever waits for new events and fills a window of the most recent events,
so that many webhook subscriptions following the head of the log read it from memory. A
reader that has fallen behind the window (a receiver that was down), or a window with a hole
(a bus that dropped a batch), reads the log instead: the log, not the bus, decides what
exists, so nothing is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from tryvoha.bus.base import Bus, Subscription
from tryvoha.core.model import Event
from tryvoha.tasks import stop_task

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 10_000


class EventSource(Protocol):
    """What the feed needs of `AlertService`."""

    @property
    def bus(self) -> Bus: ...

    @property
    def last_seq(self) -> int: ...

    async def read_events(self, after: int, limit: int) -> list[Event]: ...

    def add_listener(self, listener: Callable[[Sequence[Event]], None]) -> None: ...


class EventFeed:
    def __init__(self, source: EventSource, window: int = DEFAULT_WINDOW) -> None:
        self._source = source
        self._window = max(window, 1)
        self._recent: list[Event] = []
        self._changed = asyncio.Event()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._subscription = self._source.bus.subscribe()
        self._task = asyncio.create_task(self._follow(), name="tryvoha-event-feed")
        # The service also folds in events it did not publish itself (another node's);
        # its listener wakes readers even if the bus is late.
        self._source.add_listener(lambda _events: self._notify())

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        self._notify()

    @property
    def last_seq(self) -> int:
        newest = self._recent[-1].seq if self._recent else 0
        return max(self._source.last_seq, newest)

    async def read_after(self, after: int, limit: int) -> list[Event]:
        """Events with seq > *after*, in order, at most *limit*; from memory when possible."""
        if limit <= 0 or after >= self.last_seq:
            return []
        recent = self._recent
        if recent and recent[0].seq <= after + 1 <= recent[-1].seq:
            start = after + 1 - recent[0].seq
            return recent[start : start + limit]
        return await self._source.read_events(after, limit)

    async def wait_beyond(self, seq: int) -> None:
        """Return once an event after *seq* exists."""
        while self.last_seq <= seq:
            await self._changed.wait()

    def _notify(self) -> None:
        # Waiters hold the old event, which stays set; later waiters get a fresh one.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _follow(self) -> None:
        assert self._subscription is not None
        try:
            async for batch in self._subscription:
                self._remember(batch)
                self._notify()
        except Exception:
            log.exception("the event feed lost its bus subscription; reading the log only")

    def _remember(self, batch: Sequence[Event]) -> None:
        recent = self._recent
        for event in batch:
            if recent and event.seq <= recent[-1].seq:
                continue
            if recent and event.seq != recent[-1].seq + 1:
                # A hole: keep the window contiguous, the log has what is missing.
                recent.clear()
            recent.append(event)
        if len(recent) > 2 * self._window:
            del recent[: len(recent) - self._window]
