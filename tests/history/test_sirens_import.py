"""
Importing the official sirens dataset: every row accounted for, names mapped to region ids,
UTC kept, and a second import adding nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.history.conftest import shared_file
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.importer import import_sirens
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.sirens import OFFICIAL, OFFICIAL_PARQUET, SirensFormatError, read_sirens

HEADER = "oblast,raion,hromada,level,started_at,finished_at,source\n"


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def repository() -> HistoryRepository:
    return HistoryRepository.in_memory()


def test_the_english_file_imports_whole_and_a_second_time_adds_nothing(
    official_en: Path, registry: RegionRegistry, repository: HistoryRepository
) -> None:
    known = set(registry.ids())
    first = import_sirens(repository, official_en, known_regions=known)
    assert (first.rows_read, first.imported, first.duplicates) == (43031, 43031, 0)
    assert first.rejected == ()
    assert [(r.line, r.reason) for r in first.repaired] == [
        (18, "oblast and raion columns swapped")
    ]
    second = import_sirens(repository, official_en, known_regions=known)
    assert (second.imported, second.duplicates, len(second.rejected)) == (0, 43031, 0)
    stored = repository.alert_intervals()
    assert len(stored) == 43031
    assert set(stored["source"]) == {OFFICIAL}
    assert repository.version() == 2


def test_the_ukrainian_file_names_the_same_alerts(
    official_en: Path, registry: RegionRegistry, repository: HistoryRepository
) -> None:
    uk = shared_file("sirens", "official_data_uk.csv")
    import_sirens(repository, official_en, known_regions=set(registry.ids()))
    summary = import_sirens(repository, uk, known_regions=set(registry.ids()))
    # The Ukrainian copy ends earlier; every one of its rows is one of the English rows.
    assert (summary.rows_read, summary.imported, summary.duplicates) == (33978, 0, 33978)


def test_names_map_to_region_ids_and_times_stay_utc(official_en: Path) -> None:
    parsed = read_sirens(official_en)
    rows = parsed.rows.set_index("line")
    # Line 2: Vinnytska oblast, 2022-03-15 16:10:34+00:00 → 16:50:07+00:00.
    assert rows.loc[2, "region_id"] == "4"
    assert rows.loc[2, "started_ms"] == 1647360634000
    assert rows.loc[2, "finished_ms"] == 1647363007000
    # Line 4: Umanska hromada of Umanskyi raion (151), Cherkaska oblast (24).
    assert rows.loc[4, "region_id"] == "1447"
    raw = pd.read_csv(official_en, dtype=str, keep_default_na=False)
    kyiv = raw.index[raw["oblast"] == "Kyiv City"] + 2
    assert set(rows.loc[kyiv, "region_id"]) == {"31"}
    # Line 18 has oblast and raion swapped: Hrebinkivska hromada, Lubenskyi raion (106),
    # not its namesake in Kyivska oblast (713).
    assert rows.loc[18, "region_id"] == "1095"


def test_each_name_resolves_within_its_parent(official_en: Path, registry: RegionRegistry) -> None:
    parsed = read_sirens(official_en)
    raw = pd.read_csv(official_en, dtype=str, keep_default_na=False)
    raw["line"] = raw.index + 2
    merged = raw.merge(parsed.rows, on="line")
    for _, row in merged.drop_duplicates(["oblast", "raion", "hromada"]).iterrows():
        region = registry.get(row["region_id"])
        assert region.level.value == row["level"]
        oblast = registry.oblast_of(region.id)
        if row["line"] != 18:
            expected = "Kyiv City" if oblast.id == "31" else row["oblast"]
            assert expected in (oblast.name_en, *registry.aliases(oblast.id), "Kyiv City")


def test_bad_rows_are_rejected_with_their_line_and_reason(
    tmp_path: Path, registry: RegionRegistry, repository: HistoryRepository
) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        "Vinnytska oblast,,,oblast,2022-03-15 16:10:34+00:00,2022-03-15 16:50:07+00:00,official",
        "Atlantis oblast,,,oblast,2022-03-15 16:10:34+00:00,2022-03-15 16:50:07+00:00,official",
        "Vinnytska oblast,,,oblast,2022-03-15 16:10:34,2022-03-15 16:50:07+00:00,official",
        "Vinnytska oblast,,,oblast,2022-03-15 17:00:00+00:00,2022-03-15 16:00:00+00:00,official",
        "Vinnytska oblast,,,oblast,2022-03-15 17:00:00+00:00,,official",
        "Vinnytska oblast,Nowhere raion,,raion,"
        "2022-03-15 17:00:00+00:00,2022-03-15 18:00:00+00:00,official",
        "Vinnytska oblast,,,city,2022-03-15 17:00:00+00:00,2022-03-15 18:00:00+00:00,official",
        "Vinnytska oblast,Vinnytskyi raion,,oblast,"
        "2022-03-15 17:00:00+00:00,2022-03-15 18:00:00+00:00,official",
        "Vinnytska oblast,,,oblast,2022-03-15 16:10:34+00:00,2022-03-15 16:50:07+00:00,official",
        "Vinnytska oblast,,,oblast,2022-03-16 10:00:00+00:00,2022-03-16 11:00:00+00:00,volunteer",
        "Vinnytska oblast,,,oblast,soon+00:00,2022-03-16 11:00:00+00:00,official",
    )
    summary = import_sirens(repository, path, known_regions=set(registry.ids()))
    assert summary.rows_read == 11
    assert summary.accounted == summary.rows_read
    assert (summary.imported, summary.duplicates) == (1, 1)
    reasons = {r.line: r.reason for r in summary.rejected}
    assert reasons == {
        3: "unknown oblast 'Atlantis oblast'",
        4: "started_at '2022-03-15 16:10:34' has no UTC offset",
        5: "finished_at is not after started_at",
        6: "finished_at is empty",
        7: "unknown raion 'Nowhere raion' in 'Vinnytska oblast'",
        8: "level 'city': not oblast, raion or hromada",
        9: "level 'oblast' does not match the names given",
        11: "source 'volunteer': only the official channel's rows are read",
        12: "started_at 'soon+00:00' is not a time",
    }
    out = tmp_path / "rejects.csv"
    summary.write_rejections(out)
    written = pd.read_csv(out)
    assert written["line"].tolist() == sorted(reasons)
    text = "\n".join(summary.describe())
    assert "line 3: unknown oblast 'Atlantis oblast'" in text


def test_a_file_without_the_columns_is_refused(
    tmp_path: Path, repository: HistoryRepository
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("region,start\nx,y\n", encoding="utf-8")
    with pytest.raises(SirensFormatError, match="missing columns oblast, raion"):
        import_sirens(repository, path)


def test_regions_unknown_to_the_registry_are_rejected(official_en: Path) -> None:
    parsed = read_sirens(official_en, known_regions={"31"})
    assert set(parsed.rows["region_id"]) == {"31"}
    assert len(parsed.rows) + len(parsed.rejected) == 43031
    assert parsed.rejected[0].reason.endswith("is not in the region registry")


def test_the_parquet_imports_with_merged_artefacts_rejected(
    registry: RegionRegistry, repository: HistoryRepository
) -> None:
    path = shared_file("sirens", "derived", "alerts_events_labeled.parquet")
    summary = import_sirens(repository, path, known_regions=set(registry.ids()))
    raw = pd.read_parquet(path)
    hours = (raw["finished_at"] - raw["started_at"]).dt.total_seconds() / 3600
    artefacts = int(((raw["n_subalerts"] > 1) & (hours > 24)).sum())
    assert summary.source == OFFICIAL_PARQUET
    assert summary.unit == "row"
    assert len(summary.rejected) == artefacts == 203
    assert summary.imported == len(raw) - artefacts
    assert summary.accounted == summary.rows_read == len(raw)
    first = summary.rejected[0]
    assert raw.iloc[first.line - 1]["n_subalerts"] > 1
    assert "merged upstream" in first.reason
    stored = repository.alert_intervals()
    merged = stored[stored["subalerts"].notna()]
    assert len(merged) == int((raw["n_subalerts"] > 1).sum()) - artefacts
    again = import_sirens(repository, path, known_regions=set(registry.ids()))
    assert again.imported == 0


def test_a_csv_extract_of_the_derived_data_reads_like_the_parquet(
    registry: RegionRegistry, repository: HistoryRepository
) -> None:
    path = shared_file("sirens", "derived", "night_2025-07-03_to_04_oblast_events.csv")
    summary = import_sirens(repository, path, known_regions=set(registry.ids()))
    assert (summary.source, summary.unit) == (OFFICIAL_PARQUET, "line")
    assert (summary.rows_read, summary.imported) == (38, 36)
    # The first two rows are the multi-week merges of Kharkivska and Dnipropetrovska oblasts.
    assert [r.line for r in summary.rejected] == [2, 3]
    assert "8675 alerts over 604.2 days" in summary.rejected[0].reason
