"""
Track reports: one checked at a time, every problem named.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.engine.grid import T0, shipped_config
from tryvoha.core.engine import Rejection, TrackReport, TrackStatus, parse_report, report_to_dict
from tryvoha.core.model import ThreatClass

CONFIG = shipped_config()


def raw(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "track_id": "T7",
        "class": "shahed",
        "lat": 50.4,
        "lon": 30.5,
        "time": "2025-07-03T20:59:50Z",
        "precision_m": 2000,
        "status": "active",
        "course_deg": 270,
        "speed_mps": 45,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_good_report_parses_and_round_trips() -> None:
    report = parse_report(
        raw(impact={"lat": 50.0, "lon": 30.0, "radius_m": 5000}), now=T0, config=CONFIG
    )
    assert isinstance(report, TrackReport)
    assert report.threat_class is ThreatClass.SHAHED
    assert report.time == T0 - timedelta(seconds=10)
    assert report.impact is not None and report.impact.radius_m == 5000
    again = parse_report(report_to_dict(report), now=T0, config=CONFIG)
    assert again == report


def test_course_and_speed_are_optional_and_the_status_defaults_to_active() -> None:
    report = parse_report(raw(course_deg=None, speed_mps=None, status=None), now=T0, config=CONFIG)
    assert isinstance(report, TrackReport)
    assert report.course_deg is None and report.speed_mps is None
    assert report.status is TrackStatus.ACTIVE


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"lat": 91}, "lat: 91 is outside [-90, 90]", id="lat"),
        pytest.param({"lon": -181}, "lon: -181 is outside [-180, 180]", id="lon"),
        pytest.param({"course_deg": 361}, "course_deg: 361 is outside [0, 360]", id="course"),
        pytest.param({"speed_mps": -1}, "speed_mps: -1 is outside [0, inf]", id="speed-negative"),
        pytest.param({"precision_m": 0}, "precision_m: 0 is outside (0, 100000]", id="precision"),
        pytest.param({"class": "balloon"}, "class: unknown threat class 'balloon'", id="class"),
        pytest.param({"status": "gone"}, "status: unknown status 'gone'", id="status"),
        pytest.param({"track_id": ""}, "track_id: must be a non-empty string", id="track"),
        pytest.param(
            {"time": "2025-07-03T21:00:11Z"},
            "time: 11 s in the future (tolerance 10 s)",
            id="future",
        ),
        pytest.param({"time": "2025-07-03T20:44:59Z"}, "time: 901 s old", id="stale"),
        pytest.param(
            {"time": "2025-07-03T21:00:00"}, "time: not an ISO 8601 time with offset", id="naive"
        ),
        pytest.param({"lat": "50.4"}, "lat: must be a finite number, not '50.4'", id="lat-text"),
        pytest.param({"lat": True}, "lat: must be a finite number, not True", id="lat-bool"),
        pytest.param({"speed_mps": 200}, "speed_mps: 200 is implausible for shahed", id="too-fast"),
        pytest.param({"impact": {"lat": 50}}, "impact.lon: required", id="impact"),
        pytest.param({"impact": [1, 2]}, "impact: must be an object", id="impact-shape"),
    ],
)
def test_each_problem_is_named(changes: dict[str, Any], reason: str) -> None:
    result = parse_report(raw(**changes), now=T0, config=CONFIG)
    assert isinstance(result, Rejection)
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_all_problems_of_a_report_are_named_at_once() -> None:
    result = parse_report(raw(lat=100, lon=200, **{"class": "x"}), now=T0, config=CONFIG)
    assert isinstance(result, Rejection)
    assert [r.split(":")[0] for r in result.reasons] == ["class", "lat", "lon"]


def test_a_report_must_be_an_object() -> None:
    assert parse_report([1], now=T0, config=CONFIG) == Rejection(
        ("a report must be a JSON object",)
    )
