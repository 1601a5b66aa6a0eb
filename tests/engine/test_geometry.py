"""
Corridors and arrival bounds, checked point by point and pair by pair.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.engine.grid import cell_id, grid_units, shipped_config
from tryvoha.core.engine.arrival import Positions, reachable
from tryvoha.core.engine.corridor import corridors, disks
from tryvoha.core.engine.projection import Projection, destination, great_circle_m

CONFIG = shipped_config()
UNITS = grid_units(CONFIG)


def one(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


CORRIDOR = corridors(
    one([0.0]), one([0.0]), one([0.0]), one([10_000.0]), one([50_000.0]), one([np.radians(20)])
)[0]


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        pytest.param(0, 0, True, id="position"),
        pytest.param(-9_900, 0, True, id="behind-within-near-disk"),
        pytest.param(-10_500, 0, False, id="behind-beyond-near-disk"),
        pytest.param(0, 9_900, True, id="beside"),
        pytest.param(50_000, 0, True, id="far-end"),
        pytest.param(50_000, 10_000 + 50_000 * np.tan(np.radians(20)) - 200, True, id="far-edge"),
        pytest.param(
            50_000, 10_000 + 50_000 * np.tan(np.radians(20)) + 500, False, id="past-far-edge"
        ),
        pytest.param(25_000, 25_000, False, id="off-course"),
        pytest.param(-30_000, 0, False, id="well-behind"),
    ],
)
def test_a_corridor_widens_along_the_course(x: float, y: float, inside: bool) -> None:
    assert CORRIDOR.intersects(shapely.Point(x, y)) is inside


def test_an_unknown_course_gives_a_disk_covering_every_direction() -> None:
    disk = corridors(
        one([0.0]), one([0.0]), one([np.nan]), one([10_000.0]), one([50_000.0]), one([0.3])
    )[0]
    for angle in np.linspace(0, 2 * np.pi, 12):
        assert disk.intersects(shapely.Point(59_000 * np.cos(angle), 59_000 * np.sin(angle)))


def test_polygon_disks_contain_the_true_disk() -> None:
    polygon = disks(one([0.0]), one([0.0]), one([1_000.0]))[0]
    for angle in np.linspace(0, 2 * np.pi, 100):
        assert polygon.covers(shapely.Point(999.9 * np.cos(angle), 999.9 * np.sin(angle)))
    assert polygon.area < np.pi * 1_000**2 * 1.02


def at(x: float, v: float = 50.0, offset: float = 1_000.0) -> Positions:
    return Positions(one([x]), one([5_000.0]), one([1000.0]), one([offset]), one([v]))


@pytest.mark.parametrize(
    ("x", "unit", "eta"),
    [
        # From x (plane metres) to the near edge of cell (i, 0), minus the 1 km offset, at 50 m/s.
        pytest.param(-5_000.0, cell_id(0, 0), 1000 + (5_000 - 1_000) / 50, id="ahead"),
        pytest.param(5_000.0, cell_id(0, 0), 1000.0, id="inside"),
        pytest.param(-5_000.0, cell_id(1, 0), 1000 + (15_000 - 1_000) / 50, id="two-ahead"),
        pytest.param(5_000.0, cell_id(-1, 0), 1000 + (5_000 - 1_000) / 50, id="behind"),
    ],
)
def test_earliest_arrival_is_distance_over_top_speed(x: float, unit: str, eta: float) -> None:
    pairs = reachable(UNITS, at(x), one([0.0]), CONFIG.margin_s)
    found = dict(zip((UNITS.ids[u] for u in pairs.unit), pairs.eta, strict=True))
    assert found[unit] == pytest.approx(eta, abs=0.5)


def test_only_units_within_reach_of_the_lead_time_are_kept() -> None:
    pairs = reachable(UNITS, at(5_000.0), one([0.0]), CONFIG.margin_s)
    limit = 1_000.0 + 50.0 * (CONFIG.lead_time_s + CONFIG.margin_s)
    for u in pairs.unit:
        assert shapely.distance(shapely.Point(5_000, 5_000), UNITS.geoms[u]) <= limit
    nearest_out = [
        u
        for u in range(len(UNITS))
        if u not in set(pairs.unit)
        and shapely.distance(shapely.Point(5_000, 5_000), UNITS.geoms[u]) <= limit
    ]
    assert nearest_out == []


def test_corridor_pairs_beyond_the_disk_must_touch_the_corridor() -> None:
    position = at(0.0)
    travel = one([600.0])
    near = position.offset + position.v_max * (CONFIG.lead_time_s + CONFIG.margin_s)
    shape = corridors(
        position.x, position.y, one([0.0]), near, position.v_max * travel, one([np.radians(10)])
    )
    with_corridor = {
        UNITS.ids[u] for u in reachable(UNITS, position, travel, CONFIG.margin_s, shape).unit
    }
    without = {UNITS.ids[u] for u in reachable(UNITS, position, travel, CONFIG.margin_s).unit}
    assert with_corridor < without
    # 23.5 km of heading-free reach, then 30 km more along the course.
    assert cell_id(4, 0) in with_corridor  # 40 km ahead, on the course
    assert cell_id(-4, 0) in without
    assert cell_id(-4, 0) not in with_corridor  # 30 km behind


def test_the_plane_keeps_distances() -> None:
    projection = Projection()
    lon = one([22.5, 40.0, 31.0, 24.0])
    lat = one([48.5, 49.5, 52.3, 45.5])
    x, y = projection.forward(lon, lat)
    back_lon, back_lat = projection.inverse(x, y)
    assert np.allclose(back_lon, lon) and np.allclose(back_lat, lat)
    for i in range(4):
        for j in range(i):
            plane = float(np.hypot(x[i] - x[j], y[i] - y[j]))
            sphere = float(great_circle_m(lon[i], lat[i], lon[j], lat[j]))
            assert plane == pytest.approx(sphere, rel=0.01)


def test_courses_turn_into_plane_angles_point_by_point() -> None:
    projection = Projection()
    lon, lat = one([23.0]), one([50.0])
    ahead_lon, ahead_lat = destination(lon, lat, one([45.0]), one([10_000.0]))
    x0, y0 = projection.forward(lon, lat)
    x1, y1 = projection.forward(ahead_lon, ahead_lat)
    assert projection.plane_angle(lon, lat, one([45.0]))[0] == pytest.approx(
        float(np.arctan2(y1 - y0, x1 - x0)[0]), abs=0.01
    )
