"""
Region boundaries as CAP polygons: closed, hole-free, simple, small, and faithful.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from tryvoha.core.cap import MAX_AREA_POINTS, CapPolygon, cap_polygons
from tryvoha.core.regions import RegionRegistry


def as_shape(polygons: tuple[CapPolygon, ...]) -> shapely.Geometry:
    return shapely.union_all([Polygon([(lon, lat) for lat, lon in p]) for p in polygons])


def assert_cap_polygon(polygon: CapPolygon) -> None:
    assert len(polygon) >= 4
    assert polygon[0] == polygon[-1]
    assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in polygon)
    assert Polygon([(lon, lat) for lat, lon in polygon]).is_valid


def test_every_region_boundary_becomes_valid_small_polygons(registry: RegionRegistry) -> None:
    for region in registry:
        geometry = registry.geometry(region.id)
        polygons = cap_polygons(geometry)
        if geometry is None:
            assert polygons == ()
            continue
        assert polygons, region.id
        for polygon in polygons:
            assert_cap_polygon(polygon)
        parts = len(getattr(geometry, "geoms", [geometry]))
        assert sum(len(p) for p in polygons) <= max(MAX_AREA_POINTS, 5 * parts), region.id


@pytest.mark.parametrize("region_id", ["14", "22", "31", "54", "155"])
def test_polygons_cover_the_region_closely(registry: RegionRegistry, region_id: str) -> None:
    geometry = registry.geometry(region_id)
    assert geometry is not None
    shape = as_shape(cap_polygons(geometry))
    # Simplification moves the border a little both ways; the area barely changes.
    assert shape.symmetric_difference(geometry).area / geometry.area < 0.03


def test_a_multipolygon_gives_one_polygon_per_part() -> None:
    parts = MultiPolygon([box(30, 50, 30.5, 50.5), box(31, 50, 31.5, 50.5)])
    polygons = cap_polygons(parts)
    assert len(polygons) == 2
    assert set(polygons[0]) == {(50.0, 30.0), (50.5, 30.0), (50.5, 30.5), (50.0, 30.5)}
    assert set(polygons[1]) == {(50.0, 31.0), (50.5, 31.0), (50.5, 31.5), (50.0, 31.5)}


def test_a_hole_is_cut_out_not_covered() -> None:
    ring = box(30, 50, 31, 51)
    holed = Polygon(ring.exterior.coords, [box(30.4, 50.4, 30.6, 50.6).exterior.coords])
    polygons = cap_polygons(holed)
    assert len(polygons) >= 2
    shape = as_shape(polygons)
    assert not shape.contains(Point(30.5, 50.5))
    assert shape.contains(Point(30.2, 50.2)) and shape.contains(Point(30.8, 50.8))
    assert abs(shape.area - holed.area) < 1e-9
    for polygon in polygons:
        assert_cap_polygon(polygon)


def test_a_sliver_too_thin_for_the_precision_becomes_its_box() -> None:
    sliver = Polygon([(30, 50), (30.00001, 50.00001), (30.00002, 50)])
    (polygon,) = cap_polygons(sliver)
    assert_cap_polygon(polygon)
    assert as_shape((polygon,)).contains(sliver)


def test_a_large_boundary_is_simplified_to_the_budget() -> None:
    circle = Point(30, 50).buffer(1.0, quad_segs=2000)
    assert len(circle.exterior.coords) > 5000
    polygons = cap_polygons(circle, max_points=100)
    assert sum(len(p) for p in polygons) <= 100
    assert abs(as_shape(polygons).area - circle.area) / circle.area < 0.01


def test_no_geometry_means_no_polygon() -> None:
    assert cap_polygons(None) == ()
    assert cap_polygons(Polygon()) == ()
