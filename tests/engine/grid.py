"""
A synthetic map for engine tests: square 10 km cells in the engine's plane, grouped into
raions of 5 x 5 cells in one oblast, and functions that place reports in plane metres.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import numpy as np
import shapely

from tryvoha.core.engine import AlertUnits, EngineConfig, TrackReport, UnitSpec, parse_config
from tryvoha.core.engine.projection import Projection
from tryvoha.core.engine.tracks import ImpactArea, TrackStatus
from tryvoha.core.model import ThreatClass

CELL = 10_000.0
T0 = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)
PROJECTION = Projection()


def shipped_config() -> EngineConfig:
    text = resources.files("tryvoha.data").joinpath("engine.toml").read_text("utf-8")
    return parse_config(text)


def cell_id(i: int, j: int) -> str:
    return f"c{i}_{j}"


def cell_box(i: int, j: int) -> tuple[float, float, float, float]:
    return (i * CELL, j * CELL, (i + 1) * CELL, (j + 1) * CELL)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = PROJECTION.inverse(x, y)
    return float(lon), float(lat)


def grid_specs(columns: range, rows: range) -> list[UnitSpec]:
    specs = []
    for i in columns:
        for j in rows:
            x0, y0, x1, y1 = cell_box(i, j)
            ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            # Densify the edges so the lon/lat polygon follows the plane square closely.
            t = np.linspace(0.0, 1.0, 11)[:-1]
            points = [
                (a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s)
                for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
                for s in t
            ]
            lon, lat = PROJECTION.inverse([p[0] for p in points], [p[1] for p in points])
            specs.append(
                UnitSpec(
                    id=cell_id(i, j),
                    region_ids=(cell_id(i, j),),
                    geometry=shapely.Polygon(np.column_stack((lon, lat))),
                    raion_id=f"r{i // 5}_{j // 5}",
                    oblast_id="oblast",
                    lineage=(cell_id(i, j), f"r{i // 5}_{j // 5}", "oblast"),
                )
            )
    return specs


def grid_units(
    config: EngineConfig | None = None, columns: range = range(-10, 10), rows: range = range(-5, 5)
) -> AlertUnits:
    return AlertUnits(grid_specs(columns, rows), config or shipped_config(), PROJECTION)


def report(
    track_id: str,
    x: float,
    y: float,
    at: datetime,
    *,
    course: float | None = 90.0,
    threat: ThreatClass = ThreatClass.SHAHED,
    speed: float | None = 45.0,
    precision: float = 500.0,
    status: TrackStatus = TrackStatus.ACTIVE,
    impact: tuple[float, float, float] | None = None,
) -> TrackReport:
    lon, lat = to_lonlat(x, y)
    area = None
    if impact is not None:
        ilon, ilat = to_lonlat(impact[0], impact[1])
        area = ImpactArea(lat=ilat, lon=ilon, radius_m=impact[2])
    return TrackReport(
        track_id=track_id,
        threat_class=threat,
        lat=lat,
        lon=lon,
        time=at,
        precision_m=precision,
        status=status,
        course_deg=course,
        speed_mps=speed,
        impact=area,
    )


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
