"""
`ShelterRepository`: the `shelters` table in SQLAlchemy Core on the server's own database.

It shares the store's engine when the store has one (SQLite, and PostgreSQL later), and keeps
an in-memory SQLite database of its own for `memory://`. An import is one transaction:
new shelters are inserted, changed ones updated, identical ones left alone, so importing a
file twice changes nothing. `index()` gives the nearest-shelter search a snapshot that is
rebuilt only when the table has changed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tryvoha.shelters.model import Shelter
from tryvoha.shelters.nearest import ShelterIndex
from tryvoha.shelters.schema import shelters
from tryvoha.storage.repository import SQLRepository

_FIELDS = ("name_uk", "name_en", "lat", "lon", "kind")


@dataclass(frozen=True, slots=True)
class ImportCounts:
    imported: int
    updated: int
    unchanged: int
    removed: int


def _row_to_shelter(row: Any) -> Shelter:
    return Shelter(row.id, row.name_uk, row.name_en, row.lat, row.lon, row.kind)


class ShelterRepository(SQLRepository):
    tables = (shelters,)

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        super().__init__(engine, owns_engine=owns_engine)
        self._lock = threading.Lock()
        self._index: ShelterIndex | None = None
        self._index_version: tuple[int, int] | None = None

    # -- writing ---------------------------------------------------------------------------

    def save(
        self,
        found: Sequence[Shelter],
        source: str,
        *,
        prune: bool = False,
        now: datetime | None = None,
    ) -> ImportCounts:
        """
        Insert or update *found* as coming from *source*, in one transaction. With *prune*,
        shelters an earlier import of *source* added and *found* no longer lists are removed.
        """
        stamp = int((now or datetime.now(UTC)).timestamp() * 1000)
        imported = updated = unchanged = removed = 0
        listed = {shelter.id for shelter in found}
        with self._transaction() as connection:
            stored = {
                row.id: row
                for row in connection.execute(select(shelters)).all()
                if row.id in listed or (prune and row.source == source)
            }
            fresh: list[dict[str, Any]] = []
            for shelter in found:
                values = {name: getattr(shelter, name) for name in _FIELDS}
                row = stored.get(shelter.id)
                if row is None:
                    fresh.append(
                        {"id": shelter.id, **values, "source": source, "updated_ms": stamp}
                    )
                    imported += 1
                elif any(getattr(row, name) != value for name, value in values.items()):
                    connection.execute(
                        update(shelters)
                        .where(shelters.c.id == shelter.id)
                        .values(**values, source=source, updated_ms=stamp)
                    )
                    updated += 1
                else:
                    unchanged += 1
            if fresh:
                connection.execute(insert(shelters), fresh)
            if prune:
                gone = [
                    rid for rid, row in stored.items() if row.source == source and rid not in listed
                ]
                for offset in range(0, len(gone), 500):
                    connection.execute(
                        delete(shelters).where(shelters.c.id.in_(gone[offset : offset + 500]))
                    )
                removed = len(gone)
        return ImportCounts(imported, updated, unchanged, removed)

    # -- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        with self._connect() as connection:
            return int(connection.execute(select(func.count()).select_from(shelters)).scalar_one())

    def page(
        self,
        *,
        after: str | None = None,
        limit: int = 1000,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[Shelter]:
        """
        Shelters in id order after the id *after*, within *bbox* (min lon, min lat, max lon,
        max lat) if given.
        """
        stmt = select(shelters).order_by(shelters.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(shelters.c.id > after)
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            stmt = stmt.where(
                shelters.c.lon >= min_lon,
                shelters.c.lon <= max_lon,
                shelters.c.lat >= min_lat,
                shelters.c.lat <= max_lat,
            )
        with self._connect() as connection:
            return [_row_to_shelter(row) for row in connection.execute(stmt)]

    def _version(self, connection: Connection) -> tuple[int, int]:
        stmt = select(func.count(), func.coalesce(func.max(shelters.c.updated_ms), 0))
        count, newest = connection.execute(stmt.select_from(shelters)).one()
        return int(count), int(newest)

    def index(self) -> ShelterIndex:
        """
        Every shelter, ready for nearest-point queries; rebuilt when an import (from this
        process or the command line) has changed the table since the last call.
        """
        with self._connect() as connection:
            version = self._version(connection)
            with self._lock:
                if self._index is not None and self._index_version == version:
                    return self._index
            rows = connection.execute(select(shelters).order_by(shelters.c.id)).all()
        built = ShelterIndex([_row_to_shelter(row) for row in rows])
        with self._lock:
            self._index, self._index_version = built, version
        return built
