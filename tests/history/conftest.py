"""
Fixtures over the real datasets in ../shared/data (skipped with a reason when absent), and
small databases of imported history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import require_shared_file
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.analytics import Analytics
from tryvoha.history.attacks import import_attacks
from tryvoha.history.importer import import_sirens
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.weapons import WeaponTable
from tryvoha.storage.memory import MemoryStore

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file of the shared reference data, or a skip saying where it should be."""
    return require_shared_file(SHARED_DATA.joinpath(*parts))


@pytest.fixture(scope="session")
def official_en() -> Path:
    return shared_file("sirens", "official_data_en.csv")


@pytest.fixture(scope="session")
def attacks_csv() -> Path:
    return shared_file("attacks", "missile_attacks_daily.csv")


@pytest.fixture(scope="session")
def weapons() -> WeaponTable:
    return WeaponTable.from_csv(shared_file("attacks", "missiles_and_uavs.csv"))


@pytest.fixture(scope="session")
def official_repository(official_en: Path, registry: RegionRegistry) -> Iterator[HistoryRepository]:
    """The official English CSV imported once, for tests that only read."""
    repository = HistoryRepository.in_memory()
    import_sirens(repository, official_en, known_regions=set(registry.ids()), now_ms=0)
    yield repository
    repository.close()


@pytest.fixture(scope="session")
def official(official_repository: HistoryRepository, registry: RegionRegistry) -> Analytics:
    return Analytics(official_repository, MemoryStore(), registry)


@pytest.fixture(scope="session")
def attacks_repository(attacks_csv: Path, weapons: WeaponTable) -> Iterator[HistoryRepository]:
    repository = HistoryRepository.in_memory()
    import_attacks(repository, attacks_csv, weapons=weapons, now_ms=0)
    yield repository
    repository.close()
