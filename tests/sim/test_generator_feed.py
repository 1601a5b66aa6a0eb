"""
Ground truth and the feed: reproducible from the seed, and true to the scenario.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tryvoha.core.engine.tracks import TrackStatus
from tryvoha.core.model import ThreatClass
from tryvoha.regions_io import load_bundled
from tryvoha.sim.engine_setup import engine_units, shipped_config
from tryvoha.sim.feed import RAYLEIGH_95
from tryvoha.sim.generator import generate
from tryvoha.sim.night import Night, simulate
from tryvoha.sim.scenario import Fate, Scenario, common_table, parse_scenario

UNITS = engine_units(load_bundled(), shipped_config())


def small() -> Scenario:
    groups = [
        {
            "name": "drones",
            "class": "shahed",
            "count": 24,
            "launch_from": {"kursk": 1, "bryansk": 1},
            "launch_start": "2025-07-03T20:00:00Z",
            "launch_end": "2025-07-03T20:30:00Z",
            "targets": {"sumy": 1, "chernihiv": 1},
            "speed_kmh": [150, 185],
            "doglegs": [1, 2],
            "fates": {"impact": 8, "destroyed": 8, "lost": 8},
        },
        {
            "name": "iskander",
            "class": "ballistic_missile",
            "count": 2,
            "launch_from": {"bryansk": 1},
            "launch_start": "2025-07-03T20:40:00Z",
            "launch_end": "2025-07-03T20:50:00Z",
            "targets": {"kyiv": 1},
            "speed_kmh": [4500, 6000],
            "doglegs": [0, 0],
            "fates": {"impact": 2},
        },
    ]
    table = {
        "name": "small",
        "start": "2025-07-03T19:50:00Z",
        "end": "2025-07-03T23:30:00Z",
        "seed": 7,
        "groups": groups,
    }
    return parse_scenario(table, common_table())


@cache
def night(seed: int = 7) -> Night:
    return simulate(small(), UNITS, seed)


def test_the_same_seed_gives_the_same_night() -> None:
    a, b = night(), simulate(small(), UNITS, 7)
    assert [p.threat_id for p in a.paths] == [p.threat_id for p in b.paths]
    for p, q in zip(a.paths, b.paths, strict=True):
        assert np.array_equal(p.t, q.t) and np.array_equal(p.x, q.x) and p.fate is q.fate
    assert [(d.received_at, d.report) for d in a.deliveries] == [
        (d.received_at, d.report) for d in b.deliveries
    ]


def test_another_seed_gives_another_night() -> None:
    other = simulate(small(), UNITS, 8)
    assert [p.x[0] for p in other.paths] != [p.x[0] for p in night().paths]


def test_paths_follow_the_scenario() -> None:
    paths = night().paths
    drones = [p for p in paths if p.threat_class is ThreatClass.SHAHED]
    assert len(drones) == 24
    assert sorted(p.fate.value for p in drones) == ["destroyed"] * 8 + ["impact"] * 8 + ["lost"] * 8
    for p in drones:
        assert 150 / 3.6 <= p.speed_mps <= 185 / 3.6
        legs = np.hypot(np.diff(p.x), np.diff(p.y)) / np.diff(p.t)
        assert np.allclose(legs, p.speed_mps)
    lost = [p for p in drones if p.fate is Fate.LOST]
    assert all(p.lost_at is not None and p.lost_at < p.ended_at for p in lost)
    missiles = [p for p in paths if p.threat_class is ThreatClass.BALLISTIC_MISSILE]
    assert all(p.t.size == 2 for p in missiles)


def test_reports_arrive_after_they_are_made_and_end_with_the_fate() -> None:
    deliveries = night().deliveries
    assert deliveries == sorted(deliveries, key=lambda d: d.received_at)
    assert all(d.received_at >= d.report.time.timestamp() for d in deliveries)
    paths = {p.threat_id: p for p in night().paths}
    last = {}
    for d in sorted(deliveries, key=lambda d: d.report.time):
        last[d.report.track_id] = d.report
    for track_id, report in last.items():
        fate = paths[track_id].fate
        expected = {Fate.IMPACT: TrackStatus.IMPACT, Fate.DESTROYED: TrackStatus.DESTROYED}
        if fate in expected:
            assert report.status is expected[fate]
        else:
            assert report.status in (TrackStatus.LOST, TrackStatus.ACTIVE)
            lost_at = paths[track_id].lost_at
            assert lost_at is not None
            assert report.time.timestamp() <= lost_at + 1e-3


def test_report_errors_match_the_stated_precision() -> None:
    n = night()
    paths = {p.threat_id: p for p in n.paths}
    ratios = []
    for d in n.deliveries:
        path = paths[d.report.track_id]
        if path.threat_class is not ThreatClass.SHAHED:
            continue
        x, y = path.position(d.report.time.timestamp())
        rx, ry = n.units.projection.forward(d.report.lon, d.report.lat)
        ratios.append(float(np.hypot(rx - x, ry - y)) / d.report.precision_m)
    # The precision is the 95 % radius of a Rayleigh-distributed error.
    assert np.mean(np.array(ratios) <= 1.0) == pytest.approx(0.95, abs=0.02)
    assert np.median(ratios) == pytest.approx(np.sqrt(2 * np.log(2)) / RAYLEIGH_95, abs=0.05)


def test_ballistic_reports_carry_impact_predictions() -> None:
    reports = [
        d.report
        for d in night().deliveries
        if d.report.threat_class is ThreatClass.BALLISTIC_MISSILE
    ]
    assert reports[0].impact is None
    predicted = [r for r in reports if r.impact is not None]
    assert predicted
    radii = [r.impact.radius_m for r in predicted if r.impact is not None]
    assert radii[0] > radii[-1]


def test_generation_uses_only_the_generator_it_is_given() -> None:
    scenario = small()
    a = generate(scenario, UNITS.projection, np.random.default_rng(3))
    np.random.seed(12345)
    b = generate(scenario, UNITS.projection, np.random.default_rng(3))
    assert [p.x.tolist() for p in a] == [p.x.tolist() for p in b]
