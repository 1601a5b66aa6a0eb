"""
Earliest arrival per (track, unit): the guaranteed lower bound of DESIGN §6.

A threat reported at `t_report` cannot be within the danger radius of a unit before

    eta = t_report + max(0, distance(position, unit) - offset) / v_max

where `offset` holds the position error, the danger radius, the polygon simplification and
any stand-off reach. Times are POSIX seconds; nothing here reads the clock.

`reachable()` finds the units a track can reach within their lead time plus the margin
plus `travel_s` more seconds: candidates from the STRtree's bounding boxes, pruned with cheap
distance bounds, then exact distances. A unit whose point inside lies within the
heading-free disk qualifies from the report on whatever its exact distance, so its arrival
is taken from the lower bound instead (earlier, never later; `WarningEngine` recomputes
the exact one for the arrival it announces). With corridor polygons, units beyond the
heading-free disk must also touch the corridor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from tryvoha.core.engine.units import AlertUnits

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class Pairs:
    """Parallel arrays: which query row, which unit, and the earliest arrival there."""

    row: Ints
    unit: Ints
    eta: Floats

    @classmethod
    def empty(cls) -> Pairs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))


@dataclass(frozen=True, slots=True)
class Positions:
    """Query rows: plane positions, report times (s), offsets (m) and top speeds (m/s)."""

    x: Floats
    y: Floats
    t_report: Floats
    offset: Floats
    v_max: Floats

    def eta(self, rows: Ints, distance: Floats) -> Floats:
        gap = np.maximum(0.0, distance - self.offset[rows])
        arrival: Floats = self.t_report[rows] + gap / self.v_max[rows]
        return arrival


def reachable(
    units: AlertUnits,
    at: Positions,
    travel_s: Floats,
    margin_s: float,
    corridors: Objects | None = None,
) -> Pairs:
    """
    For each row, the units within `offset + v_max x (lead + margin + travel)` of it; with
    *corridors*, those beyond `offset + v_max x (lead + margin)` must also intersect the
    row's corridor (units needing extra lead are always taken heading-free).
    """
    if at.x.size == 0:
        return Pairs.empty()
    radius = at.offset + at.v_max * (units.base_lead_s + margin_s + travel_s)
    boxes = shapely.box(at.x - radius, at.y - radius, at.x + radius, at.y + radius)
    rows, found = units.tree.query(boxes)
    if units.special.size:
        general = ~units.is_special[found]
        rows, found = rows[general], found[general]
        extra_rows = np.repeat(np.arange(at.x.size), units.special.size)
        extra_units = np.tile(units.special, at.x.size)
        rows = np.concatenate([rows, extra_rows])
        found = np.concatenate([found, extra_units])
    near = at.offset[rows] + at.v_max[rows] * (units.lead_s[found] + margin_s)
    limit = near + at.v_max[rows] * travel_s[rows]
    bound = _lower_bound(units, at, rows, found)
    keep = bound <= limit
    rows, found, near, limit, bound = rows[keep], found[keep], near[keep], limit[keep], bound[keep]
    sure = np.hypot(at.x[rows] - units.inner_x[found], at.y[rows] - units.inner_y[found]) <= near
    distance = bound.copy()
    exact = np.flatnonzero(~sure)
    points = shapely.points(at.x, at.y)
    distance[exact] = shapely.distance(points[rows[exact]], units.geoms[found[exact]])
    inside = distance <= limit
    if corridors is not None:
        ring = np.flatnonzero(inside & (distance > near) & ~units.is_special[found])
        if ring.size:
            touches = shapely.intersects(corridors[rows[ring]], units.geoms[found[ring]])
            inside[ring[~touches]] = False
    rows, found, distance = rows[inside], found[inside], distance[inside]
    return Pairs(rows.astype(np.int64), found.astype(np.int64), at.eta(rows, distance))


def exact_eta(units: AlertUnits, at: Positions, found: Ints) -> Floats:
    """The arrival of each row at its unit in *found*, from the exact distance."""
    rows = np.arange(at.x.size)
    distance = shapely.distance(shapely.points(at.x, at.y), units.geoms[found])
    return at.eta(rows, distance)


def _lower_bound(units: AlertUnits, at: Positions, rows: Ints, found: Ints) -> Floats:
    """A cheap lower bound of each pair's distance: to the unit's box and its circle."""
    px, py = at.x[rows], at.y[rows]
    dx = np.maximum(np.maximum(units.min_x[found] - px, px - units.max_x[found]), 0.0)
    dy = np.maximum(np.maximum(units.min_y[found] - py, py - units.max_y[found]), 0.0)
    circle = np.hypot(px - units.centre_x[found], py - units.centre_y[found])
    bound: Floats = np.maximum(np.hypot(dx, dy), circle - units.circumradius[found])
    return bound


def within_areas(units: AlertUnits, at: Positions, areas: Objects) -> Pairs:
    """
    Every unit each row's area (impact disk, cone) intersects, with arrivals from the row's
    position.
    """
    if areas.size == 0:
        return Pairs.empty()
    rows, found = units.tree.query(areas, predicate="intersects")
    distance = shapely.distance(shapely.points(at.x, at.y)[rows], units.geoms[found])
    return Pairs(rows.astype(np.int64), found.astype(np.int64), at.eta(rows, distance))
