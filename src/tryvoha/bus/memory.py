"""
`MemoryBus`: the in-process bus of a single node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tryvoha.core.model import Event


class MemorySubscription:
    """
    Registered on creation, so nothing published after `subscribe()` returns is missed.
    """

    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Sequence[Event] | None] = asyncio.Queue()
        bus._subscriptions.add(self)

    def __aiter__(self) -> MemorySubscription:
        return self

    async def __anext__(self) -> Sequence[Event]:
        batch = await self._queue.get()
        if batch is None:
            self.close()
            raise StopAsyncIteration
        return batch

    def close(self) -> None:
        self._bus._subscriptions.discard(self)

    def _put(self, batch: Sequence[Event] | None) -> None:
        self._queue.put_nowait(batch)


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: set[MemorySubscription] = set()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            subscription._put(None)

    async def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        batch = tuple(events)
        # Internal subscribers are few (fan-out hub, webhooks, MQTT, engine): an unbounded
        # queue each keeps a slow one from holding back the writer.
        for subscription in self._subscriptions:
            subscription._put(batch)

    def subscribe(self) -> MemorySubscription:
        return MemorySubscription(self)
