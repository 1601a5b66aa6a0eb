"""
Nodes in step: the log follower, the repair of events that never reached the bus,
leadership on PostgreSQL, and idempotency keys raced by two nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from sqlalchemy import URL, create_engine, text

from tests.bus.nats_support import raised
from tests.bus.receiving import take
from tests.cluster.nodes import eventually
from tests.storage.postgres_support import empty_tables, throwaway_schema
from tryvoha.bus.base import Bus
from tryvoha.bus.memory import MemoryBus
from tryvoha.cluster import AdvisoryLock, Leadership, LogFollower, contiguous_runs
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import AlertKey, AlertType
from tryvoha.core.regions import RegionRegistry
from tryvoha.service import AlertService, IdempotencyKey
from tryvoha.storage.base import IdempotencyRecord, Store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.postgres import PostgresStore

pytestmark = pytest.mark.anyio

AIR = AlertType.AIR_RAID


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_contiguous_runs_sort_dedupe_and_cut() -> None:
    batch = [raised(n) for n in (12, 10, 11, 11, 15, 16, 14, 20)]
    runs = contiguous_runs(batch)
    assert [[e.seq for e in run] for run in runs] == [[10, 11, 12], [14, 15, 16], [20]]
    assert contiguous_runs([]) == []


@asynccontextmanager
async def node(
    store: Store, bus: Bus, registry: RegionRegistry, poll_s: float = 0.05
) -> AsyncIterator[tuple[AlertService, LogFollower]]:
    service = AlertService(store, bus, registry)
    await service.start()
    follower = LogFollower(service, poll_s)
    await follower.start()
    try:
        yield service, follower
    finally:
        await follower.stop()
        await service.stop()


async def test_a_node_follows_what_another_commits(registry: RegionRegistry) -> None:
    store, bus = MemoryStore(), MemoryBus()
    async with node(store, bus, registry) as (a, _), node(store, bus, registry) as (b, _):
        await a.execute(Raise(("14",), AIR, "lviv", "lviv"))
        await a.execute(Raise(("31",), AIR, "kyiv", "kyiv"))
        await asyncio.sleep(0.05)
        assert b.last_seq == 2
        assert b.active.get(AlertKey("31", AIR)) is not None
        # B decides on the same state: lifting A's alert is its next event, not a conflict.
        result = await b.execute(Lift(("31",), AIR, "kyiv", "kyiv"))
        assert [e.seq for e in result.events] == [3]
        await asyncio.sleep(0.05)
        assert a.active.get(AlertKey("31", AIR)) is None


async def test_an_event_that_never_reached_the_bus_is_published_from_the_log(
    registry: RegionRegistry,
) -> None:
    """
    A writer killed between its commit and its publish: another node finds the event in
    the log, folds it in and publishes it, so live streams get it too.
    """
    store, bus = MemoryStore(), MemoryBus()
    async with node(store, bus, registry) as (b, follower):
        streams = bus.subscribe()
        store.append([raised(1, "31"), raised(2, "14")])
        got = await take(streams, 2, seconds=5)
        assert [e.seq for e in got] == [1, 2]
        assert b.last_seq == 2
        assert follower.republished == 2
        assert follower.seen == 2


async def test_nothing_is_republished_when_the_bus_works(registry: RegionRegistry) -> None:
    store, bus = MemoryStore(), MemoryBus()
    async with node(store, bus, registry) as (a, follower):
        for region in ("14", "31", "3"):
            await a.execute(Raise((region,), AIR, "duty", "duty"))
        await asyncio.sleep(0.3)
        assert follower.republished == 0
        assert follower.seen == 3


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture(scope="module", name="cluster_db")
def _cluster_db() -> Iterator[URL]:
    with throwaway_schema("tryvoha_cluster") as url:
        store = PostgresStore(url)
        store.migrate()
        store.close()
        yield url


@pytest.fixture(name="postgres")
def _postgres(cluster_db: URL) -> Iterator[Callable[[], PostgresStore]]:
    empty_tables(cluster_db)
    opened: list[PostgresStore] = []

    def open_store() -> PostgresStore:
        opened.append(PostgresStore(cluster_db))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


class Duties:
    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running = True
        self.starts += 1

    async def stop(self) -> None:
        self.running = False


@pytest.mark.postgres
async def test_one_leader_and_a_takeover(cluster_db: URL) -> None:
    duties = [Duties(), Duties(), Duties()]
    async with AsyncExitStack() as stack:
        nodes = []
        for duty in duties:
            leadership = Leadership(AdvisoryLock(cluster_db), check_s=0.1)
            await leadership.assign(duty.start, duty.stop)
            await leadership.start()
            stack.push_async_callback(leadership.stop)
            nodes.append(leadership)
        await eventually(lambda: any(n.is_leader for n in nodes), 10, "a leader")
        await asyncio.sleep(0.5)
        assert sum(n.is_leader for n in nodes) == 1
        assert [d.running for d in duties] == [n.is_leader for n in nodes]

        leader = next(n for n in nodes if n.is_leader)
        await leader.stop()
        assert not any(d.running for d, n in zip(duties, nodes, strict=True) if n is leader)
        await eventually(lambda: sum(n.is_leader for n in nodes) == 1, 10, "a new leader")
        assert sum(d.running for d in duties) == 1


@pytest.mark.postgres
async def test_a_leader_that_loses_the_database_steps_down(cluster_db: URL) -> None:
    first, second = Duties(), Duties()
    one = Leadership(AdvisoryLock(cluster_db), check_s=0.1)
    await one.assign(first.start, first.stop)
    await one.start()
    await eventually(lambda: one.is_leader, 10, "the first leader")
    two = Leadership(AdvisoryLock(cluster_db), check_s=0.1)
    await two.assign(second.start, second.stop)
    await two.start()
    try:
        admin = create_engine(cluster_db)
        with admin.begin() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'tryvoha-leader' AND pid IN"
                    " (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
                )
            )
        admin.dispose()
        await eventually(lambda: two.is_leader, 10, "the takeover")
        await eventually(lambda: not one.is_leader, 10, "the step down")
        assert second.running and not first.running
    finally:
        await two.stop()
        await one.stop()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(Raise(("14",), AIR, "lviv", "lviv"), id="with-events"),
        pytest.param(Lift(("5",), AIR, "lviv", "lviv"), id="without-events"),
    ],
)
async def test_two_nodes_racing_on_one_key_do_it_once(
    postgres: Callable[[], PostgresStore], registry: RegionRegistry, command: Raise | Lift
) -> None:
    """
    Node B looked for the key before A stored its answer: its append loses, and B replays
    A's answer instead of carrying out the command a second time.
    """

    class LookedTooEarly(PostgresStore):
        looked = False

        def find_idempotency(self, actor: str, key: str) -> IdempotencyRecord | None:
            if not self.looked:
                self.looked = True
                return None
            return super().find_idempotency(actor, key)

    key = IdempotencyKey("retry-7", "sha-of-request")
    late = LookedTooEarly(postgres().url)
    try:
        async with (
            node(postgres(), MemoryBus(), registry) as (a, _),
            node(late, MemoryBus(), registry, poll_s=60) as (b, _),
        ):
            first = await a.execute(command, key)
            second = await b.execute(command, key)
        assert (second.status_code, second.body) == (first.status_code, first.body)
        assert second.replayed and not first.replayed
        assert late.last_seq() == len(first.events)
    finally:
        late.close()
