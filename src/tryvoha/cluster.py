"""
Several nodes as one service: each follows the log they all write, one of them delivers.

`LogFollower` keeps a node in step with the others. It folds the events other nodes publish
into the node's active alerts, and it watches the log itself: an event that is in the log but
has not come over the bus within one poll (its writer was killed between commit and publish,
or the broker lost it) is published again from the log, which hands it to this node's
streams and, de-duplicated by its message id, to the stream of every node.

`Leadership` runs the duties that must happen once per cluster (webhook and MQTT delivery)
on one node at a time. On PostgreSQL the leader is whoever holds a session advisory lock on
a connection of its own; the server drops the lock when that connection ends (the node
stopped, was killed, or lost the database), and a standby takes it over within one check.
With any other store there is one node, and it leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlalchemy import URL

from tryvoha.bus.base import Subscription
from tryvoha.core.model import Event
from tryvoha.service import AlertService
from tryvoha.storage.postgres import PostgresStore, advisory_key
from tryvoha.tasks import stop_task, stop_tasks

log = logging.getLogger(__name__)

LEADER_LOCK = advisory_key("tryvoha.leader")
READ_PAGE = 1000

Duty = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    poll_s: float = 1.0
    """How often the log's tail is compared with what the bus brought."""
    leader_check_s: float = 2.0
    """How often a leader checks its lock, and a standby tries to take it."""


def contiguous_runs(batch: Sequence[Event]) -> list[list[Event]]:
    """
    The events of *batch* in seq order, without repeats, cut where a seq is missing.

    Several nodes publish at once, so a batch from the bus can be out of order or have holes.
    """
    runs: list[list[Event]] = []
    for event in sorted({e.seq: e for e in batch}.values(), key=lambda e: e.seq):
        if runs and event.seq == runs[-1][-1].seq + 1:
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


class LogFollower:
    def __init__(
        self,
        service: AlertService,
        poll_s: float = 1.0,
        on_republish: Callable[[int], None] | None = None,
    ) -> None:
        self.service = service
        self.poll_s = poll_s
        self._on_republish = on_republish
        self.seen = 0
        """The newest seq this node has had from the bus (or had when it started)."""
        self.republished = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        subscription = self.service.bus.subscribe()
        self.seen = self.service.last_seq
        self._tasks = [
            asyncio.create_task(self._follow(subscription), name="tryvoha-follow-bus"),
            asyncio.create_task(self._watch_log(), name="tryvoha-watch-log"),
        ]
        # Commits between the service's start and the subscription are in the log only.
        await self.check_log()

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks = []

    async def _follow(self, subscription: Subscription) -> None:
        async for batch in subscription:
            try:
                for run in contiguous_runs(batch):
                    self.seen = max(self.seen, run[-1].seq)
                    await self.service.absorb_published(run)
            except Exception:
                log.exception("cluster: could not fold in events up to %d", self.seen)

    async def _watch_log(self) -> None:
        suspect = 0
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                if suspect > self.seen:
                    await self._republish(self.seen, suspect)
                suspect = await self.check_log()
            except Exception:
                log.exception("cluster: could not check the log")

    async def check_log(self) -> int:
        """
        Fold in what the log has beyond the node's projection; returns the log's last seq
        when the bus has not brought it yet, else 0.
        """
        tail = await self.service.read(self.service.store.last_seq)
        if tail > self.service.last_seq:
            await self._absorb_from_log(self.service.last_seq, tail)
        return tail if tail > self.seen else 0

    async def _absorb_from_log(self, after: int, upto: int) -> None:
        while after < upto:
            events = await self.service.read_events(after, min(READ_PAGE, upto - after))
            if not events:
                return
            await self.service.absorb_published(events)
            after = events[-1].seq

    async def _republish(self, after: int, upto: int) -> None:
        while after < upto:
            events = await self.service.read_events(after, min(READ_PAGE, upto - after))
            if not events:
                return
            log.warning(
                "cluster: events %d..%d are in the log but not on the bus; publishing them",
                events[0].seq,
                events[-1].seq,
            )
            self.republished += len(events)
            if self._on_republish is not None:
                self._on_republish(len(events))
            await self.service.bus.publish(events)
            after = events[-1].seq


# -- leadership -----------------------------------------------------------------------------


class AdvisoryLock:
    """
    A PostgreSQL session advisory lock held on a connection of its own (blocking calls).
    """

    def __init__(self, url: URL, key: int = LEADER_LOCK) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._key = key
        self._connection: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name="tryvoha-leader",
                    connect_timeout=5,
                    # A dead peer is noticed in seconds, so the lock is not held by a ghost.
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=2,
                    keepalives_count=3,
                )
            row = self._connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (self._key,)
            ).fetchone()
            return bool(row and row[0])
        except psycopg.Error as exc:
            log.warning("cluster: cannot try the leader lock: %s", exc)
            self.release()
            return False

    def is_held(self) -> bool:
        """
        A session lock lasts as long as its session: held while the connection answers.
        """
        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")
            return True
        except psycopg.Error as exc:
            log.warning("cluster: lost the leader lock's connection: %s", exc)
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
            self._connection = None


