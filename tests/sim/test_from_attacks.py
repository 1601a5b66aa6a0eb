"""
Scenarios built from the attacks register (read from ../shared/data when it is there).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.backends import require_shared_file
from tryvoha.core.model import ThreatClass
from tryvoha.sim.scenario import Fate, ScenarioError
from tryvoha.sim.scenario_from_attacks import read_attacks, rows_of_night, scenario_from_rows

ATTACKS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "attacks"
    / "missile_attacks_daily.csv"
)


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return read_attacks(require_shared_file(ATTACKS))


def test_the_night_of_4_july_2025_is_539_drones_and_11_missiles(rows):  # type: ignore[no-untyped-def]
    chosen = rows_of_night(rows, date(2025, 7, 4))
    scenario, table = scenario_from_rows(chosen, "attacks-2025-07-04", 20250704)
    counts = {g.model: g.count for g in scenario.groups}
    assert counts == {
        "Shahed-136/131": 539,
        "Iskander-M/KN-23": 6,
        "Iskander-K": 4,
        "X-47 Kinzhal": 1,
    }
    by_model = {g.model: g for g in scenario.groups}
    assert dict(by_model["Shahed-136/131"].fates) == {
        Fate.DESTROYED: 268,
        Fate.LOST: 208,
        Fate.IMPACT: 63,
    }
    assert by_model["Iskander-K"].threat_class is ThreatClass.CRUISE_MISSILE
    assert by_model["X-47 Kinzhal"].threat_class is ThreatClass.BALLISTIC_MISSILE
    assert {k for k, _ in by_model["Iskander-K"].launch_from} == {"kursk", "voronezh"}
    # Kyiv local 2025-07-03 18:00 is 15:00 UTC.
    assert by_model["Shahed-136/131"].launch_start.isoformat() == "2025-07-03T15:00:00+00:00"
    assert by_model["X-47 Kinzhal"].launch_start.isoformat() == "2025-07-03T21:20:00+00:00"
    assert dict(by_model["Shahed-136/131"].targets)["kyiv"] > 1
    assert table["seed"] == 20250704


def test_a_single_row_makes_a_scenario(rows):  # type: ignore[no-untyped-def]
    number = next(
        r.number
        for r in rows
        if r.model == "Iskander-K" and r.start.year == 2025 and r.launched == 4
    )
    scenario, _ = scenario_from_rows([rows[number - 1]], f"row-{number}", number)
    assert [g.count for g in scenario.groups] == [4]
    assert scenario.source.endswith(str(number))


def test_date_only_rows_are_left_out_of_a_night(rows):  # type: ignore[no-untyped-def]
    chosen = rows_of_night(rows, date(2025, 7, 4))
    assert not any(r.dated_only for r in chosen)
    assert any(r.dated_only and r.start.date() == date(2025, 7, 3) for r in rows)


def test_a_file_that_is_not_the_register_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ScenarioError, match="not the attacks register"):
        read_attacks(other)
