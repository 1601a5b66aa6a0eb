"""
Scenario files: the shipped night, and errors that name what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tryvoha.core.model import ThreatClass
from tryvoha.sim.scenario import (
    Fate,
    ScenarioError,
    common_table,
    load_scenario,
    parse_scenario,
    shipped_names,
)


def test_the_shipped_night_has_the_recorded_threats_and_fates() -> None:
    scenario = load_scenario("2025-07-04")
    assert "2025-07-04" in shipped_names()
    by_model = {g.model: g for g in scenario.groups}
    shahed = by_model["Shahed-136/131"]
    assert shahed.count == 539
    assert shahed.threat_class is ThreatClass.SHAHED
    assert dict(shahed.fates) == {Fate.DESTROYED: 268, Fate.LOST: 208, Fate.IMPACT: 63}
    assert {k for k, _ in shahed.launch_from} == {
        "primorsko_akhtarsk",
        "kursk",
        "bryansk",
        "oryol",
        "millerovo",
        "shatalovo",
    }
    assert by_model["Iskander-M/KN-23"].count == 6
    assert by_model["Iskander-K"].count == 4
    assert dict(by_model["Iskander-K"].fates) == {Fate.DESTROYED: 2, Fate.IMPACT: 2}
    assert by_model["X-47 Kinzhal"].count == 1
    assert scenario.threat_count == 550
    # "Mostly toward Kyiv": Kyiv city alone carries more than half the targeting weight.
    weights = {p.key: w for p, w in scenario.target_weights(shahed.targets)}
    assert weights["kyiv"] > 0.5
    assert sum(weights.values()) == pytest.approx(1.0)


def minimal() -> dict[str, object]:
    return {
        "name": "tiny",
        "start": "2025-07-03T20:00:00Z",
        "end": "2025-07-03T23:00:00Z",
        "seed": 1,
        "groups": [
            {
                "name": "drones",
                "class": "shahed",
                "count": 3,
                "launch_from": {"kursk": 1},
                "launch_start": "2025-07-03T20:00:00Z",
                "launch_end": "2025-07-03T20:10:00Z",
                "targets": {"sumy": 1},
                "speed_kmh": [150, 180],
                "doglegs": [0, 1],
                "fates": {"impact": 2, "destroyed": 1},
            }
        ],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"end": "2025-07-03T19:00:00Z"}, "end must be after start", id="window"),
        pytest.param({"groups": []}, "no groups", id="no-groups"),
        pytest.param({"start": "21:00"}, "scenario.start: not an ISO 8601 time", id="bad-time"),
    ],
)
def test_scenario_errors_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({**minimal(), **change}, common_table())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"fates": {"impact": 1}}, "fates: add up to 1, not the count 3", id="fates"),
        pytest.param({"fates": {"vanished": 3}}, "unknown fate 'vanished'", id="fate-name"),
        pytest.param({"class": "ufo"}, "unknown threat class 'ufo'", id="class"),
        pytest.param({"launch_from": {"atlantis": 1}}, "unknown place 'atlantis'", id="place"),
        pytest.param({"speed_kmh": [200, 100]}, "speed_kmh: low is above high", id="speed"),
    ],
)
def test_group_errors_name_the_field(change: dict[str, object], message: str) -> None:
    data = minimal()
    data["groups"] = [{**data["groups"][0], **change}]  # type: ignore[index]
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data, common_table())


def test_a_scenario_file_can_add_its_own_places(tmp_path: Path) -> None:
    data = minimal()
    path = tmp_path / "mine.json"
    import json

    data["places"] = {"home": {"lat": 50.0, "lon": 30.0, "radius_km": 1}}
    data["groups"][0]["targets"] = {"home": 1}  # type: ignore[index]
    path.write_text(json.dumps(data))
    scenario = load_scenario(str(path))
    assert scenario.places["home"].lat == 50.0
    assert scenario.places["kyiv"].lat == pytest.approx(50.45)


def test_an_unknown_scenario_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="2025-07-04"):
        load_scenario("1999-01-01")
