"""
The shelters table: idempotent imports, pruning, paging, and an index that follows changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tests.web.conftest import MAIDAN_POINT
from tryvoha.shelters.model import Shelter
from tryvoha.shelters.repository import ImportCounts, ShelterRepository
from tryvoha.storage.factory import open_store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore

NOW = datetime(2025, 7, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ShelterRepository]:
    if request.param == "memory":
        repo = ShelterRepository.for_store(MemoryStore())
        yield repo
        repo.close()
        return
    store = open_store(f"sqlite:///{tmp_path / 'shelters.db'}")
    repo = ShelterRepository.for_store(store)
    yield repo
    repo.close()
    store.close()


def test_the_migration_creates_the_table(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    assert isinstance(store, SQLiteStore)
    inspector = inspect(store.engine)
    assert "shelters" in inspector.get_table_names()
    assert {c["name"] for c in inspector.get_columns("shelters")} == {
        "id",
        "name_uk",
        "name_en",
        "lat",
        "lon",
        "kind",
        "source",
        "updated_ms",
    }
    store.close()


def test_import_is_idempotent(repository: ShelterRepository, kyiv_centre: list[Shelter]) -> None:
    first = repository.save(kyiv_centre, "kyiv.geojson", now=NOW)
    assert first == ImportCounts(imported=12, updated=0, unchanged=0, removed=0)
    again = repository.save(kyiv_centre, "kyiv.geojson", now=NOW)
    assert again == ImportCounts(imported=0, updated=0, unchanged=12, removed=0)
    assert repository.count() == 12


def test_changed_shelters_are_updated(
    repository: ShelterRepository, kyiv_centre: list[Shelter]
) -> None:
    repository.save(kyiv_centre, "kyiv.geojson", now=NOW)
    renamed = [replace(kyiv_centre[0], name_en="Renamed"), *kyiv_centre[1:]]
    counts = repository.save(renamed, "kyiv.geojson", now=NOW)
    assert (counts.updated, counts.unchanged, counts.imported) == (1, 11, 0)
    stored = {s.id: s for s in repository.page(limit=100)}
    assert stored[kyiv_centre[0].id].name_en == "Renamed"


def test_prune_removes_only_what_the_same_source_dropped(
    repository: ShelterRepository, kyiv_centre: list[Shelter]
) -> None:
    repository.save(kyiv_centre, "kyiv.geojson", now=NOW)
    other = Shelter("other/1", "Інше", "Other", 50.0, 30.0, "bunker")
    repository.save([other], "other.geojson", now=NOW)
    counts = repository.save(kyiv_centre[:10], "kyiv.geojson", prune=True, now=NOW)
    assert counts == ImportCounts(imported=0, updated=0, unchanged=10, removed=2)
    ids = {s.id for s in repository.page(limit=100)}
    assert "other/1" in ids
    assert ids == {s.id for s in kyiv_centre[:10]} | {"other/1"}
    without_prune = repository.save(kyiv_centre[:5], "kyiv.geojson", now=NOW)
    assert without_prune.removed == 0
    assert repository.count() == 11


def test_pages_in_id_order_and_by_box(
    repository: ShelterRepository, kyiv_centre: list[Shelter]
) -> None:
    repository.save(kyiv_centre, "kyiv.geojson", now=NOW)
    first = repository.page(limit=5)
    second = repository.page(after=first[-1].id, limit=5)
    third = repository.page(after=second[-1].id, limit=5)
    ids = [s.id for s in first + second + third]
    assert ids == sorted(s.id for s in kyiv_centre)
    # The right bank's centre only: Dnipro station (30.559) is east of the box.
    boxed = repository.page(bbox=(30.50, 50.43, 30.55, 50.47), limit=100)
    names = {s.name_en for s in boxed}
    assert "Khreschatyk" in names
    assert "Dnipro" not in names
    assert all(30.50 <= s.lon <= 30.55 and 50.43 <= s.lat <= 50.47 for s in boxed)


def test_index_follows_imports(repository: ShelterRepository, kyiv_centre: list[Shelter]) -> None:
    assert len(repository.index()) == 0
    repository.save(kyiv_centre[:3], "kyiv.geojson", now=NOW)
    first = repository.index()
    assert len(first) == 3
    assert repository.index() is first
    repository.save(kyiv_centre, "kyiv.geojson", now=datetime(2025, 7, 4, 2, 0, tzinfo=UTC))
    assert len(repository.index()) == 12
    nearest = repository.index().nearest(*MAIDAN_POINT, 1)
    assert nearest[0].shelter.name_uk == "Майдан Незалежності"


def test_another_process_import_is_seen(tmp_path: Path, kyiv_centre: list[Shelter]) -> None:
    """
    The server's repository notices rows that `tryvoha shelters import` (another store on
    the same file) wrote after it built its index.
    """
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    server_store = open_store(url)
    server = ShelterRepository.for_store(server_store)
    assert len(server.index()) == 0
    cli_store = open_store(url)
    ShelterRepository.for_store(cli_store).save(kyiv_centre, "kyiv.geojson", now=NOW)
    cli_store.close()
    assert len(server.index()) == 12
    server_store.close()
