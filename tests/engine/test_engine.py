"""
The warning engine on a synthetic grid: when it raises, holds and lifts, and for what.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.engine.grid import T0, cell_box, cell_id, grid_units, report, seconds, shipped_config
from tryvoha.core.engine import EngineConfig, EngineDecision, Mode, TrackReport, WarningEngine
from tryvoha.core.engine.tracks import TrackStatus
from tryvoha.core.model import ThreatClass

CONFIG = shipped_config()
UNITS = grid_units(CONFIG)
SHAHED = CONFIG.params(ThreatClass.SHAHED)
DANGER = SHAHED.danger_radius_m


def run(
    engine: WarningEngine,
    feed: dict[int, list[TrackReport]],
    until: int,
) -> tuple[dict[str, int], dict[str, int], list[EngineDecision]]:
    """Tick once a second from T0 to T0 + until; returns first raise and last lift times."""
    raised: dict[str, int] = {}
    lifted: dict[str, int] = {}
    decisions = []
    for k in range(until + 1):
        now = T0 + seconds(k)
        if k in feed:
            engine.ingest(feed[k], now)
        decision = engine.tick(now)
        decisions.append(decision)
        for change in decision.raised:
            raised.setdefault(change.region_id, k)
        for region_id in decision.lifted:
            lifted[region_id] = k
    return raised, lifted, decisions


def straight_feed(
    track_id: str, x0: float, y: float, speed: float, until: int, every: int = 15
) -> dict[int, list[TrackReport]]:
    return {
        k: [report(track_id, x0 + speed * k, y, T0 + seconds(k), speed=speed)]
        for k in range(0, until + 1, every)
    }


def test_threat_flying_at_a_unit_alerts_it_a_lead_time_ahead_and_lifts_after_it_passes() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    speed = 45.0
    y = 5_000.0
    start_x = -160_000.0
    until = 4 * 3600
    raised, lifted, _ = run(engine, straight_feed("T1", start_x, y, speed, until), until)
    crossed = [cell_id(i, 0) for i in range(-10, 10)]
    for i in range(-10, 10):
        x0, _, x1, _ = cell_box(i, 0)
        entry = (x0 - DANGER - start_x) / speed
        exit_ = (x1 + DANGER - start_x) / speed
        unit = cell_id(i, 0)
        assert unit in raised, f"{unit} was never alerted"
        assert entry - raised[unit] >= CONFIG.lead_time_s, f"{unit}: only {entry - raised[unit]} s"
        assert lifted[unit] > exit_, f"{unit} lifted before the threat left it"
    # The flight leaves the grid at x = 100 km; every cell it crossed is clear at the end.
    assert set(crossed) <= set(lifted)
    assert engine.alerted_units() == []


def test_units_far_to_the_side_of_a_straight_track_stay_quiet() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    raised, _, _ = run(engine, straight_feed("T1", -160_000.0, 5_000.0, 45.0, 3600), 3600)
    assert raised
    # The heading-free disk: position error + danger radius + padding + v_max x (lead + margin).
    reach = (
        500 * CONFIG.precision_factor
        + DANGER
        + CONFIG.simplify_m
        + SHAHED.v_max * (CONFIG.lead_time_s + CONFIG.margin_s)
    )
    for unit in raised:
        i, j = (int(v) for v in unit[1:].split("_"))
        _, y0, _, y1 = cell_box(i, j)
        gap = max(y0 - 5_000.0, 5_000.0 - y1, 0.0)
        assert gap <= reach + SHAHED.v_max * 30


def test_a_lost_track_widens_then_is_dropped_and_its_units_lift() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    feed = straight_feed("T1", -60_000.0, 5_000.0, 45.0, 600)
    feed[600] = [
        report("T1", -60_000.0 + 45.0 * 600, 5_000.0, T0 + seconds(600), status=TrackStatus.LOST)
    ]
    sizes = {}
    for k in range(600 + int(SHAHED.coast_s) + int(SHAHED.hold_s) + 10):
        now = T0 + seconds(k)
        if k in feed:
            engine.ingest(feed[k], now)
        engine.tick(now)
        sizes[k] = len(engine.alerted_units())
        if k == 601:
            assert engine.track_mode("T1") is Mode.REACH
    lost_at = 600
    assert sizes[lost_at + 300] > sizes[lost_at + 1] > 0
    assert engine.track_count == 0
    assert sizes[max(sizes)] == 0


def test_a_silent_track_stops_trusting_its_course() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    engine.ingest([report("T1", -50_000.0, 5_000.0, T0)], T0)
    engine.tick(T0)
    assert engine.track_mode("T1") is Mode.CORRIDOR
    engine.tick(T0 + seconds(SHAHED.stale_after_s + 1))
    assert engine.track_mode("T1") is Mode.REACH
    engine.tick(T0 + seconds(SHAHED.coast_s + 1))
    assert engine.track_mode("T1") is None


def test_a_destroyed_threat_ends_its_track_and_its_units_lift_after_the_hold() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    engine.ingest([report("T1", 5_000.0, 5_000.0, T0)], T0)
    first = engine.tick(T0)
    assert cell_id(0, 0) in {c.region_id for c in first.raised}
    engine.tick(T0 + seconds(10))
    engine.ingest(
        [report("T1", 5_000.0, 5_000.0, T0 + seconds(10), status=TrackStatus.DESTROYED)],
        T0 + seconds(10),
    )
    assert engine.track_count == 0
    assert not engine.tick(T0 + seconds(10 + SHAHED.hold_s - 1)).lifted
    assert cell_id(0, 0) in engine.tick(T0 + seconds(10 + SHAHED.hold_s + 1)).lifted


def test_a_ballistic_threat_alerts_its_predicted_impact_area_at_once() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    impact = (45_000.0, 25_000.0, 3_000.0)
    launch = report(
        "B1", -400_000.0, 0.0, T0, threat=ThreatClass.BALLISTIC_MISSILE, speed=2000.0, impact=impact
    )
    engine.ingest([launch], T0)
    decision = engine.tick(T0)
    alerted = {c.region_id for c in decision.raised}
    assert cell_id(4, 2) in alerted
    radius = (
        3_000.0 + CONFIG.params(ThreatClass.BALLISTIC_MISSILE).danger_radius_m + CONFIG.simplify_m
    )
    for unit in alerted:
        i, j = (int(v) for v in unit[1:].split("_"))
        x0, y0, x1, y1 = cell_box(i, j)
        gap = (
            (max(x0 - 45_000, 0, 45_000 - x1)) ** 2 + (max(y0 - 25_000, 0, 25_000 - y1)) ** 2
        ) ** 0.5
        assert gap <= radius * 1.02
    # Far from the impact point nothing is alerted, although the missile flies over it.
    assert cell_id(-10, 0) not in alerted
    threat = next(c.threat for c in decision.raised if c.region_id == cell_id(4, 2))
    assert threat is not None and threat.threat_class is ThreatClass.BALLISTIC_MISSILE


def test_a_ballistic_threat_without_an_impact_prediction_alerts_along_its_course() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    launch = report(
        "B1", -150_000.0, 5_000.0, T0, threat=ThreatClass.BALLISTIC_MISSILE, speed=2000.0
    )
    engine.ingest([launch], T0)
    alerted = {c.region_id for c in engine.tick(T0).raised}
    assert {cell_id(i, 0) for i in range(-10, 10)} <= alerted
    assert cell_id(-10, -5) not in alerted


def test_escalates_a_raion_once_most_of_it_is_alerted_and_releases_it_after() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=True)
    # Five threats hovering over raion r0_0 (cells 0..4 x 0..4).
    reports = [report(f"T{k}", 5_000.0 + 10_000.0 * k, 25_000.0, T0, course=None) for k in range(5)]
    engine.ingest(reports, T0)
    decision = engine.tick(T0)
    assert "r0_0" in {c.region_id for c in decision.raised}
    ended = [
        report(
            f"T{k}", 5_000.0 + 10_000.0 * k, 25_000.0, T0 + seconds(5), status=TrackStatus.DESTROYED
        )
        for k in range(5)
    ]
    engine.ingest(ended, T0 + seconds(5))
    lifted: set[str] = set()
    for k in range(6, 6 + int(SHAHED.hold_s + CONFIG.escalation.hold_s) + 5):
        lifted |= set(engine.tick(T0 + seconds(k)).lifted)
    assert "r0_0" in lifted


def test_without_escalation_no_raion_is_raised() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    reports = [report(f"T{k}", 5_000.0 + 10_000.0 * k, 25_000.0, T0, course=None) for k in range(5)]
    engine.ingest(reports, T0)
    assert not any(c.region_id.startswith("r") for c in engine.tick(T0).raised)


def test_alerts_carry_the_first_threat_and_update_when_it_can_come_much_earlier() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    target = cell_id(5, 0)
    raised = {}
    k = 0
    while target not in raised:
        now = T0 + seconds(k)
        if k % 15 == 0:
            engine.ingest([report("slow", -10_000.0 + 45.0 * k, 5_000.0, now)], now)
        raised.update({c.region_id: c.threat for c in engine.tick(now).raised})
        k += 1
    first = raised[target]
    assert first is not None and first.track_id == "slow"
    assert first.threat_class is ThreatClass.SHAHED and first.expected_arrival is not None
    assert first.expected_arrival > T0 + seconds(k)
    later = T0 + seconds(k)
    fast = report("fast", 20_000.0, 5_000.0, later, threat=ThreatClass.CRUISE_MISSILE, speed=250.0)
    engine.ingest([fast], later)
    updated = {c.region_id: c.threat for c in engine.tick(later).updated}
    threat = updated[target]
    assert threat is not None and threat.track_id == "fast"
    assert threat.threat_class is ThreatClass.CRUISE_MISSILE
    assert threat.expected_arrival is not None and threat.expected_arrival < first.expected_arrival


def test_reports_older_than_the_track_are_ignored_with_a_reason() -> None:
    engine = WarningEngine(UNITS, CONFIG)
    engine.ingest([report("T1", 0.0, 0.0, T0 + seconds(30))], T0 + seconds(30))
    outcomes = engine.ingest([report("T1", -1_000.0, 0.0, T0 + seconds(10))], T0 + seconds(31))
    assert outcomes == ["older than the last report of track 'T1'"]
    engine.ingest(
        [report("T1", 0.0, 0.0, T0 + seconds(40), status=TrackStatus.IMPACT)], T0 + seconds(40)
    )
    late = engine.ingest([report("T1", 0.0, 0.0, T0 + seconds(35))], T0 + seconds(41))
    assert late == ["track 'T1' already ended"]


def test_adopted_alerts_are_lifted_unless_fresh_reports_confirm_them() -> None:
    engine = WarningEngine(UNITS, CONFIG)
    foreign = engine.adopt([cell_id(0, 0), cell_id(-9, -4), "r0_0", "elsewhere"], T0)
    assert foreign == ["elsewhere"]
    engine.ingest([report("T1", 5_000.0, 5_000.0, T0 + seconds(60))], T0 + seconds(60))
    lifted: set[str] = set()
    for k in range(0, int(CONFIG.adopt_hold_s) + 5, 5):
        lifted |= set(engine.tick(T0 + seconds(60 + k)).lifted)
    assert cell_id(-9, -4) in lifted
    assert cell_id(0, 0) not in lifted


def test_a_released_alert_stays_quiet_until_its_threat_has_passed() -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    engine.ingest([report("T1", 5_000.0, 5_000.0, T0, course=None)], T0)
    assert cell_id(0, 0) in {c.region_id for c in engine.tick(T0).raised}
    engine.release([cell_id(0, 0)])
    for k in range(1, 30):
        engine.ingest(
            [report("T1", 5_000.0, 5_000.0, T0 + seconds(k), course=None)], T0 + seconds(k)
        )
        decision = engine.tick(T0 + seconds(k))
        assert cell_id(0, 0) not in {c.region_id for c in decision.raised}
    # The threat goes away, the hold runs out, and a new threat alerts the unit again.
    engine.ingest(
        [report("T1", 5_000.0, 5_000.0, T0 + seconds(30), status=TrackStatus.DESTROYED)],
        T0 + seconds(30),
    )
    engine.tick(T0 + seconds(30 + SHAHED.hold_s + 1))
    engine.ingest(
        [report("T2", 5_000.0, 5_000.0, T0 + seconds(600), course=None)], T0 + seconds(600)
    )
    assert cell_id(0, 0) in {c.region_id for c in engine.tick(T0 + seconds(600)).raised}


def test_same_reports_same_decisions() -> None:
    def decisions() -> list[tuple[list[str], list[str], list[str]]]:
        engine = WarningEngine(UNITS, CONFIG)
        feed = straight_feed("A", -120_000.0, 5_000.0, 45.0, 1800)
        for k, extra in straight_feed("B", -100_000.0, -25_000.0, 50.0, 1800, every=20).items():
            feed.setdefault(k, []).extend(extra)
        _, _, found = run(engine, feed, 1800)
        return [
            (
                [f"{c.region_id}@{c.threat}" for c in d.raised],
                [f"{c.region_id}@{c.threat}" for c in d.updated],
                list(d.lifted),
            )
            for d in found
        ]

    assert decisions() == decisions()


@pytest.mark.parametrize(
    ("threat", "speed"),
    [
        pytest.param(ThreatClass.SHAHED, 52.0, id="shahed-near-top-speed"),
        pytest.param(ThreatClass.JET_DRONE, 170.0, id="jet-drone"),
        pytest.param(ThreatClass.CRUISE_MISSILE, 275.0, id="cruise-missile"),
    ],
)
def test_threats_at_their_class_top_speed_are_still_warned_in_time(
    threat: ThreatClass, speed: float
) -> None:
    engine = WarningEngine(UNITS, CONFIG, escalate=False)
    params = CONFIG.params(threat)
    start_x = -100_000.0 - params.v_max * (CONFIG.lead_time_s + CONFIG.margin_s) - 20_000.0
    until = int((100_000.0 - start_x) / speed)
    feed = {
        k: [report("T", start_x + speed * k, 5_000.0, T0 + seconds(k), threat=threat, speed=speed)]
        for k in range(0, until, 10)
    }
    raised, _, _ = run(engine, feed, until)
    for i in range(-10, 10):
        x0 = cell_box(i, 0)[0]
        entry = (x0 - params.danger_radius_m - start_x) / speed
        assert entry - raised[cell_id(i, 0)] >= CONFIG.lead_time_s


def test_a_stream_of_threats_keeps_a_unit_alerted_instead_of_flapping() -> None:
    """Two drones 90 km apart on one route: one alert, unless the quiet window is off."""

    def intervals(config: EngineConfig) -> int:
        engine = WarningEngine(UNITS, config, escalate=False)
        feed = straight_feed("A", -100_000.0, 5_000.0, 45.0, 3 * 3600)
        for k, reports in straight_feed("B", -190_000.0, 5_000.0, 45.0, 3 * 3600).items():
            feed[k].extend(reports)
        _, _, decisions = run(engine, feed, 3 * 3600)
        return sum(cell_id(0, 0) in {c.region_id for c in d.raised} for d in decisions)

    assert intervals(CONFIG) == 1
    assert intervals(replace(CONFIG, min_quiet_s=0)) == 2
