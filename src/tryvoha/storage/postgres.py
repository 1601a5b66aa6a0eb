"""
`PostgresStore`: the store that several nodes share, on PostgreSQL through psycopg 3.

One gap-free order across all writers: `append()` takes a transaction-scoped advisory lock
(`pg_advisory_xact_lock`) before it reads the log's last seq, so appends from every node
run one after the other and the sequence check cannot race. A writer whose first event does
not follow the last one gets `SequenceConflict` and decides again on the newer log (the
service's optimistic loop). The primary key on `seq` is the second line of defence.

Idempotency keys are shared by all nodes: as in every store, a record is inserted, never
replaced, so of two nodes that race on one key the second gets `IdempotencyConflict` and
nothing of its append is written; it then replays the stored answer.

Every connection runs with `synchronous_commit=on`: a commit has reached the server's WAL
on disk before `append()` returns, whatever the server's default is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    create_engine,
    event,
    func,
    make_url,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from tryvoha.core.auth import TokenRecord
from tryvoha.core.codec import alert_from_dict, event_from_dict
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
from tryvoha.storage.sqlite import (
    append_rows,
    history_statement,
    idempotency_from_row,
    to_ms,
    token_from_row,
    token_row,
)

DRIVER = "postgresql+psycopg"
T = TypeVar("T")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for *name*."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LOG_LOCK = advisory_key("tryvoha.events")
"""Held by the transaction that appends to the log, on every node."""
MIGRATION_LOCK = advisory_key("tryvoha.migrate")
"""Held while migrating, so nodes starting together upgrade one after the other."""

_PRIMARY_KEYS = {"pk_events": SequenceConflict, "pk_idempotency": IdempotencyConflict}

_LAST_SEQ = select(func.coalesce(func.max(events.c.seq), 0))
_LOCK_LOG = select(func.pg_advisory_xact_lock(LOG_LOCK))
_INSERT_EVENTS = events.insert()
_INSERT_IDEMPOTENCY = idempotency.insert()

_alert_insert = pg_insert(alerts)
# The row always becomes the alert as the newest event has it, as in `MemoryStore`.
_UPSERT_ALERT = _alert_insert.on_conflict_do_update(
    index_elements=[alerts.c.id],
    set_={c.name: _alert_insert.excluded[c.name] for c in alerts.c if c.name != "id"},
)


def postgres_url(url: str | URL) -> URL:
    """
    The SQLAlchemy URL with the psycopg 3 driver: `postgresql://` and `postgres://` are
    accepted as they are written for libpq.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise StoreError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=DRIVER)
    if parsed.drivername != DRIVER:
        raise StoreError(f"unsupported driver {parsed.drivername!r}: use postgresql://")
    return parsed


def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Committed at once: a SET inside the pool's first transaction would be undone by the
    # rollback that ends it.
    dbapi_connection.execute("SET synchronous_commit TO on")
    dbapi_connection.commit()


def _integrity_error(exc: IntegrityError) -> StoreError:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    kind = _PRIMARY_KEYS.get(constraint or "", StoreError)
    return kind(f"another writer was first ({constraint}): {exc.orig}")


