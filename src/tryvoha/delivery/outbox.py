"""
The durable side of webhooks: subscriptions, their cursors and dead letters.

`Outbox` is synchronous like `Store`; the dispatcher and the API call it from threads.
`SQLOutbox` keeps the tables of `delivery/schema.py` in the server's database (SQLite or
PostgreSQL) with SQLAlchemy Core; `MemoryOutbox` is its twin for `memory://` stores.
`save_progress()` writes many subscriptions' states and their dead letters in one
transaction, so a cursor never moves past an event without its dead letter and the
dispatcher commits a burst of acknowledgements at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    make_url,
    select,
    tuple_,
    update,
)
from sqlalchemy.pool import ConnectionPoolEntry

from tryvoha.core.codec import event_from_dict, event_to_dict
from tryvoha.core.model import AlertType
from tryvoha.delivery.model import DeadLetter, DeliveryState, Progress, Webhook
from tryvoha.delivery.schema import webhook_dead_letters, webhooks
from tryvoha.storage.base import Store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import from_ms, sqlite_url, to_ms


class Outbox(Protocol):
    def close(self) -> None: ...

    def create(self, webhook: Webhook) -> None: ...

    def find(self, webhook_id: str) -> Webhook | None:
        """The subscription, or None when there is none or it was deleted."""

    def list_webhooks(self, owner: str | None = None) -> list[Webhook]:
        """Live subscriptions (of *owner*, or everyone's), oldest first."""

    def delete(self, webhook_id: str, now: datetime) -> bool:
        """False when there is no such live subscription."""

    def save_progress(self, progress: Sequence[Progress]) -> None:
        """Store new delivery states and their dead letters, all in one transaction."""

    def dead_letters(self, webhook_id: str, after: int = 0, limit: int = 100) -> list[DeadLetter]:
        """Dead letters with seq > *after*, oldest first; kept after a subscription is deleted."""

    def count_dead_letters(self, webhook_id: str) -> int: ...


# -- rows ------------------------------------------------------------------------------


def _opt_ms(value: datetime | None) -> int | None:
    return None if value is None else to_ms(value)


def _opt_time(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def state_row(state: DeliveryState) -> dict[str, Any]:
    return {
        "cursor": state.cursor,
        "attempts": state.attempts,
        "failures": state.failures,
        "failing_since_ms": _opt_ms(state.failing_since),
        "next_attempt_ms": _opt_ms(state.next_attempt_at),
        "last_error": state.last_error,
        "last_attempt_ms": _opt_ms(state.last_attempt_at),
        "last_success_ms": _opt_ms(state.last_success_at),
    }


def webhook_row(webhook: Webhook) -> dict[str, Any]:
    filters = {"regions": list(webhook.regions), "types": [t.value for t in webhook.types]}
    return {
        "id": webhook.id,
        "owner": webhook.owner,
        "url": webhook.url,
        "secret": webhook.secret,
        "filters": orjson.dumps(filters).decode(),
        "format": webhook.body_format,
        "created_ms": to_ms(webhook.created_at),
        "deleted_ms": _opt_ms(webhook.deleted_at),
        **state_row(webhook.state),
    }


def webhook_from_row(row: Any) -> Webhook:
    filters = orjson.loads(row.filters)
    return Webhook(
        id=row.id,
        owner=row.owner,
        url=row.url,
        secret=row.secret,
        regions=tuple(str(r) for r in filters.get("regions", ())),
        types=tuple(AlertType(t) for t in filters.get("types", ())),
        body_format=row.format,
        created_at=from_ms(row.created_ms),
        deleted_at=_opt_time(row.deleted_ms),
        state=DeliveryState(
            cursor=row.cursor,
            attempts=row.attempts,
            failures=row.failures,
            failing_since=_opt_time(row.failing_since_ms),
            next_attempt_at=_opt_time(row.next_attempt_ms),
            last_error=row.last_error,
            last_attempt_at=_opt_time(row.last_attempt_ms),
            last_success_at=_opt_time(row.last_success_ms),
        ),
    )


def dead_letter_row(letter: DeadLetter) -> dict[str, Any]:
    return {
        "webhook_id": letter.webhook_id,
        "seq": letter.seq,
        "attempts": letter.attempts,
        "error": letter.error,
        "dead_ms": to_ms(letter.dead_at),
        "payload": orjson.dumps(event_to_dict(letter.event)).decode(),
    }


def dead_letter_from_row(row: Any) -> DeadLetter:
    return DeadLetter(
        webhook_id=row.webhook_id,
        seq=row.seq,
        attempts=row.attempts,
        error=row.error,
        dead_at=from_ms(row.dead_ms),
        event=event_from_dict(orjson.loads(row.payload)),
    )


# -- SQL -------------------------------------------------------------------------------

_BEGIN_OPTION = "tryvoha_outbox_begin"
_BUSY_TIMEOUT_MS = 5000

_SAVE_STATE = (
    update(webhooks)
    .where(webhooks.c.id == bindparam("b_id"), webhooks.c.deleted_ms.is_(None))
    .values({name: bindparam(f"b_{name}") for name in state_row(DeliveryState(0))})
)


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # As the store does: the driver's implicit transactions are off and `_on_begin` takes
    # the write lock up front for writes, so two writers queue instead of deadlocking.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_BEGIN_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def outbox_engine(url: str | URL) -> Engine:
    """An engine on the server's database: WAL and full sync for SQLite, psycopg for PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        if parsed.drivername in ("postgres", "postgresql"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=4, max_overflow=4, pool_pre_ping=True)
    if backend != "sqlite":
        raise ValueError(f"webhooks cannot use a {backend!r} database")
    engine = create_engine(parsed, pool_size=4, max_overflow=4)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class SQLOutbox:
    """The `Outbox` in the server's SQL database; the tables come from its migrations."""

    def __init__(self, url: str | URL) -> None:
        self._engine = outbox_engine(url)
        self._sqlite = self._engine.dialect.name == "sqlite"

    def __repr__(self) -> str:
        return f"SQLOutbox({self._engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            if self._sqlite:
                connection.execution_options(**{_BEGIN_OPTION: True})
            with connection.begin():
                yield connection

    def create(self, webhook: Webhook) -> None:
        with self._write() as connection:
            connection.execute(webhooks.insert(), webhook_row(webhook))

    def find(self, webhook_id: str) -> Webhook | None:
        stmt = select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.deleted_ms.is_(None))
        with self._engine.connect() as connection:
            row = connection.execute(stmt).first()
        return None if row is None else webhook_from_row(row)

    def list_webhooks(self, owner: str | None = None) -> list[Webhook]:
        stmt = select(webhooks).where(webhooks.c.deleted_ms.is_(None))
        if owner is not None:
            stmt = stmt.where(webhooks.c.owner == owner)
        stmt = stmt.order_by(webhooks.c.created_ms, webhooks.c.id)
        with self._engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return [webhook_from_row(r) for r in rows]

    def delete(self, webhook_id: str, now: datetime) -> bool:
        stmt = (
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.deleted_ms.is_(None))
            .values(deleted_ms=to_ms(now))
        )
        with self._write() as connection:
            return connection.execute(stmt).rowcount == 1

    def save_progress(self, progress: Sequence[Progress]) -> None:
        if not progress:
            return
        states = [
            {"b_id": p.webhook_id, **{f"b_{k}": v for k, v in state_row(p.state).items()}}
            for p in progress
        ]
        letters = [dead_letter_row(d) for p in progress for d in p.dead_letters]
        with self._write() as connection:
            if letters:
                # Replacing makes a retried save harmless.
                keys = [(row["webhook_id"], row["seq"]) for row in letters]
                connection.execute(
                    delete(webhook_dead_letters).where(
                        tuple_(webhook_dead_letters.c.webhook_id, webhook_dead_letters.c.seq).in_(
                            keys
                        )
                    )
                )
                connection.execute(webhook_dead_letters.insert(), letters)
            connection.execute(_SAVE_STATE, states)

    def dead_letters(self, webhook_id: str, after: int = 0, limit: int = 100) -> list[DeadLetter]:
        if limit <= 0:
            return []
        stmt = (
            select(webhook_dead_letters)
            .where(webhook_dead_letters.c.webhook_id == webhook_id)
            .where(webhook_dead_letters.c.seq > after)
            .order_by(webhook_dead_letters.c.seq)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return [dead_letter_from_row(r) for r in rows]

    def count_dead_letters(self, webhook_id: str) -> int:
        stmt = select(func.count()).where(webhook_dead_letters.c.webhook_id == webhook_id)
        with self._engine.connect() as connection:
            return int(connection.execute(stmt).scalar_one())


# -- memory ----------------------------------------------------------------------------


class MemoryOutbox:
    """The in-memory twin of `SQLOutbox`, for `memory://` stores and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._webhooks: dict[str, Webhook] = {}
        self._dead: dict[str, dict[int, DeadLetter]] = {}

    def close(self) -> None:
        pass

    def create(self, webhook: Webhook) -> None:
        with self._lock:
            if webhook.id in self._webhooks:
                raise ValueError(f"webhook {webhook.id!r} exists")
            self._webhooks[webhook.id] = webhook

    def find(self, webhook_id: str) -> Webhook | None:
        webhook = self._webhooks.get(webhook_id)
        return webhook if webhook is not None and webhook.deleted_at is None else None

    def list_webhooks(self, owner: str | None = None) -> list[Webhook]:
        with self._lock:
            live = [w for w in self._webhooks.values() if w.deleted_at is None]
        if owner is not None:
            live = [w for w in live if w.owner == owner]
        return sorted(live, key=lambda w: (w.created_at, w.id))

    def delete(self, webhook_id: str, now: datetime) -> bool:
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None or webhook.deleted_at is not None:
                return False
            self._webhooks[webhook_id] = replace(webhook, deleted_at=now)
            return True

    def save_progress(self, progress: Sequence[Progress]) -> None:
        with self._lock:
            for item in progress:
                for letter in item.dead_letters:
                    self._dead.setdefault(item.webhook_id, {})[letter.seq] = letter
                webhook = self._webhooks.get(item.webhook_id)
                if webhook is not None and webhook.deleted_at is None:
                    self._webhooks[item.webhook_id] = replace(webhook, state=item.state)

    def dead_letters(self, webhook_id: str, after: int = 0, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            letters = sorted(self._dead.get(webhook_id, {}).values(), key=lambda d: d.seq)
        return [d for d in letters if d.seq > after][: max(limit, 0)]

    def count_dead_letters(self, webhook_id: str) -> int:
        return len(self._dead.get(webhook_id, {}))


def open_outbox(store: Store, database_url: str) -> Outbox:
    """
    The outbox beside *store*: in memory for a `MemoryStore`, else in the same database.
    """
    if isinstance(store, MemoryStore):
        return MemoryOutbox()
    engine = getattr(store, "engine", None)
    if isinstance(engine, Engine):
        return SQLOutbox(engine.url)
    url = getattr(store, "url", None)
    if isinstance(url, URL | str):
        return SQLOutbox(url)
    if database_url.partition("://")[0].lower() == "memory":
        return MemoryOutbox()
    if "://" not in database_url:
        return SQLOutbox(sqlite_url(database_url))
    return SQLOutbox(database_url)
