"""
Where a message applies: a region with its parents, and its boundary as CAP polygons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from tryvoha.core.cap.model import CapError, CapPolygon
from tryvoha.core.model import Region
from tryvoha.core.regions import RegionRegistry

MAX_AREA_POINTS = 300
"""Polygon points per area, all parts together; larger boundaries are simplified."""


@dataclass(frozen=True, slots=True)
class Place:
    """
    The region a message is about, with its parents (nearest first) and CAP polygons.
    """

    region: Region
    lineage: tuple[Region, ...] = ()
    polygons: tuple[CapPolygon, ...] = ()


def place_of(registry: RegionRegistry, region_id: str, *, with_polygons: bool = True) -> Place:
    region = registry.get(region_id)
    lineage = tuple(registry.get(a) for a in registry.ancestors(region_id))
    polygons = cap_polygons(registry.geometry(region_id)) if with_polygons else ()
    return Place(region, lineage, polygons)


_TOLERANCES = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064)
_DECIMALS = 4


def cap_polygons(
    geometry: BaseGeometry | None, max_points: int = MAX_AREA_POINTS
) -> tuple[CapPolygon, ...]:
    """
    A region's boundary as CAP polygons: closed `(lat, lon)` rings without holes or
    self-intersections, simplified until all of them together have at most *max_points*.

    CAP polygons cannot have holes, so a region with an enclave (Kyiv oblast around Kyiv)
    is cut into hole-free pieces rather than covering the enclave too.
    """
    if geometry is None or geometry.is_empty:
        return ()
    rings: list[CapPolygon] = []
    for tolerance in _TOLERANCES:
        simplified = shapely.simplify(geometry, tolerance, preserve_topology=True)
        rings = [_ring(part) for part in _hole_free_parts(simplified)]
        if sum(len(r) for r in rings) <= max_points:
            break
    return tuple(rings)


def _polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry] if geometry.area > 0 else []
    return [p for part in getattr(geometry, "geoms", ()) for p in _polygons_of(part)]


def _hole_free_parts(geometry: BaseGeometry) -> list[Polygon]:
    parts: list[Polygon] = []
    pending = _polygons_of(geometry)
    while pending:
        polygon = pending.pop(0)
        if not polygon.interiors:
            parts.append(polygon)
            continue
        # A vertical cut through a hole opens it on both sides; each piece has fewer holes.
        cut = polygon.interiors[0].centroid.x
        minx, miny, maxx, maxy = polygon.bounds
        sides = (box(minx - 1, miny - 1, cut, maxy + 1), box(cut, miny - 1, maxx + 1, maxy + 1))
        pieces = [p for side in sides for p in _polygons_of(polygon.intersection(side))]
        if any(len(p.interiors) >= len(polygon.interiors) for p in pieces):
            parts.append(Polygon(polygon.exterior))  # a degenerate cut: cover the holes too
        else:
            pending.extend(pieces)
    return parts


def _ring(polygon: Polygon) -> CapPolygon:
    points: list[tuple[float, float]] = []
    for lon, lat in polygon.exterior.coords:
        point = (round(lat, _DECIMALS), round(lon, _DECIMALS))
        if not points or points[-1] != point:
            points.append(point)
    if points[0] != points[-1]:
        points.append(points[0])
    # Rounding can fold a narrow neck onto itself; a box is a safe, slightly larger stand-in.
    if len(points) < 4 or not Polygon([(lon, lat) for lat, lon in points]).is_valid:
        return _envelope(polygon)
    return tuple(points)


def _envelope(polygon: Polygon) -> CapPolygon:
    scale = 10**_DECIMALS
    minx, miny, maxx, maxy = polygon.bounds
    south, west = math.floor(miny * scale) / scale, math.floor(minx * scale) / scale
    north, east = math.ceil(maxy * scale) / scale, math.ceil(maxx * scale) / scale
    if north == south:
        north = round(north + 1 / scale, _DECIMALS)
    if east == west:
        east = round(east + 1 / scale, _DECIMALS)
    return ((south, west), (north, west), (north, east), (south, east), (south, west))


# -- the text of a CAP <polygon> element ----------------------------------------------


def _coordinate(value: float) -> str:
    return f"{value:.{_DECIMALS}f}".rstrip("0").rstrip(".")


def polygon_text(polygon: CapPolygon) -> str:
    return " ".join(f"{_coordinate(lat)},{_coordinate(lon)}" for lat, lon in polygon)


def parse_polygon(text: str) -> CapPolygon:
    points: list[tuple[float, float]] = []
    for pair in text.split():
        lat, comma, lon = pair.partition(",")
        try:
            points.append((float(lat), float(lon)))
        except ValueError:
            raise CapError(f"not a lat,lon pair: {pair!r}") from None
        if not comma:
            raise CapError(f"not a lat,lon pair: {pair!r}")
    return tuple(points)
