"""
Scoring on hand-built nights small enough to work out on paper.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.grid import T0, cell_id, grid_units, shipped_config
from tryvoha.core.model import ThreatClass
from tryvoha.sim.generator import TruePath
from tryvoha.sim.run import AlertLog
from tryvoha.sim.scenario import Fate
from tryvoha.sim.scoring import find_encounters, score, unit_intervals

CONFIG = shipped_config()
UNITS = grid_units(CONFIG, columns=range(6), rows=range(1))
START = T0.timestamp()
END = START + 3600


def flight(
    x0: float, x1: float, y: float, speed: float, threat: ThreatClass = ThreatClass.SHAHED
) -> TruePath:
    duration = (x1 - x0) / speed
    return TruePath(
        threat_id="T1",
        group="test",
        model="test",
        threat_class=threat,
        fate=Fate.IMPACT,
        speed_mps=speed,
        t=np.array([START, START + duration]),
        x=np.array([x0, x1]),
        y=np.array([y, y]),
    )


# Along y = 5 km at 50 m/s from x = -30 km to x = 25 km; danger radius 3 km, cells 10 km.
PATH = flight(-30_000.0, 25_000.0, 5_000.0, 50.0)


def index(i: int) -> int:
    return UNITS.index_of[cell_id(i, 0)]


def test_encounters_begin_and_end_at_the_danger_radius() -> None:
    found = sorted(
        find_encounters(UNITS, [PATH], CONFIG, start=START, end=END), key=lambda e: e.unit
    )
    assert [UNITS.ids[e.unit] for e in found] == [cell_id(0, 0), cell_id(1, 0), cell_id(2, 0)]
    expected = [(540, 860), (740, 1060), (940, 1100)]
    for encounter, (t_in, t_out) in zip(found, expected, strict=True):
        assert encounter.t_in - START == pytest.approx(t_in, abs=0.5)
        assert encounter.t_out - START == pytest.approx(t_out, abs=0.5)


def test_a_ballistic_threat_counts_only_where_it_comes_down() -> None:
    missile = flight(-30_000.0, 52_000.0, 5_000.0, 2_000.0, ThreatClass.BALLISTIC_MISSILE)
    found = find_encounters(UNITS, [missile], CONFIG, start=START, end=END)
    # It flew over cells 0 to 4 and came down in cell 5, 2 km from cell 4 (radius 5 km).
    assert sorted(UNITS.ids[e.unit] for e in found) == [cell_id(4, 0), cell_id(5, 0)]
    assert all(e.t_in == e.t_out == missile.ended_at for e in found)


def night_log() -> AlertLog:
    log = AlertLog(START, END)
    for i, spans in {
        0: [(100, 1000)],
        1: [(500, 800)],
        5: [(0, 600)],
        4: [(1000, 1100), (1300, 1400)],
    }.items():
        for on, off in spans:
            log.add(cell_id(i, 0), START + on, START + off)
    return log


def test_the_metrics_of_a_small_night() -> None:
    encounters = find_encounters(UNITS, [PATH], CONFIG, start=START, end=END)
    result = score("test", UNITS, [PATH], encounters, night_log(), CONFIG, slack_s=300)
    assert result.encounters == 3
    assert result.misses == 1  # cell 2 never alerted
    assert result.late == 1  # cell 1: alerted 240 s ahead, needs 360
    assert result.timely_rate == pytest.approx(1 / 3, abs=1e-3)
    assert result.lead_time_mean_s == pytest.approx(340, abs=1)
    assert result.lead_time_median_s == pytest.approx(340, abs=1)
    assert result.lead_time_p5_s == pytest.approx(250, abs=1)
    # Cell 0 stays on 140 s after the threat left; cell 1 ends 260 s before it left.
    assert result.departure_mean_s == pytest.approx(-60, abs=1)
    assert result.intervals == 5
    assert result.false_alarms == 3
    assert result.false_alarm_ratio == pytest.approx(0.6)
    assert result.csi == pytest.approx(2 / 6, abs=1e-3)
    # Outside [t_in - 360 - 300, t_out]: 140 s (cell 0) + 600 s (cell 5) + 200 s (cell 4).
    assert result.over_warning_hromada_hours == pytest.approx(940 / 3600, abs=0.05)
    assert result.over_warning_km2_hours == pytest.approx(940 / 3600 * 100, rel=0.02)
    assert result.alerted_hromada_hours == pytest.approx(2000 / 3600, abs=0.05)
    assert result.efficiency == pytest.approx(1060 / 2000, abs=1e-3)
    assert result.unwarned_hromada_hours == pytest.approx(420 / 3600, abs=0.005)
    assert result.churn_per_area_hour == pytest.approx(10 / 6, abs=1e-3)
    assert result.flaps == 1
    assert result.by_class["shahed"]["encounters"] == 3


def test_a_perfect_policy_has_no_misses_and_no_over_warning() -> None:
    encounters = find_encounters(UNITS, [PATH], CONFIG, start=START, end=END)
    log = AlertLog(START, END)
    for e in encounters:
        log.add(UNITS.ids[e.unit], e.t_in - 400, e.t_out)
    result = score("ideal", UNITS, [PATH], encounters, log, CONFIG)
    assert (result.misses, result.late, result.false_alarms) == (0, 0, 0)
    assert result.timely_rate == 1.0
    assert result.over_warning_hromada_hours == 0
    assert result.efficiency == 1.0


def test_an_alert_on_a_parent_region_covers_its_units() -> None:
    log = AlertLog(START, END)
    log.add("r0_0", START + 10, START + 20)
    spans = unit_intervals(UNITS, log)
    covered = {UNITS.ids[u] for u, s in enumerate(spans) if s}
    assert covered == {cell_id(i, 0) for i in range(5)}
    assert spans[index(0)] == [(START + 10, START + 20)]


def test_scores_are_limited_to_the_scope() -> None:
    encounters = find_encounters(UNITS, [PATH], CONFIG, start=START, end=END)
    result = score(
        "test", UNITS, [PATH], encounters, night_log(), CONFIG, scope=[index(0)], scope_name="one"
    )
    assert (result.areas, result.encounters, result.misses, result.intervals) == (1, 1, 0, 1)
    assert result.scope == "one"