class Leadership:
    """
    Whether this node leads, and the duties it runs while it does.

    Features register a duty with `await assign(start, stop)`: *start* runs when the node becomes
    the leader (at once if it is), *stop* when it stops being one or shuts down.
    """

    def __init__(self, lock: AdvisoryLock | None = None, check_s: float = 2.0) -> None:
        self._lock = lock
        self.check_s = check_s
        self.is_leader = False
        self.terms = 0
        self._duties: list[tuple[Duty, Duty]] = []
        self._task: asyncio.Task[None] | None = None
        self._change = asyncio.Lock()

    async def start(self) -> None:
        if self._lock is None:
            await self._take_office()
            return
        self._task = asyncio.create_task(self._campaign(), name="tryvoha-leadership")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        await self._leave_office()
        if self._lock is not None:
            await asyncio.to_thread(self._lock.release)

    async def assign(self, start: Duty, stop: Duty) -> None:
        async with self._change:
            self._duties.append((start, stop))
            if self.is_leader:
                await self._run_duty(start, "start")

    async def _campaign(self) -> None:
        assert self._lock is not None
        while True:
            if self.is_leader:
                if not await asyncio.to_thread(self._lock.is_held):
                    log.warning("cluster: this node is no longer the leader")
                    await self._leave_office()
            elif await asyncio.to_thread(self._lock.try_acquire):
                log.warning("cluster: this node is now the leader")
                await self._take_office()
            await asyncio.sleep(self.check_s)

    async def _take_office(self) -> None:
        async with self._change:
            if self.is_leader:
                return
            self.is_leader = True
            self.terms += 1
            for start, _stop in self._duties:
                await self._run_duty(start, "start")

    async def _leave_office(self) -> None:
        async with self._change:
            if not self.is_leader:
                return
            self.is_leader = False
            for _start, stop in reversed(self._duties):
                await self._run_duty(stop, "stop")

    @staticmethod
    async def _run_duty(duty: Duty, what: str) -> None:
        try:
            await duty()
        except Exception:
            log.exception("cluster: a leader duty failed to %s", what)


# -- wiring ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Cluster:
    follower: LogFollower
    leadership: Leadership


async def run_while_leading(app: Any, start: Duty, stop: Duty) -> None:
    """
    Run *start* whenever this node leads, *stop* when it no longer does; an app without a
    cluster is a single node, which leads (the caller stops the duty itself then).
    """
    cluster: Cluster | None = getattr(app.state, "cluster", None)
    if cluster is None:
        await start()
    else:
        await cluster.leadership.assign(start, stop)


def leadership_for(service: AlertService, options: ClusterOptions) -> Leadership:
    store = service.store
    if isinstance(store, PostgresStore):
        return Leadership(AdvisoryLock(store.url), options.leader_check_s)
    return Leadership()


def install(app: FastAPI) -> None:
    """
    Follow the shared log and take part in leadership; `app.state.cluster` is a `Cluster`
    for the features that start after this one.
    """
    app.state.cluster_options = ClusterOptions()
    app.state.cluster = None
    registry = app.state.metrics.registry

    def of_cluster(read: Callable[[Cluster], float]) -> Callable[[], float]:
        def value() -> float:
            cluster: Cluster | None = app.state.cluster
            return 0.0 if cluster is None else float(read(cluster))

        return value

    Gauge(
        "tryvoha_cluster_leader",
        "1 while this node runs the once-per-cluster deliveries",
        registry=registry,
    ).set_function(of_cluster(lambda c: c.leadership.is_leader))
    Gauge(
        "tryvoha_cluster_bus_seq",
        "The newest seq this node has had from the bus",
        registry=registry,
    ).set_function(of_cluster(lambda c: c.follower.seen))
    Gauge(
        "tryvoha_bus_connected",
        "1 while the bus reaches its broker (always 1 for the in-process bus)",
        registry=registry,
    ).set_function(of_cluster(lambda c: getattr(c.follower.service.bus, "connected", True)))
    Gauge(
        "tryvoha_bus_unpublished_events",
        "Events committed here that the broker has not acknowledged yet",
        registry=registry,
    ).set_function(of_cluster(lambda c: getattr(c.follower.service.bus, "unpublished", 0)))
    Gauge(
        "tryvoha_bus_publish_failures",
        "Failed attempts to publish to the broker since the node started (each is retried)",
        registry=registry,
    ).set_function(of_cluster(lambda c: getattr(c.follower.service.bus, "publish_failures", 0)))
    republished = Counter(
        "tryvoha_cluster_republished_events",
        "Events found in the log but not on the bus, and published again",
        registry=registry,
    )

    async def start(app: Any) -> None:
        service: AlertService = app.state.service
        options: ClusterOptions = app.state.cluster_options
        follower = LogFollower(service, options.poll_s, republished.inc)
        leadership = leadership_for(service, options)
        await follower.start()
        await leadership.start()
        app.state.cluster = Cluster(follower, leadership)

    async def stop(app: Any) -> None:
        cluster: Cluster | None = app.state.cluster
        app.state.cluster = None
        if cluster is not None:
            await cluster.leadership.stop()
            await cluster.follower.stop()

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
