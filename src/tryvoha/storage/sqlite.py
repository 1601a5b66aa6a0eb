"""
`SQLiteStore`: the durable store of a single node, one SQLite file in WAL mode.

Every connection runs with `journal_mode=WAL` and `synchronous=FULL`, so a commit has
reached the disk (the WAL is synced) before `append()` returns. Writes take the database's
write lock up front (`BEGIN IMMEDIATE`), so the sequence check and the inserts cannot
interleave with another writer, even in another process. Reads run without an explicit
transaction: each statement sees everything committed before it started.

The SQL is SQLAlchemy Core over the portable tables of `schema.py`; the row conversions
and the history query are module functions so that a PostgreSQL store can share them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Select,
    create_engine,
    event,
    func,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from tryvoha.core.auth import Role, TokenRecord
from tryvoha.core.codec import alert_from_dict, alert_to_dict, event_from_dict, event_to_dict
from tryvoha.core.model import Alert, Event
from tryvoha.storage import migrate as migrations
from tryvoha.storage.base import (
    DuplicateToken,
    HistoryQuery,
    IdempotencyConflict,
    IdempotencyRecord,
    SequenceConflict,
    StoreError,
)
from tryvoha.storage.schema import alerts, events, idempotency, tokens

BUSY_TIMEOUT_MS = 5000
"""How long a writer waits for another process's write lock before failing."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_BEGIN_OPTION = "tryvoha_sqlite_begin"


# -- conversions shared by the SQL stores ------------------------------------------------


def to_ms(value: datetime) -> int:
    """
    Epoch milliseconds, rounded down like `codec.format_time`.
    """
    if value.tzinfo is None:
        raise ValueError(f"naive datetime: {value!r}")
    return (value - _EPOCH) // _MS


def ceil_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime: {value!r}")
    return -((_EPOCH - value) // _MS)


def from_ms(value: int) -> datetime:
    return _EPOCH + value * _MS


def _dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


def event_row(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "kind": event.kind.value,
        "at_ms": to_ms(event.at),
        "actor": event.actor,
        "region_id": event.alert.region_id,
        "type": event.alert.type.value,
        "alert_id": event.alert.id,
        "payload": _dumps(event_to_dict(event)),
    }


def alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "region_id": alert.region_id,
        "type": alert.type.value,
        "level": alert.level.value,
        "source": alert.source,
        "started_ms": to_ms(alert.started_at),
        "updated_ms": to_ms(alert.updated_at),
        "finished_ms": None if alert.finished_at is None else to_ms(alert.finished_at),
        "payload": _dumps(alert_to_dict(alert)),
    }


def idempotency_row(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        "actor": record.actor,
        "key": record.key,
        "request_hash": record.request_hash,
        "status_code": record.status_code,
        "body": record.body,
        "created_ms": to_ms(record.created_at),
    }


Rows = list[dict[str, Any]]


def append_rows(
    events: Sequence[Event], idempotency: Sequence[IdempotencyRecord]
) -> tuple[Rows, Rows, Rows]:
    """
    The rows one append writes: events, the newest state of each alert they touch, and
    idempotency records. Raises `SequenceConflict` when the events are not consecutive.
    """
    for offset, item in enumerate(events[1:], start=1):
        if item.seq != events[0].seq + offset:
            raise SequenceConflict(f"event {item.seq} does not follow {events[0].seq + offset - 1}")
    newest = {e.alert.id: e.alert for e in events}
    return (
        [event_row(e) for e in events],
        [alert_row(a) for a in newest.values()],
        [idempotency_row(r) for r in idempotency],
    )


def token_row(token: TokenRecord) -> dict[str, Any]:
    return {
        "name": token.name,
        "token_hash": token.token_hash,
        "role": token.role.value,
        "regions": _dumps(list(token.regions)),
        "created_ms": to_ms(token.created_at),
        "revoked_ms": None if token.revoked_at is None else to_ms(token.revoked_at),
    }


def token_from_row(row: Any) -> TokenRecord:
    return TokenRecord(
        name=row.name,
        role=Role(row.role),
        token_hash=row.token_hash,
        created_at=from_ms(row.created_ms),
        regions=tuple(str(r) for r in orjson.loads(row.regions)),
        revoked_at=None if row.revoked_ms is None else from_ms(row.revoked_ms),
    )


