"""
Track reports: what a surveillance feed says about one threat at one moment.

The wire shape (JSON object, also the CSV/JSON-lines columns of simulator output):

    {"track_id": "T0042", "class": "shahed", "lat": 50.45, "lon": 30.52,
     "time": "2025-07-03T21:22:00.000Z", "precision_m": 2000, "status": "active",
     "course_deg": 270.0, "speed_mps": 45.0,
     "impact": {"lat": 50.4, "lon": 30.5, "radius_m": 5000}}

`course_deg`, `speed_mps` and `impact` are optional. `parse_report()` checks one object and
returns either a `TrackReport` or the list of everything wrong with it, so a batch can apply
its good reports and answer each bad one with reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tryvoha.core.codec import format_time, parse_time
from tryvoha.core.engine.config import EngineConfig
from tryvoha.core.model import ThreatClass

MAX_TRACK_ID = 64
MAX_PRECISION_M = 100_000.0
MAX_IMPACT_RADIUS_M = 300_000.0
SPEED_TOLERANCE = 2.0
"""A reported speed above this multiple of the class's top speed means a wrong class."""


class TrackStatus(StrEnum):
    ACTIVE = "active"
    LOST = "lost"
    DESTROYED = "destroyed"
    IMPACT = "impact"

    @property
    def ends_track(self) -> bool:
        return self in (TrackStatus.DESTROYED, TrackStatus.IMPACT)


_CLASS_VALUES = frozenset(c.value for c in ThreatClass)
_STATUS_VALUES = frozenset(s.value for s in TrackStatus)


@dataclass(frozen=True, slots=True)
class ImpactArea:
    """Where a ballistic threat is predicted to come down."""

    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class TrackReport:
    track_id: str
    threat_class: ThreatClass
    lat: float
    lon: float
    time: datetime
    precision_m: float
    status: TrackStatus = TrackStatus.ACTIVE
    course_deg: float | None = None
    speed_mps: float | None = None
    impact: ImpactArea | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    reasons: tuple[str, ...]


def report_to_dict(report: TrackReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "track_id": report.track_id,
        "class": report.threat_class.value,
        "lat": report.lat,
        "lon": report.lon,
        "time": format_time(report.time),
        "precision_m": report.precision_m,
        "status": report.status.value,
        "course_deg": report.course_deg,
        "speed_mps": report.speed_mps,
        "impact": None,
    }
    if report.impact is not None:
        data["impact"] = {
            "lat": report.impact.lat,
            "lon": report.impact.lon,
            "radius_m": report.impact.radius_m,
        }
    return data


def parse_report(data: object, *, now: datetime, config: EngineConfig) -> TrackReport | Rejection:
    """
    Check one report against the wire shape, value ranges and the clock *now*.
    """
    if not isinstance(data, Mapping):
        return Rejection(("a report must be a JSON object",))
    reasons: list[str] = []
    track_id = data.get("track_id")
    if not isinstance(track_id, str) or not 0 < len(track_id.strip()) <= MAX_TRACK_ID:
        reasons.append(f"track_id: must be a non-empty string of at most {MAX_TRACK_ID}")
        track_id = None
    threat_class = _threat_class(data.get("class"), reasons)
    lat = _number(data, "lat", reasons, low=-90.0, high=90.0)
    lon = _number(data, "lon", reasons, low=-180.0, high=180.0)
    precision = _number(data, "precision_m", reasons, low=0.0, high=MAX_PRECISION_M, open_low=True)
    course = _number(data, "course_deg", reasons, low=0.0, high=360.0, optional=True)
    speed = _number(data, "speed_mps", reasons, low=0.0, high=math.inf, optional=True)
    if speed is not None and threat_class is not None:
        top = config.params(threat_class).v_max * SPEED_TOLERANCE
        if speed > top:
            reasons.append(
                f"speed_mps: {speed:g} is implausible for {threat_class.value} "
                f"(at most {top:.0f}); report the class as unknown"
            )
    status = _status(data.get("status", TrackStatus.ACTIVE.value), reasons)
    time = _time(data.get("time"), now, config, reasons)
    impact = _impact(data.get("impact"), reasons)
    if reasons:
        return Rejection(tuple(reasons))
    assert track_id is not None and threat_class is not None and status is not None
    assert lat is not None and lon is not None and precision is not None and time is not None
    return TrackReport(
        track_id=track_id.strip(),
        threat_class=threat_class,
        lat=lat,
        lon=lon,
        time=time,
        precision_m=precision,
        status=status,
        course_deg=None if course is None else course % 360.0,
        speed_mps=speed,
        impact=impact,
    )


def _threat_class(value: object, reasons: list[str]) -> ThreatClass | None:
    if isinstance(value, str) and value in _CLASS_VALUES:
        return ThreatClass(value)
    known = ", ".join(c.value for c in ThreatClass)
    reasons.append(f"class: unknown threat class {value!r} (one of {known})")
    return None


def _status(value: object, reasons: list[str]) -> TrackStatus | None:
    if isinstance(value, str) and value in _STATUS_VALUES:
        return TrackStatus(value)
    known = ", ".join(s.value for s in TrackStatus)
    reasons.append(f"status: unknown status {value!r} (one of {known})")
    return None


def _number(
    data: Mapping[str, Any],
    key: str,
    reasons: list[str],
    *,
    low: float,
    high: float,
    optional: bool = False,
    open_low: bool = False,
) -> float | None:
    value = data.get(key)
    if value is None:
        if not optional:
            reasons.append(f"{key}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        reasons.append(f"{key}: must be a finite number, not {value!r}")
        return None
    number = float(value)
    below = number <= low if open_low else number < low
    if below or number > high:
        bracket = "(" if open_low else "["
        reasons.append(f"{key}: {number:g} is outside {bracket}{low:g}, {high:g}]")
        return None
    return number


def _time(
    value: object, now: datetime, config: EngineConfig, reasons: list[str]
) -> datetime | None:
    if not isinstance(value, str):
        reasons.append("time: required, an ISO 8601 time with offset")
        return None
    try:
        time = parse_time(value)
    except ValueError:
        reasons.append(f"time: not an ISO 8601 time with offset: {value!r}")
        return None
    ahead = (time - now).total_seconds()
    if ahead > config.future_tolerance_s:
        reasons.append(
            f"time: {ahead:.0f} s in the future (tolerance {config.future_tolerance_s:g} s)"
        )
        return None
    if now - time > timedelta(seconds=config.max_report_age_s):
        reasons.append(
            f"time: {(now - time).total_seconds():.0f} s old "
            f"(reports older than {config.max_report_age_s:g} s are stale)"
        )
        return None
    return time


def _impact(value: object, reasons: list[str]) -> ImpactArea | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reasons.append("impact: must be an object with lat, lon and radius_m")
        return None
    inner: list[str] = []
    lat = _number(value, "lat", inner, low=-90.0, high=90.0)
    lon = _number(value, "lon", inner, low=-180.0, high=180.0)
    radius = _number(value, "radius_m", inner, low=0.0, high=MAX_IMPACT_RADIUS_M, open_low=True)
    if inner:
        reasons.extend(f"impact.{reason}" for reason in inner)
        return None
    assert lat is not None and lon is not None and radius is not None
    return ImpactArea(lat=lat, lon=lon, radius_m=radius)
