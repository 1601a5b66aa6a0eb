"""
The attacks register: naive Kyiv times to UTC, date-only rows, revisions, weapon classes, the
record night of 2025-07-04, and what was launched during an alert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tryvoha.history.attacks import attack_day, import_attacks, parse_local
from tryvoha.history.calendar import to_ms
from tryvoha.history.register import during, night, per_night, records
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.weapons import WeaponClass, WeaponTable

HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed,source\n"


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return to_ms(datetime(year, month, day, hour, minute, tzinfo=UTC))


def write(path: Path, *lines: str) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_night_of_2025_07_04_shows_539_drones_and_11_missiles(
    attacks_repository: HistoryRepository,
) -> None:
    answer = night(attacks_repository.attacks_frame(), "2025-07-04")
    assert answer["drones"]["launched"] == 539
    assert answer["missiles"]["launched"] == 11
    assert answer["drones"]["destroyed"] == 268
    assert answer["classes"]["ballistic_missile"]["launched"] == 7  # Iskander-M/KN-23, Kinzhal
    assert answer["classes"]["cruise_missile"]["launched"] == 4  # Iskander-K
    # The southern command's whole-day report of that date is listed, not added.
    assert answer["whole_day"]["groups"]["drones"]["launched"] == 4
    assert {r["source"].split("/")[0] for r in answer["whole_day_rows"]} == {"PvKPivden"}


def test_the_real_file_imports_whole_and_again_adds_nothing(
    attacks_csv: Path, weapons: WeaponTable
) -> None:
    repository = HistoryRepository.in_memory()
    first = import_attacks(repository, attacks_csv, weapons=weapons)
    assert (first.rows_read, first.imported, first.duplicates, first.revised) == (3585, 3585, 0, 0)
    assert first.rejected == ()
    second = import_attacks(repository, attacks_csv, weapons=weapons)
    assert (second.imported, second.duplicates, second.revised) == (0, 3585, 0)
    frame = repository.attacks_frame()
    raw = pd.read_csv(attacks_csv, dtype=str, keep_default_na=False)
    # Rows that differ only in their target are all kept.
    key = ["time_start", "time_end", "model", "source"]
    assert raw.duplicated(key).sum() == 18
    assert len(frame) == len(raw)
    flagged = frame["start_is_date"] & frame["end_is_date"]
    dates_only = (raw["time_start"].str.strip().str.len() == 10) & (
        raw["time_end"].str.strip().str.len() == 10
    )
    assert int(flagged.sum()) == int(dates_only.sum()) == 1382
    assert (frame["weapon_class"] != WeaponClass.UNKNOWN.value).all()


def test_naive_kyiv_times_become_utc() -> None:
    # The Kinzhal of 2025-07-04 00:20 Kyiv summer time (+03:00) is 21:20 UTC on July 3.
    assert parse_local("2025-07-04 00:20", end=False).utc_ms == utc_ms(2025, 7, 3, 21, 20)
    # Winter time is +02:00; single-digit hours occur in the file.
    assert parse_local("2023-01-05 3:30", end=False).utc_ms == utc_ms(2023, 1, 5, 1, 30)
    day = parse_local("2024-02-07", end=False)
    assert day.is_date and day.utc_ms == utc_ms(2024, 2, 6, 22)
    assert parse_local("2024-02-07", end=True).utc_ms == utc_ms(2024, 2, 7, 22)
    with pytest.raises(ValueError, match="not a date"):
        parse_local("07.02.2024", end=False)


def test_clock_change_times_are_resolved_and_noted() -> None:
    twice = parse_local("2023-10-29 03:30", end=False)
    assert twice.utc_ms == utc_ms(2023, 10, 29, 0, 30)  # the first 03:30, summer time
    assert twice.note is not None and "occurs twice" in twice.note
    never = parse_local("2024-03-31 03:30", end=False)
    assert never.utc_ms == utc_ms(2024, 3, 31, 1, 30)  # read with +02:00
    assert never.note is not None and "did not occur" in never.note
    assert parse_local("2024-03-31 05:00", end=False).note is None


def test_attack_days_run_from_18_to_18() -> None:
    assert attack_day(datetime(2025, 7, 3, 18, 0)) == "2025-07-04"  # noqa: DTZ001
    assert attack_day(datetime(2025, 7, 3, 17, 59)) == "2025-07-03"  # noqa: DTZ001
    assert attack_day(datetime(2025, 7, 4, 2, 0)) == "2025-07-04"  # noqa: DTZ001


def test_revised_rows_replace_the_stored_ones(tmp_path: Path) -> None:
    repository = HistoryRepository.in_memory()
    rows = (
        "2025-07-03 18:00,2025-07-04 06:00,Shahed-136/131,Kursk,Ukraine,539.0,268.0,kpszsu/1",
        "2025-07-04 00:20,2025-07-04 00:30,X-47 Kinzhal,,Kyiv,1.0,0.0,kpszsu/1",
    )
    first = import_attacks(repository, write(tmp_path / "a.csv", *rows))
    assert (first.imported, first.revised) == (2, 0)
    revised = rows[0].replace("268.0", "270.0")
    second = import_attacks(
        repository,
        write(
            tmp_path / "b.csv",
            revised,
            rows[1],
            "2025-07-04,2025-07-04,Unknown UAV,,south,4,4,pvk/2",
        ),
    )
    assert (second.imported, second.revised, second.duplicates) == (1, 1, 1)
    assert second.accounted == second.rows_read == 3
    frame = repository.attacks_frame()
    shahed = frame[frame["model"] == "Shahed-136/131"].iloc[0]
    assert shahed["destroyed"] == 270
    assert shahed["revisions"] == 1
    assert len(frame) == 3


def test_bad_rows_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    repository = HistoryRepository.in_memory()
    summary = import_attacks(
        repository,
        write(
            tmp_path / "bad.csv",
            "2025-07-04 02:00,2025-07-04 06:00,Iskander-K,,Ukraine,4,2,kpszsu/1",
            "soon,2025-07-04 06:00,Iskander-K,,Ukraine,4,2,kpszsu/2",
            "2025-07-04 06:00,2025-07-04 02:00,Iskander-K,,Ukraine,4,2,kpszsu/3",
            "2025-07-04 02:00,2025-07-04 06:00,Iskander-K,,Ukraine,four,2,kpszsu/4",
            "2025-07-04 02:00,2025-07-04 06:00,Iskander-K,,Ukraine,4,2,kpszsu/1",
            "2025-07-04 02:00,2025-07-04 06:00,Iskander-K,,Ukraine,5,2,kpszsu/1",
            "2025-10-26 03:30,2025-10-26 05:00,Shahed-136/131,,Ukraine,10,9,kpszsu/5",
        ),
    )
    assert summary.accounted == summary.rows_read == 7
    assert (summary.imported, summary.duplicates) == (2, 1)
    reasons = {r.line: r.reason for r in summary.rejected}
    assert reasons == {
        3: "time_start 'soon' is not a date or a date and time",
        4: "time_end '2025-07-04 02:00' is before time_start '2025-07-04 06:00'",
        5: "launched 'four' is not a whole number",
        7: "same row as line 2 but with other values",
    }
    assert summary.notes == (
        "line 8: 2025-10-26 03:30 occurs twice in Kyiv; read as summer time (+03:00)",
    )


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("Shahed-136/131", WeaponClass.UAV),
        ("Iskander-M and Iskander-K", WeaponClass.MIXED_MISSILE),
        ("X-101/X-555 and Kalibr and Iskander-M/KN-23", WeaponClass.MIXED_MISSILE),
        ("Orlan-10 and ZALA", WeaponClass.UAV),
        ("Aerial Bomb", WeaponClass.GUIDED_BOMB),
        ("Картограф", WeaponClass.UAV),
        ("Iskander-K", WeaponClass.CRUISE_MISSILE),
        ("Shahed-136/131 and Iskander-M", WeaponClass.UNKNOWN),
        ("Something new", WeaponClass.UNKNOWN),
    ],
)
def test_weapon_classes_fall_back_for_models_missing_from_the_table(
    weapons: WeaponTable, model: str, expected: WeaponClass
) -> None:
    assert weapons.classify(model) is expected


def test_the_table_decides_over_the_rules(weapons: WeaponTable) -> None:
    assert weapons.classify("Unknown Missile") is WeaponClass.CRUISE_MISSILE
    assert WeaponTable().classify("Unknown Missile") is WeaponClass.MIXED_MISSILE
    assert len(weapons) == 64


def test_launches_during_an_alert(attacks_repository: HistoryRepository) -> None:
    frame = attacks_repository.attacks_frame()
    # Kyiv's alert from 21:22 to 22:05 UTC on 2025-07-03 covers the Kinzhal (21:20-21:30 UTC)
    # and the all-night Shahed wave, not the Iskanders from 23:00 UTC.
    answer = during(frame, utc_ms(2025, 7, 3, 21, 22), utc_ms(2025, 7, 3, 22, 5))
    models = sorted(r["model"] for r in answer["rows"])
    assert models == ["Shahed-136/131", "X-47 Kinzhal"]
    assert answer["drones"]["launched"] == 539
    assert answer["missiles"]["launched"] == 1
    with_days = during(frame, utc_ms(2025, 7, 3, 21, 22), utc_ms(2025, 7, 3, 22, 5), whole_day=True)
    assert len(with_days["rows"]) > len(answer["rows"])


def test_records_are_the_largest_nights(attacks_repository: HistoryRepository) -> None:
    frame = attacks_repository.attacks_frame()
    table = per_night(frame)
    top = records(frame, "drones_launched", 3)["rows"]
    assert [r["drones_launched"] for r in top] == sorted(table["drones_launched"], reverse=True)[:3]
    assert table.loc["2025-07-04", "drones_launched"] == 539
    with pytest.raises(ValueError, match="by: one of"):
        records(frame, "weight")
