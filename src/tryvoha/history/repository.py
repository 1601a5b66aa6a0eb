"""
`HistoryRepository`: imported alert intervals, the attacks register and the record of imports,
in SQLAlchemy Core on the server's own database.

It shares the store's engine when the store has one (SQLite now, PostgreSQL later), so
imported history lives beside the live log; for `memory://` it keeps an in-memory SQLite
database of its own. Writes are one transaction each, with bulk inserts; inserts skip keys
that exist already, so importing a file twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from tryvoha.history.schema import attacks, history_alerts, history_imports
from tryvoha.storage.repository import SQLRepository

CHUNK = 5000
Progress = Callable[[int], None]
"""Called with the number of rows just written."""

_TABLES = (history_imports, history_alerts, attacks)


class HistoryRepository(SQLRepository):
    tables = _TABLES

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        super().__init__(engine, owns_engine=owns_engine)
        self._intervals: tuple[int, pd.DataFrame] | None = None

    # -- imports ---------------------------------------------------------------------------

    def version(self) -> int:
        """Grows with every import: the key of anything computed from imported data."""
        with self._connect() as connection:
            return int(
                connection.execute(
                    select(func.coalesce(func.max(history_imports.c.id), 0))
                ).scalar_one()
            )

    def imports(self) -> list[dict[str, Any]]:
        with self._connect() as connection:
            rows = connection.execute(select(history_imports).order_by(history_imports.c.id))
            return [dict(row._mapping) for row in rows]

    def _record_import(self, connection: Connection, record: dict[str, Any]) -> int:
        result = connection.execute(history_imports.insert().values(**record))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    # -- alert intervals ---------------------------------------------------------------------

    def alert_keys(self, source: str) -> pd.DataFrame:
        """The (region_id, type, started_ms, finished_ms) already stored for *source*."""
        columns = ["region_id", "type", "started_ms", "finished_ms"]
        stmt = select(*(history_alerts.c[name] for name in columns)).where(
            history_alerts.c.source == source
        )
        return pd.DataFrame.from_records(self._fetch_all(stmt), columns=columns)

    def add_alerts(
        self, rows: pd.DataFrame, record: dict[str, Any], progress: Progress | None = None
    ) -> int:
        """
        Insert interval rows (columns source, region_id, type, started_ms, finished_ms,
        subalerts; None for one alert) and the import's record in one transaction; returns the
        import id.
        """
        columns = ["source", "region_id", "type", "started_ms", "finished_ms", "subalerts"]
        with self._transaction() as connection:
            import_id = self._record_import(connection, record)
            values = [
                (*row, import_id)
                for row in rows[columns].astype(object).itertuples(index=False, name=None)
            ]
            statement = _insert_ignoring_duplicates(connection, history_alerts)
            for offset in range(0, len(values), CHUNK):
                chunk = values[offset : offset + CHUNK]
                _execute_many(connection, statement, [*columns, "import_id"], chunk)
                if progress is not None:
                    progress(len(chunk))
        return import_id

    def alert_intervals(self) -> pd.DataFrame:
        """
        Every imported interval: source, region_id, type, started_ms, finished_ms, subalerts.

        The frame is kept until the next import (of any process) and shared: do not change it.
        """
        version = self.version()
        cached = self._intervals
        if cached is not None and cached[0] == version:
            return cached[1]
        columns = ["source", "region_id", "type", "started_ms", "finished_ms", "subalerts"]
        stmt = select(*(history_alerts.c[name] for name in columns))
        frame = pd.DataFrame.from_records(self._fetch_all(stmt), columns=columns)
        for name in ("started_ms", "finished_ms"):
            frame[name] = frame[name].astype("int64")
        self._intervals = (version, frame)
        return frame

    def _fetch_all(self, stmt: Select[Any]) -> list[tuple[Any, ...]]:
        """
        All rows as plain tuples: for a hundred thousand rows, much faster than result rows.
        """
        with self._connect() as connection:
            result = connection.exec_driver_sql(*_compiled(connection, stmt))
            try:
                return [tuple(row) for row in result.cursor.fetchall()]
            finally:
                result.close()

    # -- attacks ------------------------------------------------------------------------------

    def attack_hashes(self) -> dict[str, str]:
        """row_key → content_hash of every stored attack row."""
        with self._connect() as connection:
            rows = connection.execute(select(attacks.c.row_key, attacks.c.content_hash)).all()
        return dict(rows)

    def save_attacks(
        self,
        new: Sequence[dict[str, Any]],
        revised: Sequence[dict[str, Any]],
        record: dict[str, Any],
        progress: Progress | None = None,
    ) -> int:
        """
        Insert *new* rows and replace *revised* ones (matched by `row_key`, their revision
        count raised by one), with the import's record, in one transaction.
        """
        with self._transaction() as connection:
            import_id = self._record_import(connection, record)
            statement = _insert_ignoring_duplicates(connection, attacks)
            for offset in range(0, len(new), CHUNK):
                chunk = [
                    {**r, "import_id": import_id, "revisions": 0}
                    for r in new[offset : offset + CHUNK]
                ]
                connection.execute(statement, chunk)
                if progress is not None:
                    progress(len(chunk))
            for row in revised:
                values = {k: v for k, v in row.items() if k != "row_key"}
                connection.execute(
                    update(attacks)
                    .where(attacks.c.row_key == row["row_key"])
                    .values(**values, import_id=import_id, revisions=attacks.c.revisions + 1)
                )
            if progress is not None and revised:
                progress(len(revised))
        return import_id

    def attacks_frame(self) -> pd.DataFrame:
        """The register, one row per attack row, without the raw payload."""
        columns = [c.name for c in attacks.columns if c.name not in ("payload", "content_hash")]
        stmt = select(*(attacks.c[name] for name in columns)).order_by(
            attacks.c.start_ms, attacks.c.id
        )
        return pd.DataFrame.from_records(self._fetch_all(stmt), columns=columns)


def _insert_ignoring_duplicates(connection: Connection, table: Table) -> Insert:
    # A concurrent import of the same file must not fail on the rows the other one added.
    # Inline: no RETURNING of the new ids, which nothing reads.
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).inline().on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table).inline().on_conflict_do_nothing()
    return table.insert().inline()


def _compiled(
    connection: Connection, stmt: Select[Any]
) -> tuple[str, dict[str, Any] | tuple[Any, ...]]:
    compiled = stmt.compile(dialect=connection.dialect)
    params = compiled.params
    if compiled.positiontup is not None:
        return str(compiled), tuple(params[name] for name in compiled.positiontup)
    return str(compiled), params


def _execute_many(
    connection: Connection, statement: Insert, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """
    One driver-level executemany of plain tuples: the per-row parameter processing of
    `Connection.execute` costs more than the database's own work for bulk imports.
    """
    compiled = statement.compile(dialect=connection.dialect, column_keys=columns)
    order = compiled.positiontup
    params: list[Any]
    if order is not None:
        index = [columns.index(name) for name in order]
        same = index == list(range(len(columns)))
        params = rows if same else [tuple(row[i] for i in index) for row in rows]
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    connection.exec_driver_sql(str(compiled), params)
