"""
What only the SQLite store has: pragmas, migrations, threads, other processes, `kill -9`.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.storage.night import Night, minute
from tryvoha.core.lifecycle import ActiveAlerts
from tryvoha.storage.base import HistoryQuery, SequenceConflict, StoreError
from tryvoha.storage.factory import open_store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.migrate import (
    alembic_config,
    current_revision,
    full_metadata,
    head_revision,
    upgrade,
)
from tryvoha.storage.sqlite import SQLiteStore, sqlite_url

OpenSQLite = Callable[[], SQLiteStore]


def test_every_connection_is_durable(open_sqlite: OpenSQLite) -> None:
    store = open_sqlite()
    with store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 5000


def test_migration_creates_the_tables(open_sqlite: OpenSQLite) -> None:
    store = open_sqlite()
    inspector = inspect(store.engine)
    assert set(inspector.get_table_names()) >= {
        "alembic_version",
        "events",
        "alerts",
        "idempotency",
        "tokens",
    }
    assert {i["name"] for i in inspector.get_indexes("alerts")} == {
        "ix_alerts_region_id_type_started_ms",
        "ix_alerts_started_ms",
    }
    assert inspector.get_pk_constraint("idempotency")["constrained_columns"] == ["actor", "key"]
    assert current_revision(store.engine) == head_revision()


def test_migrations_match_schema_module(open_sqlite: OpenSQLite) -> None:
    """
    The table modules and the revisions describe the same database (no forgotten migration).
    """
    store = open_sqlite()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, full_metadata()) == []


def test_log_tables_key_on_the_rowid(open_sqlite: OpenSQLite) -> None:
    """
    `seq` and `id` are INTEGER PRIMARY KEY: no separate index to update on each append.
    """
    store = open_sqlite()
    with store.engine.connect() as connection:
        autoindexes = connection.exec_driver_sql(
            "SELECT tbl_name FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_%'"
        ).scalars()
        assert not {"events", "alerts"} & set(autoindexes)


def test_migrate_is_idempotent_and_makes_the_directory(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/var/deeper/tryvoha.db")
    store.migrate()
    store.migrate()
    assert (tmp_path / "var" / "deeper" / "tryvoha.db").is_file()
    assert current_revision(store.engine) == head_revision()
    store.close()


def test_upgrade_takes_a_plain_engine(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        upgrade(connection)
        assert current_revision(connection) == head_revision()
    engine.dispose()


def test_migrations_render_for_postgresql() -> None:
    """
    The revisions stay portable: Alembic's offline mode writes them as PostgreSQL DDL.
    """
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://tryvoha@127.0.0.1/tryvoha")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    ddl = config.output_buffer.getvalue()
    assert "seq BIGINT NOT NULL" in ddl
    assert "body BYTEA NOT NULL" in ddl
    assert f"UPDATE alembic_version SET version_num='{head_revision()}'" in ddl


@pytest.mark.parametrize(
    ("given", "database"),
    [
        pytest.param("sqlite:///./var/tryvoha.db", "./var/tryvoha.db", id="relative-url"),
        pytest.param("sqlite:////srv/tryvoha.db", "/srv/tryvoha.db", id="absolute-url"),
        pytest.param("sqlite+pysqlite:///x.db", "x.db", id="driver-url"),
        pytest.param("var/tryvoha.db", "var/tryvoha.db", id="path"),
        pytest.param(Path("/srv/t.db"), "/srv/t.db", id="pathlib"),
    ],
)
def test_sqlite_url_forms(given: str | Path, database: str) -> None:
    assert sqlite_url(given).database == database


@pytest.mark.parametrize(
    "given", ["sqlite://", "sqlite:///:memory:", ":memory:", "", "postgresql://h/db"]
)
def test_sqlite_url_refuses_what_is_not_a_file(given: str) -> None:
    with pytest.raises(StoreError):
        sqlite_url(given)


def test_open_store(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    for url in (f"sqlite:///{tmp_path}/a.db", str(tmp_path / "b.db")):
        store = open_store(url)
        assert isinstance(store, SQLiteStore)
        assert current_revision(store.engine) == head_revision()
        store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+asyncpg://h/db", "unsupported driver 'postgresql\\+asyncpg'"),
        ("redis://127.0.0.1", "unknown database URL scheme 'redis'"),
    ],
)
def test_open_store_refuses(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_two_writers_on_one_file(open_sqlite: OpenSQLite) -> None:
    """
    The sequence check reads the file, not a cache: the second writer of seq 1 loses.
    """
    first, second = open_sqlite(), open_sqlite()
    mine, theirs = Night(), Night()
    first.append(mine.raise_("3"))
    with pytest.raises(SequenceConflict):
        second.append(theirs.raise_("4"))
    assert second.read_events() == mine.events


def test_readers_see_commits_while_a_writer_appends(open_sqlite: OpenSQLite) -> None:
    store = open_sqlite()
    night = Night()
    batches = [night.raise_("3", at=minute(n)) or night.lift("3", at=minute(n)) for n in range(150)]
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for batch in batches:
                store.append(batch)
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    def read() -> None:
        seen = 0
        try:
            while not done.is_set():
                last = store.last_seq()
                assert last >= seen
                got = store.read_events(after=0, limit=10_000)
                assert [e.seq for e in got] == list(range(1, len(got) + 1))
                assert len(got) >= last
                store.history(HistoryQuery(region_ids=["3"], limit=5))
                seen = last
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert store.last_seq() == 150


_CHILD = """
import sys
from datetime import UTC, datetime, timedelta

