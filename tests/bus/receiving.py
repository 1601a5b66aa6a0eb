"""
Reading a subscription in tests: the events of its batches, with a deadline.
"""

from __future__ import annotations

import asyncio

from tryvoha.bus.base import Subscription
from tryvoha.core.model import Event


async def take(subscription: Subscription, count: int, seconds: float = 10.0) -> list[Event]:
    """The next *count* events (more if the last batch holds more); fails after *seconds*."""
    events: list[Event] = []

    async def read() -> None:
        while len(events) < count:
            events.extend(await subscription.__anext__())

    try:
        await asyncio.wait_for(read(), seconds)
    except TimeoutError:
        raise AssertionError(f"got {[e.seq for e in events]}, wanted {count} events") from None
    return events


async def nothing_more(subscription: Subscription, seconds: float = 0.5) -> list[Event]:
    """What arrives within *seconds* (an empty list when nothing does)."""
    try:
        return list(await asyncio.wait_for(subscription.__anext__(), seconds))
    except TimeoutError:
        return []
