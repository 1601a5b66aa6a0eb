"""
What only the PostgreSQL store has: several writers on one log, shared idempotency keys,
nodes migrating at once, durable commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, Engine, create_engine, text

from tests.storage.night import T0, Night, minute
from tests.storage.postgres_support import throwaway_schema
from tryvoha.core.model import Alert, AlertLevel, AlertType, Event, EventKind
from tryvoha.storage.base import (
    HistoryQuery,
    IdempotencyConflict,
    IdempotencyRecord,
    SequenceConflict,
    StoreError,
)
from tryvoha.storage.factory import open_store
from tryvoha.storage.migrate import current_revision, full_metadata, head_revision
from tryvoha.storage.postgres import PostgresStore, postgres_url

pytestmark = pytest.mark.postgres

OpenPostgres = Callable[[], PostgresStore]


def raised(seq: int, writer: str) -> Event:
    at = T0 + timedelta(milliseconds=seq)
    alert = Alert(seq, str(seq), AlertType.AIR_RAID, AlertLevel.ALERT, at, at, writer)
    return Event(seq, EventKind.RAISED, at, writer, alert)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        pytest.param("postgresql://u@h/db", "postgresql+psycopg", id="libpq-form"),
        pytest.param("postgres://u@h/db", "postgresql+psycopg", id="short-scheme"),
        pytest.param("postgresql+psycopg://u@h/db", "postgresql+psycopg", id="explicit"),
    ],
)
def test_url_forms(given: str, driver: str) -> None:
    assert postgres_url(given).drivername == driver


@pytest.mark.parametrize("given", ["postgresql+psycopg2://u@h/db", "sqlite:///x.db"])
def test_url_refusals(given: str) -> None:
    with pytest.raises(StoreError):
        postgres_url(given)


def test_open_store_migrates(postgres_url: URL, open_postgres: OpenPostgres) -> None:
    store = open_store(postgres_url.render_as_string(hide_password=False))
    try:
        assert isinstance(store, PostgresStore)
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_migrations_match_schema_module(open_postgres: OpenPostgres) -> None:
    """
    The revisions build on PostgreSQL exactly the tables the schema modules describe.
    """
    store = open_postgres()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, full_metadata()) == []


def test_commits_are_synchronous(open_postgres: OpenPostgres) -> None:
    store = open_postgres()
    with store.engine.connect() as connection:
        assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_nodes_migrating_at_once() -> None:
    """
    Several nodes starting together on an empty database: all of them come up, at head.
    """
    with throwaway_schema("tryvoha_migrate") as url:
        stores = [PostgresStore(url) for _ in range(4)]
        failures: list[BaseException] = []

        def migrate(store: PostgresStore) -> None:
            try:
                store.migrate()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        try:
            assert not failures, failures
            assert {current_revision(s.engine) for s in stores} == {head_revision()}
        finally:
            for store in stores:
                store.close()


def test_second_writer_of_a_seq_loses(open_postgres: OpenPostgres) -> None:
    first, second = open_postgres(), open_postgres()
    first.append([raised(1, "node-a")])
    with pytest.raises(SequenceConflict):
        second.append([raised(1, "node-b")])
    assert [e.actor for e in second.read_events()] == ["node-a"]


def test_concurrent_writers_keep_one_gap_free_order(open_postgres: OpenPostgres) -> None:
    """
    Six writers, each with its own pool, append as fast as they can and retry on a
    conflict as the service does: the log is 1..n, every event exactly once.
    """
    writers, per_writer = 6, 40
    stores = [open_postgres() for _ in range(writers)]
    written: dict[str, list[int]] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(name: str, store: PostgresStore) -> None:
        mine: list[int] = []
        try:
            start.wait()
            while len(mine) < per_writer:
                seq = store.last_seq() + 1
                try:
                    store.append([raised(seq, name), raised(seq + 1, name)])
                except SequenceConflict:
                    continue
                mine += [seq, seq + 1]
        except BaseException as exc:
            failures.append(exc)
        written[name] = mine

    threads = [threading.Thread(target=write, args=(f"node-{n}", s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    log = stores[0].read_events(limit=10_000)
    assert [e.seq for e in log] == list(range(1, writers * per_writer + 1))
    by_seq = {e.seq: e.actor for e in log}
    for name, seqs in written.items():
        assert all(by_seq[s] == name for s in seqs)
    assert sorted(s for seqs in written.values() for s in seqs) == list(by_seq)


def test_an_idempotency_key_is_won_once(open_postgres: OpenPostgres) -> None:
    """
    Two nodes answer the same keyed request: the second append fails whole, with
    `IdempotencyConflict`, and the first answer stays.
    """
    node_a, node_b = open_postgres(), open_postgres()
    first = IdempotencyRecord("kyiv-duty", "req-7", "sha", 201, b'{"events":[1]}', minute(0))
    node_a.append([raised(1, "node-a")], [first])

    late = IdempotencyRecord("kyiv-duty", "req-7", "sha", 201, b'{"events":[2]}', minute(1))
    with pytest.raises(IdempotencyConflict):
        node_b.append([raised(2, "node-b")], [late])
    with pytest.raises(IdempotencyConflict):
        node_b.append([], [late])

    assert node_b.find_idempotency("kyiv-duty", "req-7") == first
    assert node_b.last_seq() == 1
    assert [a.id for a in node_b.history(HistoryQuery())] == [1]


def test_an_idempotency_conflict_is_a_sequence_conflict() -> None:
    """The service's retry after a lost race covers both."""
    assert issubclass(IdempotencyConflict, SequenceConflict)


def test_history_and_events_agree_with_memory(open_postgres: OpenPostgres) -> None:
    store = open_postgres()
    night = Night()
    for n in range(12):
        region = ("3", "4", "31")[n % 3]
        store.append(night.raise_(region, at=minute(n)) or night.lift(region, at=minute(n)))
    assert store.read_events() == night.events
    alerts = {e.alert.id: e.alert for e in night.events}
    assert store.history(HistoryQuery(limit=100)) == [alerts[i] for i in sorted(alerts)[::-1]]


def test_a_stopped_server_is_a_store_error() -> None:
    """A database that cannot be reached fails as `StoreError`, naming the store."""
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(StoreError, match="could not migrate"):
            store.migrate()
    finally:
        store.close()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: URL, pid: int) -> None:
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_lost_connections_are_replaced(open_postgres: OpenPostgres, postgres_url: URL) -> None:
    """
    Pooled connections the server dropped (a restart, a failover) are replaced without
    failing a write or a read.
    """
    store = open_postgres()
    store.append([raised(1, "node-a")])
    assert store.last_seq() == 1
    writer, reader = backend_pid(store.engine), backend_pid(store._reads)
    terminate(postgres_url, writer)
    terminate(postgres_url, reader)

    store.append([raised(2, "node-a")])
    assert store.last_seq() == 2
    assert [e.seq for e in store.read_events()] == [1, 2]
    assert backend_pid(store.engine) != writer
    assert backend_pid(store._reads) != reader
