"""
`AlertService`: the one place where the pure core meets the store and the bus.

Commands from every node's operators and from the warning engine go through one writer
task per process. It takes whatever commands are waiting (group commit), decides each
against the active alerts, appends all their events in one durable transaction, and only
then answers the callers and publishes the events. A command that fails validation fails
alone; a store failure fails the whole batch and changes nothing.

When another process wrote first (`SequenceConflict`), the writer reads the log's new tail,
folds it in and decides again, so several writers keep one gap-free order.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from tryvoha.bus.base import Bus
from tryvoha.core.codec import alert_to_dict, truncate_to_ms
from tryvoha.core.errors import TryvohaError
from tryvoha.core.lifecycle import ActiveAlerts, Command, Decision, Lift, decide
from tryvoha.core.model import Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.base import HistoryQuery, IdempotencyRecord, SequenceConflict, Store
from tryvoha.tasks import stop_task

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BATCH = 512
MAX_CONFLICT_RETRIES = 50


class ServiceUnavailable(Exception):
    """The store could not make the events durable; nothing was applied."""


class IdempotencyMismatch(TryvohaError):
    pass


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    status_code: int
    body: bytes
    events: tuple[Event, ...] = ()
    replayed: bool = False


@dataclass(slots=True)
class _Job:
    command: Command
    idempotency: IdempotencyKey | None
    future: asyncio.Future[CommandResult] = field(repr=False)


def request_hash(payload: object) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def render_decision(command: Command, decision: Decision) -> tuple[int, bytes]:
    """
    The HTTP answer to a command; stored with its idempotency key and replayed verbatim.
    """
    body = {
        "type": command.type.value,
        "results": [
            {
                "region_id": o.region_id,
                "outcome": o.outcome.value,
                "seq": o.seq,
                "alert": alert_to_dict(o.alert) if o.alert is not None else None,
            }
            for o in decision.outcomes
        ],
        "events": [e.seq for e in decision.events],
    }
    created = not isinstance(command, Lift) and any(
        o.outcome.value == "raised" for o in decision.outcomes
    )
    return (201 if created else 200), orjson.dumps(body)


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlertService:
    def __init__(
        self,
        store: Store,
        bus: Bus,
        registry: RegionRegistry,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.bus = bus
        self.registry = registry
        self._clock = clock
        self.active = ActiveAlerts()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer_task: asyncio.Task[None] | None = None
        # One thread owns the store's writes: SQLite wants a single writer, and the order
        # of appends must be the order of decisions.
        self._write_executor = ThreadPoolExecutor(1, thread_name_prefix="tryvoha-writer")
        self._read_executor = ThreadPoolExecutor(4, thread_name_prefix="tryvoha-reader")
        self._committed_keys: dict[tuple[str, str], IdempotencyRecord] = {}
        self._last_at: datetime | None = None
        self._listeners: list[Callable[[Sequence[Event]], None]] = []
        self.commits = 0

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self._write(self.store.migrate)
        await self._catch_up()
        await self.bus.start()
        self._writer_task = asyncio.create_task(self._writer(), name="tryvoha-writer")

    async def stop(self) -> None:
        if self._writer_task is not None:
            await stop_task(self._writer_task)
            self._writer_task = None
        await self.bus.close()
        self._write_executor.shutdown(wait=True)
        self._read_executor.shutdown(wait=True)

    def add_listener(self, listener: Callable[[Sequence[Event]], None]) -> None:
        """Called synchronously with every batch folded into the active alerts, in order."""
        self._listeners.append(listener)

    @property
    def last_seq(self) -> int:
        return self.active.last_seq

    # -- reads ------------------------------------------------------------------------

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_executor, fn, *args)

    async def read_events(self, after: int, limit: int) -> list[Event]:
        return await self.read(self.store.read_events, after, limit)

    async def history(self, query: HistoryQuery) -> list[Any]:
        return await self.read(self.store.history, query)

    # -- commands ---------------------------------------------------------------------

    async def execute(
        self, command: Command, idempotency: IdempotencyKey | None = None
    ) -> CommandResult:
        """
        Decide, make durable, then answer. Raises `TryvohaError` for a bad command and
        `ServiceUnavailable` when the store failed.
        """
        if idempotency is not None:
            replay = await self._find_replay(command.actor, idempotency)
            if replay is not None:
                return replay
        if self._writer_task is None or self._writer_task.done():
            raise ServiceUnavailable("the service is not running")
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(command, idempotency, future))
        return await future

    async def _find_replay(self, actor: str, key: IdempotencyKey) -> CommandResult | None:
        record = self._committed_keys.get((actor, key.key))
        if record is None:
            record = await self.read(self.store.find_idempotency, actor, key.key)
        if record is None:
            return None
        return self._replay(record, key)

    @staticmethod
    def _replay(record: IdempotencyRecord, key: IdempotencyKey) -> CommandResult:
        if record.request_hash != key.request_hash:
            raise IdempotencyMismatch(
                f"Idempotency-Key {key.key!r} was already used with a different request"
            )
        return CommandResult(record.status_code, record.body, replayed=True)

    # -- the writer -------------------------------------------------------------------

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._write_executor, fn, *args)

    async def _writer(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            except asyncio.CancelledError:
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(ServiceUnavailable("the service stopped"))
                raise
            except Exception as exc:
                log.exception("commit failed; %d commands not applied", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(ServiceUnavailable(f"store failure: {exc}"))

    def _now(self) -> datetime:
        now = truncate_to_ms(self._clock())
        # The log's times never go backwards, even if the wall clock does.
        if self._last_at is not None and now < self._last_at:
            now = self._last_at
        return now

    async def _commit_batch(self, batch: list[_Job]) -> None:
        for _attempt in range(MAX_CONFLICT_RETRIES):
            now = self._now()
            working = self.active.copy()
            events: list[Event] = []
            records: list[IdempotencyRecord] = []
            answers: list[tuple[_Job, CommandResult | BaseException]] = []
            batch_keys: dict[tuple[str, str], IdempotencyRecord] = {}
            for job in batch:
                answers.append(
                    (job, self._decide_job(job, working, now, events, records, batch_keys))
                )
            try:
                await self._write(self.store.append, events, records)
            except SequenceConflict:
                # Another node wrote first; what it wrote may include answers to our keys.
                await self._catch_up()
                await self._load_stored_answers(batch)
                continue
            self.commits += 1
            for record in records:
                self._committed_keys[(record.actor, record.key)] = record
            self._absorb(events)
            for job, answer in answers:
                if job.future.done():
                    continue
                if isinstance(answer, BaseException):
                    job.future.set_exception(answer)
                else:
                    job.future.set_result(answer)
            if events:
                await self.bus.publish(events)
            return
        raise ServiceUnavailable("too many concurrent writers; try again")

    def _decide_job(
        self,
        job: _Job,
        working: ActiveAlerts,
        now: datetime,
        events: list[Event],
        records: list[IdempotencyRecord],
        batch_keys: dict[tuple[str, str], IdempotencyRecord],
    ) -> CommandResult | BaseException:
        actor = job.command.actor
        if job.idempotency is not None:
            ident = (actor, job.idempotency.key)
            earlier = batch_keys.get(ident) or self._committed_keys.get(ident)
            if earlier is not None:
                try:
                    return self._replay(earlier, job.idempotency)
                except TryvohaError as exc:
                    return exc
        try:
            decision = decide(working, job.command, now=now, known_regions=self.registry)
        except TryvohaError as exc:
            return exc
        for event in decision.events:
            working.apply(event)
        events.extend(decision.events)
        status, body = render_decision(job.command, decision)
        if job.idempotency is not None:
            record = IdempotencyRecord(
                actor, job.idempotency.key, job.idempotency.request_hash, status, body, now
            )
            records.append(record)
            batch_keys[(actor, job.idempotency.key)] = record
        return CommandResult(status, body, decision.events)

    async def _load_stored_answers(self, batch: Sequence[_Job]) -> None:
        """
        Remember the answers the store holds for the batch's idempotency keys, so that a
        command another node already carried out is replayed, not done twice.
        """
        for job in batch:
            if job.idempotency is None:
                continue
            ident = (job.command.actor, job.idempotency.key)
            if ident not in self._committed_keys:
                record = await self.read(self.store.find_idempotency, *ident)
                if record is not None:
                    self._committed_keys[ident] = record

    # -- keeping the projection current -------------------------------------------------

    async def _catch_up(self) -> None:
        """Fold in every event of the log after the last one applied."""
        while True:
            events = await self.read(self.store.read_events, self.active.last_seq, 5000)
            if not events:
                return
            self._absorb(events)

    def _absorb(self, events: Sequence[Event]) -> None:
        fresh = [e for e in events if e.seq > self.active.last_seq]
        for event in fresh:
            self.active.apply(event)
        if fresh:
            self._last_at = max(self._last_at or fresh[-1].at, fresh[-1].at)
            for listener in self._listeners:
                listener(fresh)

    async def absorb_published(self, events: Sequence[Event]) -> None:
        """
        Fold in events another node committed; fills a gap from the log first.
        """
        if not events or events[-1].seq <= self.active.last_seq:
            return
        if events[0].seq > self.active.last_seq + 1:
            await self._catch_up()
        self._absorb(events)