def idempotency_from_row(row: Any) -> IdempotencyRecord:
    return IdempotencyRecord(
        actor=row.actor,
        key=row.key,
        request_hash=row.request_hash,
        status_code=row.status_code,
        body=bytes(row.body),
        created_at=from_ms(row.created_ms),
    )


def history_statement(query: HistoryQuery) -> Select[str]:
    """
    The alerts of `MemoryStore.history` for *query*: newest first, same overlap rules.
    """
    stmt = select(alerts.c.payload)
    if query.region_ids is not None:
        stmt = stmt.where(alerts.c.region_id.in_(list(query.region_ids)))
    if query.type is not None:
        stmt = stmt.where(alerts.c.type == query.type.value)
    if query.before_id is not None:
        stmt = stmt.where(alerts.c.id < query.before_id)
    # Stored times are whole milliseconds, so rounding the bounds outwards keeps
    # `started < until` and `finished > since` exact for bounds with microseconds.
    if query.until is not None:
        stmt = stmt.where(alerts.c.started_ms < ceil_ms(query.until))
    if query.since is not None:
        stmt = stmt.where(
            or_(alerts.c.finished_ms.is_(None), alerts.c.finished_ms > to_ms(query.since))
        )
    return stmt.order_by(alerts.c.id.desc()).limit(query.limit)


# -- statements built once ---------------------------------------------------------------

_LAST_SEQ = select(func.coalesce(func.max(events.c.seq), 0))
_INSERT_EVENTS = events.insert()

_alert_insert = sqlite_insert(alerts)
# The row always becomes the alert as the newest event has it, as in `MemoryStore`.
_UPSERT_ALERT = _alert_insert.on_conflict_do_update(
    index_elements=[alerts.c.id],
    set_={c.name: _alert_insert.excluded[c.name] for c in alerts.c if c.name != "id"},
)

_INSERT_IDEMPOTENCY = idempotency.insert()


# -- the store ---------------------------------------------------------------------------


def sqlite_url(path_or_url: str | os.PathLike[str]) -> URL:
    """
    The SQLAlchemy URL of a file database: `sqlite:///./var/tryvoha.db` or a plain path.
    """
    if isinstance(path_or_url, os.PathLike) or "://" not in path_or_url:
        url = URL.create("sqlite", database=os.fspath(path_or_url))
    else:
        url = make_url(path_or_url)
        if url.get_backend_name() != "sqlite":
            raise StoreError(f"not a SQLite URL: {url.render_as_string(hide_password=True)}")
    if url.database in (None, "", ":memory:") or url.database.startswith("file::memory:"):
        # Each pooled connection would get its own empty database.
        raise StoreError("SQLiteStore needs a file; use memory:// for a throwaway store")
    return url


def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own BEGIN handling is switched off; `_on_begin` emits ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        (mode,) = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
        if str(mode).lower() != "wal":
            raise StoreError(f"SQLite refused WAL mode (journal_mode={mode})")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION)
    if mode is not None:
        connection.exec_driver_sql(f"BEGIN {mode}")