class PostgresStore:
    """
    The `Store` on a PostgreSQL database; safe to share between threads and processes.

    Writes and reads have a pool each. A write checks its connection before use (a node
    survives a database restart or failover without failing a command); a read, which
    is far more frequent and sometimes on the request path, skips that round trip and is
    instead retried once when its connection turns out to be gone.
    """

    def __init__(self, url: str | URL, *, readers: int = 8) -> None:
        self.url = postgres_url(url)
        self._engine = self._make_engine(pool_size=2, max_overflow=6, pool_pre_ping=True)
        self._reads = self._make_engine(pool_size=readers, max_overflow=readers)

    def _make_engine(self, **pool: Any) -> Engine:
        engine = create_engine(
            self.url, connect_args={"application_name": "tryvoha"}, pool_recycle=3600, **pool
        )
        event.listen(engine, "connect", _on_connect)
        return engine

    def __repr__(self) -> str:
        return f"PostgresStore({self.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The engine for writes (others' tables live beside the log)."""
        return self._engine

    def _read(self, run: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            try:
                with self._reads.connect() as connection:
                    return run(connection)
            except DBAPIError as exc:
                # The pool has dropped its stale connections; a second try gets a new one.
                if attempt == 1 and exc.connection_invalidated:
                    continue
                raise StoreError(f"could not read from {self!r}: {exc.orig}") from exc
        raise AssertionError("unreachable")

    def migrate(self) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                migrations.upgrade(connection)
        except DBAPIError as exc:
            raise StoreError(f"could not migrate {self!r}: {exc.orig}") from exc

    def close(self) -> None:
        self._engine.dispose()
        self._reads.dispose()

    def append(
        self, events: Sequence[Event], idempotency: Sequence[IdempotencyRecord] = ()
    ) -> None:
        if not events and not idempotency:
            return
        # Encoded before the lock is taken, to keep the part every node waits for short.
        event_rows, alert_rows, idempotency_rows = append_rows(events, idempotency)
        try:
            with self._engine.begin() as connection:
                if events:
                    connection.execute(_LOCK_LOG)
                    last = connection.execute(_LAST_SEQ).scalar_one()
                    if events[0].seq != last + 1:
                        raise SequenceConflict(f"event {events[0].seq} does not follow {last}")
                    connection.execute(_INSERT_EVENTS, event_rows)
                    connection.execute(_UPSERT_ALERT, alert_rows)
                if idempotency_rows:
                    connection.execute(_INSERT_IDEMPOTENCY, idempotency_rows)
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        except DBAPIError as exc:
            raise StoreError(f"could not append to {self!r}: {exc.orig}") from exc

    def last_seq(self) -> int:
        return int(self._read(lambda c: c.execute(_LAST_SEQ).scalar_one()))

    def read_events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        if limit <= 0:
            return []
        stmt = (
            select(events.c.payload).where(events.c.seq > after).order_by(events.c.seq).limit(limit)
        )
        payloads = self._read(lambda c: c.execute(stmt).scalars().all())
        return [event_from_dict(orjson.loads(p)) for p in payloads]

    def history(self, query: HistoryQuery) -> list[Alert]:
        if query.limit <= 0:
            return []
        stmt = history_statement(query)
        payloads = self._read(lambda c: c.execute(stmt).scalars().all())
        return [alert_from_dict(orjson.loads(p)) for p in payloads]

    def find_idempotency(self, actor: str, key: str) -> IdempotencyRecord | None:
        stmt = select(idempotency).where(idempotency.c.actor == actor, idempotency.c.key == key)
        row = self._read(lambda c: c.execute(stmt).first())
        return None if row is None else idempotency_from_row(row)

    def add_token(self, token: TokenRecord) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(tokens.insert(), token_row(token))
        except IntegrityError as exc:
            with self._engine.connect() as connection:
                named = connection.execute(
                    select(tokens.c.name).where(tokens.c.name == token.name)
                ).first()
            what = f"a token named {token.name!r}" if named else "a token with the same hash"
            raise DuplicateToken(f"{what} exists") from exc

    def find_token(self, token_hash: str) -> TokenRecord | None:
        stmt = select(tokens).where(tokens.c.token_hash == token_hash)
        row = self._read(lambda c: c.execute(stmt).first())
        return None if row is None else token_from_row(row)

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._read(lambda c: c.execute(select(tokens)).all())
        # Sorted here, not by the database's collation, so every store orders alike.
        return sorted((token_from_row(r) for r in rows), key=lambda t: t.name)

    def revoke_token(self, name: str, now: datetime) -> bool:
        stmt = (
            update(tokens)
            .where(tokens.c.name == name, tokens.c.revoked_ms.is_(None))
            .values(revoked_ms=to_ms(now))
        )
        with self._engine.begin() as connection:
            return connection.execute(stmt).rowcount == 1
