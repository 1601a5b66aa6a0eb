from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL

from tests.storage.postgres_support import empty_tables, throwaway_schema
from tryvoha.storage.base import Store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.postgres import PostgresStore
from tryvoha.storage.sqlite import SQLiteStore


@pytest.fixture(name="open_sqlite")
def _open_sqlite(tmp_path: Path) -> Iterator[Callable[[], SQLiteStore]]:
    """
    Opens (and migrates) a store on the test's database file; all are closed at the end.
    """
    opened: list[SQLiteStore] = []

    def open_sqlite() -> SQLiteStore:
        store = SQLiteStore(tmp_path / "tryvoha.db")
        store.migrate()
        opened.append(store)
        return store

    yield open_sqlite
    for store in opened:
        store.close()


@pytest.fixture(scope="session", name="postgres_url")
def _postgres_url() -> Iterator[URL]:
    """A schema of this run on the test server, migrated once."""
    with throwaway_schema("tryvoha_store") as url:
        store = PostgresStore(url)
        store.migrate()
        store.close()
        yield url


@pytest.fixture(name="open_postgres")
def _open_postgres(postgres_url: URL) -> Iterator[Callable[[], PostgresStore]]:
    """
    Opens (and migrates) stores on the run's schema, emptied for each test.
    """
    empty_tables(postgres_url)
    opened: list[PostgresStore] = []

    def open_postgres() -> PostgresStore:
        store = PostgresStore(postgres_url)
        store.migrate()
        opened.append(store)
        return store

    yield open_postgres
    for store in opened:
        store.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, open_sqlite: Callable[[], SQLiteStore]) -> Store:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return open_sqlite()
    open_postgres: Callable[[], PostgresStore] = request.getfixturevalue("open_postgres")
    return open_postgres()
