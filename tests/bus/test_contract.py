"""
The `Bus` contract, run against every bus (the `bus` fixture): memory and NATS.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.bus.nats_support import raised
from tests.bus.receiving import nothing_more, take
from tryvoha.bus.base import Bus

pytestmark = pytest.mark.anyio


async def test_batches_arrive_in_order(bus: Bus) -> None:
    subscription = bus.subscribe()
    await bus.publish([raised(1), raised(2)])
    await bus.publish([raised(3)])
    await bus.publish([raised(n) for n in range(4, 40)])
    got = await take(subscription, 39)
    assert [e.seq for e in got] == list(range(1, 40))
    assert got[0] == raised(1)
    assert await nothing_more(subscription) == []


async def test_every_subscriber_gets_everything(bus: Bus) -> None:
    subscriptions = [bus.subscribe() for _ in range(3)]
    await bus.publish([raised(1), raised(2), raised(3)])
    for subscription in subscriptions:
        assert [e.seq for e in await take(subscription, 3)] == [1, 2, 3]


async def test_a_late_subscriber_gets_what_follows(bus: Bus) -> None:
    early = bus.subscribe()
    await bus.publish([raised(1)])
    await take(early, 1)
    late = bus.subscribe()
    await bus.publish([raised(2)])
    assert [e.seq for e in await take(late, 1)] == [2]
    assert [e.seq for e in await take(early, 1)] == [2]


async def test_publishing_nothing_delivers_nothing(bus: Bus) -> None:
    subscription = bus.subscribe()
    await bus.publish([])
    assert await nothing_more(subscription, 0.2) == []


async def test_a_closed_subscription_is_left_out(bus: Bus) -> None:
    kept, closed = bus.subscribe(), bus.subscribe()
    closed.close()
    await bus.publish([raised(1)])
    assert [e.seq for e in await take(kept, 1)] == [1]


async def test_closing_the_bus_ends_iteration(bus: Bus) -> None:
    subscription = bus.subscribe()

    async def drain() -> int:
        return sum([len(batch) async for batch in subscription])

    reader = asyncio.create_task(drain())
    await bus.publish([raised(1), raised(2)])
    await asyncio.sleep(0.1)
    await bus.close()
    assert await asyncio.wait_for(reader, 5) == 2
