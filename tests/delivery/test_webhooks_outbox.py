"""
The webhook outbox: one contract for memory, SQLite and PostgreSQL, and its migration.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url, text

from tests.backends import require_service
from tests.delivery.delivery_support import AIR, SHELLING, T0
from tryvoha.core.model import Alert, AlertLevel, Event, EventKind
from tryvoha.delivery.model import DeadLetter, DeliveryState, Progress, Webhook
from tryvoha.delivery.outbox import MemoryOutbox, Outbox, SQLOutbox, open_outbox
from tryvoha.delivery.schema import webhook_dead_letters, webhooks
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.migrate import full_metadata, upgrade
from tryvoha.storage.sqlite import SQLiteStore

PG_URL = os.environ.get(
    "TRYVOHA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def make_webhook(webhook_id: str, owner: str = "reader", minutes: int = 0) -> Webhook:
    return Webhook(
        id=webhook_id,
        owner=owner,
        url=f"https://receiver.example/{webhook_id}",
        secret="whsec_" + webhook_id * 4,
        regions=("3", "300"),
        types=(AIR, SHELLING),
        body_format="tryvoha",
        created_at=T0 + timedelta(minutes=minutes),
        state=DeliveryState(cursor=7),
    )


def make_event(seq: int) -> Event:
    alert = Alert(seq, "31", AIR, AlertLevel.ALERT, T0, T0, "duty", note="тест")
    return Event(seq, EventKind.RAISED, T0, "duty", alert)


@pytest.fixture(name="sqlite_outbox")
def _sqlite_outbox(tmp_path: Path) -> Iterator[Callable[[], SQLOutbox]]:
    store = SQLiteStore(tmp_path / "tryvoha.db")
    store.migrate()
    opened: list[SQLOutbox] = []

    def reopen() -> SQLOutbox:
        opened.append(SQLOutbox(store.url))
        return opened[-1]

    yield reopen
    for outbox in opened:
        outbox.close()
    store.close()


@pytest.fixture(name="postgres_outbox")
def _postgres_outbox() -> Iterator[Callable[[], SQLOutbox]]:
    """The outbox in a throwaway schema of the test database, migrated by the revisions."""
    url = make_url(PG_URL)
    require_service("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)
    schema = f"tryvoha_webhooks_{secrets.token_hex(4)}"
    admin = create_engine(url.set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    migrator = create_engine(scoped.set(drivername="postgresql+psycopg"))
    upgrade(migrator)
    migrator.dispose()
    opened: list[SQLOutbox] = []

    def reopen() -> SQLOutbox:
        opened.append(SQLOutbox(scoped))
        return opened[-1]

    try:
        yield reopen
    finally:
        for outbox in opened:
            outbox.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outbox(request: pytest.FixtureRequest) -> Outbox:
    if request.param == "memory":
        return MemoryOutbox()
    reopen: Callable[[], Outbox] = request.getfixturevalue(f"{request.param}_outbox")
    return reopen()


def test_create_find_and_list_by_owner(outbox: Outbox) -> None:
    first, second, other = (
        make_webhook("wh_a", minutes=2),
        make_webhook("wh_b", minutes=1),
        make_webhook("wh_c", owner="someone"),
    )
    for webhook in (first, second, other):
        outbox.create(webhook)
    assert outbox.find("wh_a") == first
    assert outbox.find("wh_missing") is None
    assert [w.id for w in outbox.list_webhooks("reader")] == ["wh_b", "wh_a"]
    assert [w.id for w in outbox.list_webhooks()] == ["wh_c", "wh_b", "wh_a"]


def test_progress_and_dead_letters_are_saved_together(outbox: Outbox) -> None:
    outbox.create(make_webhook("wh_a"))
    outbox.create(make_webhook("wh_b"))
    failing = DeliveryState(
        cursor=9,
        attempts=3,
        failures=12,
        failing_since=T0,
        next_attempt_at=T0 + timedelta(seconds=90),
        last_error="HTTP 503",
        last_attempt_at=T0 + timedelta(seconds=30),
        last_success_at=T0 - timedelta(hours=1),
    )
    letters = (
        DeadLetter("wh_a", 8, 40, "HTTP 503", T0, make_event(8)),
        DeadLetter("wh_a", 9, 0, "expired", T0, make_event(9)),
    )
    outbox.save_progress(
        [Progress("wh_a", failing, letters), Progress("wh_b", DeliveryState(cursor=11))]
    )
    found = outbox.find("wh_a")
    assert found is not None and found.state == failing
    assert outbox.find("wh_b").state == DeliveryState(cursor=11)  # type: ignore[union-attr]
    assert outbox.dead_letters("wh_a") == list(letters)
    assert outbox.dead_letters("wh_a", after=8) == [letters[1]]
    assert outbox.dead_letters("wh_a", limit=1) == [letters[0]]
    assert outbox.count_dead_letters("wh_a") == 2
    assert outbox.count_dead_letters("wh_b") == 0
    # Saving the same dead letter again (a retried commit) keeps one copy.
    outbox.save_progress([Progress("wh_a", failing, letters[:1])])
    assert outbox.count_dead_letters("wh_a") == 2


def test_delete_is_soft_and_stops_progress(outbox: Outbox) -> None:
    outbox.create(make_webhook("wh_a"))
    outbox.save_progress(
        [Progress("wh_a", DeliveryState(3), (DeadLetter("wh_a", 3, 1, "x", T0, make_event(3)),))]
    )
    assert outbox.delete("wh_a", T0)
    assert not outbox.delete("wh_a", T0)
    assert not outbox.delete("wh_missing", T0)
    assert outbox.find("wh_a") is None
    assert outbox.list_webhooks() == []
    outbox.save_progress([Progress("wh_a", DeliveryState(99))])
    assert [d.seq for d in outbox.dead_letters("wh_a")] == [3]


def test_state_survives_reopening(sqlite_outbox: Callable[[], SQLOutbox]) -> None:
    first = sqlite_outbox()
    first.create(make_webhook("wh_a"))
    first.save_progress([Progress("wh_a", DeliveryState(cursor=42, last_success_at=T0))])
    first.close()
    assert sqlite_outbox().find("wh_a").state == DeliveryState(cursor=42, last_success_at=T0)  # type: ignore[union-attr]


def test_open_outbox_follows_the_store(tmp_path: Path) -> None:
    assert isinstance(open_outbox(MemoryStore(), "sqlite:///ignored.db"), MemoryOutbox)
    store = SQLiteStore(tmp_path / "t.db")
    outbox = open_outbox(store, "memory://")
    assert isinstance(outbox, SQLOutbox) and str(tmp_path / "t.db") in repr(outbox)
    outbox.close()
    store.close()


def test_the_migration_matches_the_tables(tmp_path: Path) -> None:
    """The revision creates exactly what `delivery/schema.py` declares."""
    store = SQLiteStore(tmp_path / "t.db")
    store.migrate()
    mine = {webhooks.name, webhook_dead_letters.name}
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, full_metadata())
    store.close()
    assert [d for d in diffs if mine & set(_tables_of(d))] == []


def _tables_of(diff: object) -> list[str]:
    found: list[str] = []
    stack = [diff]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "name") and hasattr(item, "columns"):
            found.append(str(item.name))
        elif isinstance(item, str):
            found.append(item)
    return found