class SQLiteStore:
    """
    The `Store` on one SQLite file; safe to share between threads.

    Each thread gets its own pooled connection; `append()` is meant for one writer thread,
    and a second writer (thread or process) is serialised by SQLite's write lock.
    """

    def __init__(self, path_or_url: str | os.PathLike[str]) -> None:
        self.url = sqlite_url(path_or_url)
        # Room for a thread pool full of readers next to the writer.
        self._engine: Engine = create_engine(self.url, pool_size=8, max_overflow=56)
        self._local = threading.local()
        self._lookups: list[sqlite3.Connection] = []
        event.listen(self._engine, "connect", _on_connect)
        event.listen(self._engine, "begin", _on_begin)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url.database!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """
        A transaction holding the write lock from its first statement; commits on exit.
        """
        with self._engine.connect() as connection:
            connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def migrate(self) -> None:
        database = self.url.database
        if database is not None and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One write transaction: two processes starting at once migrate one after the other.
        with self._write() as connection:
            migrations.upgrade(connection)

    def close(self) -> None:
        for connection in self._lookups:
            connection.close()
        self._lookups.clear()
        self._engine.dispose()

    def _lookup_connection(self) -> sqlite3.Connection:
        """
        A read-only connection of this thread's own, for the token lookup every request makes.
        """
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            assert self.url.database is not None
            connection = sqlite3.connect(
                self.url.database, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA query_only=1")
            self._local.connection = connection
            self._lookups.append(connection)
        return connection

    def append(
        self, events: Sequence[Event], idempotency: Sequence[IdempotencyRecord] = ()
    ) -> None:
        if not events and not idempotency:
            return
        # Encode before taking the lock, to keep the locked part short.
        event_rows, alert_rows, idempotency_rows = append_rows(events, idempotency)
        try:
            with self._write() as connection:
                if events:
                    last = connection.execute(_LAST_SEQ).scalar_one()
                    if events[0].seq != last + 1:
                        raise SequenceConflict(f"event {events[0].seq} does not follow {last}")
                    connection.execute(_INSERT_EVENTS, event_rows)
                    connection.execute(_UPSERT_ALERT, alert_rows)
                if idempotency_rows:
                    connection.execute(_INSERT_IDEMPOTENCY, idempotency_rows)
        except IntegrityError as exc:
            # Events were checked to follow the log, so only a stored answer can collide.
            if "idempotency" not in str(exc.orig):
                raise StoreError(f"could not append to {self.url.database}: {exc.orig}") from exc
            raise IdempotencyConflict(f"an answer is stored already: {exc.orig}") from exc
        except DBAPIError as exc:
            raise StoreError(f"could not append to {self.url.database}: {exc.orig}") from exc

    def last_seq(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(_LAST_SEQ).scalar_one())

    def read_events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        if limit <= 0:
            return []
        stmt = (
            select(events.c.payload).where(events.c.seq > after).order_by(events.c.seq).limit(limit)
        )
        with self._engine.connect() as connection:
            payloads = connection.execute(stmt).scalars().all()
        return [event_from_dict(orjson.loads(p)) for p in payloads]

    def history(self, query: HistoryQuery) -> list[Alert]:
        if query.limit <= 0:
            return []
        with self._engine.connect() as connection:
            payloads = connection.execute(history_statement(query)).scalars().all()
        return [alert_from_dict(orjson.loads(p)) for p in payloads]

    def find_idempotency(self, actor: str, key: str) -> IdempotencyRecord | None:
        stmt = select(idempotency).where(idempotency.c.actor == actor, idempotency.c.key == key)
        with self._engine.connect() as connection:
            row = connection.execute(stmt).first()
        return None if row is None else idempotency_from_row(row)

    def add_token(self, token: TokenRecord) -> None:
        try:
            with self._write() as connection:
                connection.execute(tokens.insert(), token_row(token))
        except IntegrityError as exc:
            with self._engine.connect() as connection:
                named = connection.execute(
                    select(tokens.c.name).where(tokens.c.name == token.name)
                ).first()
            what = f"a token named {token.name!r}" if named else "a token with the same hash"
            raise DuplicateToken(f"{what} exists") from exc

    def find_token(self, token_hash: str) -> TokenRecord | None:
        # Every authenticated request asks, on the event loop: a raw indexed read costs a few
        # microseconds where a pooled SQLAlchemy connection costs tens.
        row = (
            self._lookup_connection()
            .execute(
                "SELECT name, role, token_hash, regions, created_ms, revoked_ms"
                " FROM tokens WHERE token_hash = ?",
                (token_hash,),
            )
            .fetchone()
        )
        if row is None:
            return None
        names = ("name", "role", "token_hash", "regions", "created_ms", "revoked_ms")
        return token_from_row(SimpleNamespace(**dict(zip(names, row, strict=True))))

    def list_tokens(self) -> list[TokenRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(tokens)).all()
        # Sorted here, not by the database's collation, so every store orders alike.
        return sorted((token_from_row(r) for r in rows), key=lambda t: t.name)

    def revoke_token(self, name: str, now: datetime) -> bool:
        stmt = (
            update(tokens)
            .where(tokens.c.name == name, tokens.c.revoked_ms.is_(None))
            .values(revoked_ms=to_ms(now))
        )
        with self._write() as connection:
            return connection.execute(stmt).rowcount == 1
