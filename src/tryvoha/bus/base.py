"""
The `Bus` protocol: committed events, published once, consumed by every fan-out.

Publishing happens only after the store has made the events durable. A bus may deliver
late, twice or (for a broker outage) not at all: consumers keep the last seq they applied,
skip what they have, and fill gaps from the store's log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from tryvoha.core.model import Event


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> None:
        """Hand committed events to every subscriber, in order."""

    def subscribe(self) -> Subscription:
        """Batches of events published from now on; registered before it returns."""


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[Sequence[Event]]: ...

    async def __anext__(self) -> Sequence[Event]: ...

    def close(self) -> None: ...
