"""
The history tables: created by the migration as `history/schema.py` describes them, sharing the
store's database, and portable to PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.backends import require_service
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.attacks import import_attacks
from tryvoha.history.importer import import_sirens
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.schema import attacks, history_alerts, history_imports
from tryvoha.storage.factory import open_store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.migrate import full_metadata
from tryvoha.storage.schema import metadata

HISTORY_TABLES = {"history_imports", "history_alerts", "attacks"}
SIRENS = (
    "oblast,raion,hromada,level,started_at,finished_at,source\n"
    "Kyiv City,,,oblast,2023-10-28 16:00:00+00:00,2023-10-28 18:00:00+00:00,official\n"
    "Kharkivska oblast,Kharkivskyi raion,,raion,2023-10-28 16:00:00+00:00,"
    "2023-10-28 17:00:00+00:00,official\n"
)
ATTACKS = (
    "time_start,time_end,model,launch_place,target,launched,destroyed,source\n"
    "2025-07-04 00:20,2025-07-04 00:30,X-47 Kinzhal,,Kyiv,1.0,0.0,kpszsu/1\n"
)


def test_the_migration_creates_what_the_schema_module_says(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'tryvoha.db'}")
    try:
        engine = store.engine  # type: ignore[attr-defined]
        assert set(inspect(engine).get_table_names()) >= HISTORY_TABLES
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), full_metadata())
        # Other features' tables are theirs to check.
        ours = [d for d in differences if any(t in repr(d) for t in HISTORY_TABLES)]
        assert ours == []
    finally:
        store.close()


def test_imports_live_in_the_store_database_and_survive_reopening(
    tmp_path: Path, registry: RegionRegistry
) -> None:
    url = f"sqlite:///{tmp_path / 'tryvoha.db'}"
    csv = tmp_path / "sirens.csv"
    csv.write_text(SIRENS, encoding="utf-8")
    store = open_store(url)
    repository = HistoryRepository.for_store(store)
    summary = import_sirens(repository, csv, known_regions=set(registry.ids()))
    assert summary.imported == 2
    repository.close()
    store.close()
    reopened = open_store(url)
    try:
        again = HistoryRepository.for_store(reopened)
        frame = again.alert_intervals()
        kharkivskyi = registry.find_by_name("Kharkivskyi raion")
        assert kharkivskyi is not None
        assert set(frame["region_id"]) == {"31", kharkivskyi.id}
        assert frame["subalerts"].isna().all()
        assert again.version() == 1
        assert again.imports()[0]["imported"] == 2
    finally:
        reopened.close()


def test_a_memory_store_gets_an_in_memory_repository() -> None:
    repository = HistoryRepository.for_store(MemoryStore())
    assert repository.version() == 0
    assert repository.alert_intervals().empty
    assert repository.attacks_frame().empty
    repository.close()


@pytest.fixture
def postgres_repository() -> Iterator[HistoryRepository]:
    """The history tables in a throwaway PostgreSQL schema."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    url = os.environ.get(
        "TRYVOHA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ).replace("postgresql://", "postgresql+psycopg://")
    schema = f"history_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as connection:
        metadata.create_all(connection, tables=[history_imports, history_alerts, attacks])
    try:
        yield HistoryRepository(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_imports_are_idempotent_on_postgresql(
    postgres_repository: HistoryRepository, tmp_path: Path, registry: RegionRegistry
) -> None:
    sirens = tmp_path / "sirens.csv"
    sirens.write_text(SIRENS, encoding="utf-8")
    first = import_sirens(postgres_repository, sirens, known_regions=set(registry.ids()))
    second = import_sirens(postgres_repository, sirens, known_regions=set(registry.ids()))
    assert (first.imported, second.imported, second.duplicates) == (2, 0, 2)
    frame = postgres_repository.alert_intervals()
    assert sorted(frame["started_ms"].tolist()) == [1698508800000, 1698508800000]
    feed = tmp_path / "attacks.csv"
    feed.write_text(ATTACKS, encoding="utf-8")
    assert import_attacks(postgres_repository, feed).imported == 1
    revised = tmp_path / "revised.csv"
    revised.write_text(ATTACKS.replace("1.0,0.0", "1.0,1.0"), encoding="utf-8")
    assert import_attacks(postgres_repository, revised).revised == 1
    stored = postgres_repository.attacks_frame()
    assert stored["destroyed"].tolist() == [1]
    assert stored["revisions"].tolist() == [1]
    assert postgres_repository.version() == 4
