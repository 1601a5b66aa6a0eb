"""
`SQLRepository`: the base of the feature repositories that keep tables beside the log.

A repository works on the store's own database (the tables come from its migrations), or,
for `memory://`, on an in-memory SQLite of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, Self

from sqlalchemy import Connection, Engine, Table, create_engine
from sqlalchemy.pool import StaticPool

from tryvoha.storage.base import Store


class SQLRepository:
    tables: ClassVar[tuple[Table, ...]] = ()
    """What `in_memory()` creates; a store's database has them from its migrations."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self._engine = engine
        self._owns_engine = owns_engine
        # The in-memory database is one connection that threads take turns on.
        self._serial: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )

    @classmethod
    def in_memory(cls) -> Self:
        # One shared connection: every new connection to ":memory:" is a new empty database.
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        with engine.begin() as connection:
            for table in cls.tables:
                table.create(connection)
        return cls(engine, owns_engine=True)

    @classmethod
    def for_store(cls, store: Store) -> Self:
        """
        The repository on *store*'s database (migrated by the store), or in memory for a
        store without one.
        """
        engine = getattr(store, "engine", None)
        if isinstance(engine, Engine):
            return cls(engine)
        return cls.in_memory()

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._serial, self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._connect() as connection, connection.begin():
            raw = connection.connection.dbapi_connection
            if connection.dialect.name == "sqlite" and getattr(raw, "isolation_level", "") is None:
                # The SQLite store runs its driver in autocommit mode and begins its own
                # transactions; without one, every row would be a durable commit of its own.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