from tryvoha.core.lifecycle import ActiveAlerts, Lift, Raise, decide
from tryvoha.core.model import AlertKey, AlertType
from tryvoha.storage.sqlite import SQLiteStore

store = SQLiteStore(sys.argv[1])
active = ActiveAlerts()
key = AlertKey("3", AlertType.AIR_RAID)
t0 = datetime(2025, 7, 4, tzinfo=UTC)
for n in range(1, 1_000_000):
    if active.get(key) is None:
        command = Raise(("3",), AlertType.AIR_RAID, "op", "op")
    else:
        command = Lift(("3",), AlertType.AIR_RAID, "op", "op")
    decision = decide(active, command, now=t0 + timedelta(milliseconds=n), known_regions={"3"})
    store.append(decision.events)
    for event in decision.events:
        active.apply(event)
        print(event.seq, flush=True)
"""


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event(open_sqlite: OpenSQLite, tmp_path: Path) -> None:
    """
    A writer killed mid-stream: every seq it printed (after append returned) is in the log.
    """
    open_sqlite().close()  # migrated before the child starts
    stderr = (tmp_path / "child.stderr").open("w+")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "tryvoha.db")],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    watchdog = threading.Timer(60, child.kill)
    watchdog.start()
    assert child.stdout is not None
    acked: list[int] = []
    try:
        while len(acked) < 300:
            line = child.stdout.readline()
            if not line:
                stderr.seek(0)
                pytest.fail(f"the writer stopped after {len(acked)} acks: {stderr.read()}")
            acked.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # What it printed before dying was acknowledged too.
        acked += [int(line) for line in child.stdout.read().split()]
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
        child.stdout.close()
        stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert acked == list(range(1, len(acked) + 1))

    store = open_sqlite()
    events = store.read_events(limit=1_000_000)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) >= acked[-1]
    assert store.last_seq() == len(events)
    # The projection was committed with the events: it is the fold of the log.
    active = ActiveAlerts()
    for item in events:
        active.apply(item)
    newest = {e.alert.id: e.alert for e in events}
    assert store.history(HistoryQuery(limit=len(newest) + 1)) == [
        newest[i] for i in sorted(newest, reverse=True)
    ]
