"""
The issue's quality targets, on a reduced but real night (the full 2025-07-04 night is
scored by `tryvoha score 2025-07-04`, whose table is in docs/engine.md).
"""

from __future__ import annotations

from functools import cache

import pytest

from tests.sim.night_fixtures import reduced_night
from tryvoha.regions_io import load_bundled
from tryvoha.sim.engine_setup import engine_units, shipped_config
from tryvoha.sim.night import NightScores, score_night, simulate

CONFIG = shipped_config()


@cache
def scores() -> NightScores:
    registry = load_bundled()
    night = simulate(reduced_night(), engine_units(registry, CONFIG))
    return score_night(night, registry, CONFIG)


def test_no_missed_warning_for_threats_within_their_modelled_speed() -> None:
    engine = scores().overall["engine"]
    assert engine.encounters > 500
    assert engine.misses_within_speed == 0
    assert engine.unwarned_hromada_hours == 0


def test_at_least_99_percent_of_encounters_are_warned_in_time() -> None:
    engine = scores().overall["engine"]
    assert engine.timely_rate is not None and engine.timely_rate >= 0.99
    # Drones and cruise missiles are always in time; only ballistic flights are shorter
    # than the lead time, and those are alerted at once.
    assert engine.by_class["shahed"]["timely_rate"] == 1.0
    assert engine.by_class["cruise_missile"]["timely_rate"] == 1.0
    ballistic = engine.by_class["ballistic_missile"]
    assert ballistic["misses"] == 0
    # Alerted at detection, a few minutes before impact: the most the physics allows.
    assert ballistic["lead_time_median_s"] is not None and ballistic["lead_time_median_s"] > 180


def test_over_warning_is_at_most_half_the_oblast_wide_baseline() -> None:
    engine = scores().overall["engine"]
    oblast = scores().overall["oblast_wide"]
    assert oblast.misses == 0
    assert engine.over_warning_hromada_hours <= 0.5 * oblast.over_warning_hromada_hours
    assert engine.alerted_hromada_hours < oblast.alerted_hromada_hours


def test_kyiv_scores_compare_all_three_policies_on_the_same_areas() -> None:
    kyiv = scores().kyiv
    assert set(kyiv) == {"engine", "oblast_wide", "real_sirens"}
    areas = {score.areas for score in kyiv.values()}
    assert len(areas) == 1 and areas.pop() > 50
    assert kyiv["real_sirens"].intervals > 0
    assert (
        kyiv["engine"].encounters
        == kyiv["real_sirens"].encounters
        == pytest.approx(kyiv["oblast_wide"].encounters)
    )
