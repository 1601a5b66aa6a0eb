"""
The surveillance feed: the noisy, late and incomplete reports a radar picture gives.

Drones and cruise missiles are seen only inside the coverage area (the alert units'
outline widened by `coverage_km`), from a detection delay after they enter it; ballistic
threats are seen from a delay after launch. Reports come at random intervals, some are
lost, each is delivered after a random delay, and positions carry Rayleigh-distributed
errors whose 95 % radius is the report's stated precision. A shot-down or arrived threat
gets a final `destroyed`/`impact` report; a lost one may get a `lost` report, then silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from tryvoha.core.engine.projection import Projection, course_between
from tryvoha.core.engine.tracks import ImpactArea, TrackReport, TrackStatus
from tryvoha.core.model import ThreatClass
from tryvoha.sim.generator import TruePath
from tryvoha.sim.scenario import Fate, FeedParams, Scenario

Floats = npt.NDArray[np.float64]
RAYLEIGH_95 = 2.4477
"""The 95 % radius of a 2-D normal error is this many standard deviations."""
SCAN_STEP_S = 5.0


@dataclass(frozen=True, slots=True)
class Delivery:
    received_at: float
    """POSIX seconds when the report reaches the engine."""
    report: TrackReport


def coverage_area(outline: BaseGeometry, scenario: Scenario) -> BaseGeometry:
    """Where the feed sees drones: the units' outline (plane) widened by `coverage_km`."""
    coarse = shapely.simplify(outline, 2000.0)
    area = shapely.buffer(coarse, scenario.coverage_km * 1000.0, quad_segs=4)
    shapely.prepare(area)
    return area


def reports_for(
    paths: list[TruePath],
    scenario: Scenario,
    coverage: BaseGeometry,
    projection: Projection,
    rng: np.random.Generator,
) -> list[Delivery]:
    """Every delivery of every path, in the order they reach the engine."""
    deliveries: list[Delivery] = []
    for path in paths:
        deliveries.extend(
            _path_reports(path, scenario.feed[path.threat_class], coverage, projection, rng)
        )
    deliveries.sort(key=lambda d: (d.received_at, d.report.time, d.report.track_id))
    return deliveries


def _path_reports(
    path: TruePath,
    params: FeedParams,
    coverage: BaseGeometry,
    projection: Projection,
    rng: np.random.Generator,
) -> list[Delivery]:
    ballistic = path.threat_class is ThreatClass.BALLISTIC_MISSILE
    seen_until = path.lost_at if path.lost_at is not None else path.ended_at
    if ballistic:
        first = path.launched_at + rng.uniform(*params.detect_s)
    else:
        entered = _first_covered(path, coverage, seen_until)
        if entered is None:
            return []
        first = entered + rng.uniform(*params.detect_s)
    times = _report_times(first, seen_until, params, rng)
    if not ballistic and times.size:
        x, y = path.position(times)
        times = times[shapely.contains_xy(coverage, x, y)]
    times = times[rng.uniform(size=times.size) >= params.drop]
    statuses = [TrackStatus.ACTIVE] * times.size
    final = _final_status(path, params, rng)
    if final is not None:
        status, at = final
        times = np.append(times, at)
        statuses.append(status)
    if times.size == 0:
        return []
    reports = _reports(path, times, statuses, params, first, projection, rng)
    delays = rng.uniform(*params.delay_s, times.size)
    return [Delivery(float(t + d), r) for t, d, r in zip(times, delays, reports, strict=True)]


def _first_covered(path: TruePath, coverage: BaseGeometry, until: float) -> float | None:
    scan = np.arange(path.launched_at, until + SCAN_STEP_S, SCAN_STEP_S)
    x, y = path.position(scan)
    inside = np.flatnonzero(shapely.contains_xy(coverage, x, y))
    return float(scan[inside[0]]) if inside.size else None


def _report_times(
    first: float, until: float, params: FeedParams, rng: np.random.Generator
) -> Floats:
    if first >= until:
        return np.empty(0)
    count = int((until - first) / max(params.interval_s[0], 1.0)) + 2
    steps = rng.uniform(*params.interval_s, count)
    times = first + np.concatenate([[0.0], np.cumsum(steps)])
    within: Floats = times[times < until]
    return within


def _final_status(
    path: TruePath, params: FeedParams, rng: np.random.Generator
) -> tuple[TrackStatus, float] | None:
    if path.fate is Fate.IMPACT:
        return TrackStatus.IMPACT, path.ended_at
    if path.fate is Fate.DESTROYED:
        return TrackStatus.DESTROYED, path.ended_at
    assert path.lost_at is not None
    if rng.uniform() < params.lost_report:
        return TrackStatus.LOST, path.lost_at
    return None


def _reports(
    path: TruePath,
    times: Floats,
    statuses: list[TrackStatus],
    params: FeedParams,
    first: float,
    projection: Projection,
    rng: np.random.Generator,
) -> list[TrackReport]:
    n = times.size
    x, y = path.position(times)
    precision = rng.uniform(*params.precision_m, n)
    sigma = precision / RAYLEIGH_95
    lon, lat = projection.inverse(x + rng.normal(0, 1, n) * sigma, y + rng.normal(0, 1, n) * sigma)
    heading = path.heading(times)
    true_lon, true_lat = projection.inverse(x, y)
    ahead_lon, ahead_lat = projection.inverse(
        x + 1000 * np.cos(heading), y + 1000 * np.sin(heading)
    )
    course = (
        course_between(true_lon, true_lat, ahead_lon, ahead_lat)
        + rng.normal(0, params.course_sd_deg, n)
    ) % 360.0
    speed = np.maximum(0.0, path.speed_mps + rng.normal(0, params.speed_sd_mps, n))
    missing = rng.uniform(size=n) < params.course_missing
    impacts = _impacts(path, times, params, first, projection, rng)
    return [
        TrackReport(
            track_id=path.threat_id,
            threat_class=path.threat_class,
            lat=round(float(lat[i]), 5),
            lon=round(float(lon[i]), 5),
            time=datetime.fromtimestamp(round(float(times[i]), 3), UTC),
            precision_m=round(float(precision[i])),
            status=statuses[i],
            course_deg=None if missing[i] else round(float(course[i]), 1),
            speed_mps=None if missing[i] else round(float(speed[i]), 1),
            impact=impacts[i],
        )
        for i in range(n)
    ]


def _impacts(
    path: TruePath,
    times: Floats,
    params: FeedParams,
    first: float,
    projection: Projection,
    rng: np.random.Generator,
) -> list[ImpactArea | None]:
    if path.threat_class is not ThreatClass.BALLISTIC_MISSILE:
        return [None] * times.size
    start = first + params.predict_after_s
    flight = max(path.ended_at - start, 1.0)
    progress = np.clip((times - start) / flight, 0.0, 1.0)
    radius = (
        params.impact_radius_m[0]
        + (params.impact_radius_m[1] - params.impact_radius_m[0]) * progress
    )
    sigma = radius / RAYLEIGH_95
    n = times.size
    px = path.x[-1] + rng.normal(0, 1, n) * sigma
    py = path.y[-1] + rng.normal(0, 1, n) * sigma
    lon, lat = projection.inverse(px, py)
    return [
        ImpactArea(
            lat=round(float(lat[i]), 5),
            lon=round(float(lon[i]), 5),
            radius_m=round(float(radius[i])),
        )
        if times[i] >= start
        else None
        for i in range(n)
    ]
