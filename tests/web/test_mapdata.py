"""
The map's data: projection, SVG path encoding, simplification tiers, the region list.
"""

from __future__ import annotations

import re

import numpy as np
import orjson
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from tryvoha.core.model import Region, RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.web.mapdata import PLANE_SIZE, TIERS, MapData, Projection, map_data, path_data

PATH = re.compile(r"^(?:M-?\d+ -?\d+l(?:-?\d+(?: |-|$)?)+z)+$")


def paths(*geometries: object) -> list[str]:
    return path_data(np.array(geometries, dtype=object))


def test_a_square_is_one_absolute_move_and_relative_steps() -> None:
    assert paths(box(0, 0, 10, 10)) == ["M10 0l0 10-10 0 0-10z"]


def test_holes_are_left_out_and_parts_are_kept() -> None:
    with_hole = Polygon([(0, 0), (30, 0), (30, 30), (0, 30)], [[(10, 10), (20, 10), (20, 20)]])
    two_parts = MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 10)])
    hole, parts = paths(with_hole, two_parts)
    assert hole.count("M") == 1
    assert parts.count("M") == 2


def test_rings_rounding_to_fewer_than_three_points_vanish() -> None:
    tiny = box(0, 0, 0.2, 0.2)
    assert paths(tiny, box(0, 0, 5, 5)) == ["", "M5 0l0 5-5 0 0-5z"]


def test_points_rounding_onto_each_other_are_merged() -> None:
    square = Polygon([(0, 0), (10, 0), (10.2, 0.1), (10, 10), (0, 10)])
    assert paths(square) == ["M0 0l10 0 0 10-10 0z"]


def test_projection_keeps_shape_near_the_middle_latitude() -> None:
    projection = Projection.fit((22.0, 44.0, 40.0, 52.0))
    assert max(projection.width, projection.height) == pytest.approx(PLANE_SIZE)
    assert projection.kx / projection.ky == pytest.approx(np.cos(np.radians(48.0)))
    corner = projection.apply(np.array([[22.0, 52.0], [40.0, 44.0]]))
    assert corner[0] == pytest.approx([0, 0])
    assert corner[1] == pytest.approx([projection.width, projection.height])


def registry_with_enclave() -> RegionRegistry:
    regions = [
        Region("A", RegionLevel.OBLAST, None, "Область А", "Oblast A"),
        Region("C", RegionLevel.OBLAST, None, "Місто", "City"),
        Region("A1", RegionLevel.RAION, "A", "Район", "Raion"),
        Region("A2", RegionLevel.RAION, "A", "Без меж", "Shapeless"),
    ]
    outer = Polygon(
        [(30, 50), (31, 50), (31, 51), (30, 51)],
        [[(30.4, 50.4), (30.6, 50.4), (30.6, 50.6), (30.4, 50.6)]],
    )
    geometries = {"A": outer, "C": box(30.4, 50.4, 30.6, 50.6), "A1": box(30, 50, 30.4, 51)}
    return RegionRegistry(regions, geometries)


def test_regions_document_lists_every_region() -> None:
    data = MapData(registry_with_enclave())
    doc = orjson.loads(data.file("regions.json").body)  # type: ignore[union-attr]
    assert doc["levels"][:3] == ["oblast", "raion", "hromada"]
    assert doc["tiers"] == [zoom for _, zoom in TIERS]
    assert doc["regions"] == [
        ["A", 0, None, "Область А", "Oblast A", 1],
        ["C", 0, None, "Місто", "City", 1],
        ["A1", 1, "A", "Район", "Raion", 1],
        ["A2", 1, "A", "Без меж", "Shapeless", 0],
    ]


def test_shapes_are_drawn_largest_first_so_enclaves_lie_on_top() -> None:
    data = MapData(registry_with_enclave())
    assert data.names == [
        "regions.json",
        "aliases.json",
        *(f"{lv}-{t}.json" for lv in ("oblast", "raion") for t in range(3)),
    ]
    oblasts = orjson.loads(data.file("oblast-0.json").body)  # type: ignore[union-attr]
    assert [pid for pid, _ in oblasts["paths"]] == ["A", "C"]
    for _, d in oblasts["paths"]:
        assert PATH.match(d), d
    raions = orjson.loads(data.file("raion-1.json").body)  # type: ignore[union-attr]
    assert [pid for pid, _ in raions["paths"]] == ["A1"]
    assert data.file("hromada-0.json") is None
    assert data.file("../secret") is None


def test_finer_tiers_keep_more_detail(registry: RegionRegistry) -> None:
    data = map_data(registry)
    sizes = [len(data.file(f"oblast-{tier}.json").body) for tier in range(len(TIERS))]  # type: ignore[union-attr]
    assert sizes == sorted(sizes)
    assert sizes[0] * 2 < sizes[-1]


def test_the_bundled_country_is_drawn_whole(registry: RegionRegistry) -> None:
    data = map_data(registry)
    assert data is map_data(registry)
    drawn: dict[str, set[str]] = {}
    for level in ("oblast", "raion", "hromada"):
        doc = orjson.loads(data.file(f"{level}-0.json").body)  # type: ignore[union-attr]
        drawn[level] = {pid for pid, _ in doc["paths"]}
    assert len(drawn["oblast"]) == 27
    assert len(drawn["raion"]) == 136
    with_shape = [r.id for r in registry.by_level(RegionLevel.HROMADA) if registry.geometry(r.id)]
    # A few tiny hromadas may round away at the coarsest tier; none at the finest.
    assert len(drawn["hromada"]) >= len(with_shape) - 5
    finest = orjson.loads(data.file("hromada-2.json").body)  # type: ignore[union-attr]
    assert {pid for pid, _ in finest["paths"]} == set(with_shape)


def test_paths_stay_inside_the_plane(registry: RegionRegistry) -> None:
    data = map_data(registry)
    doc = orjson.loads(data.file("regions.json").body)  # type: ignore[union-attr]
    width, height = doc["projection"]["width"], doc["projection"]["height"]
    shapes = orjson.loads(data.file("raion-1.json").body)  # type: ignore[union-attr]
    for _, d in shapes["paths"]:
        for ring in d.split("M")[1:]:
            numbers = [int(n) for n in re.findall(r"-?\d+", ring)]
            xs = np.cumsum(numbers[0::2])
            ys = np.cumsum(numbers[1::2])
            assert xs.min() >= -1 and xs.max() <= width + 1
            assert ys.min() >= -1 and ys.max() <= height + 1


def test_fingerprint_follows_the_regions() -> None:
    first = MapData(registry_with_enclave()).fingerprint
    assert first == MapData(registry_with_enclave()).fingerprint
    regions = [Region("A", RegionLevel.OBLAST, None, "Інша", "Other")]
    other = MapData(RegionRegistry(regions, {"A": shapely.box(30, 50, 31, 51)})).fingerprint
    assert other != first


def test_aliases_are_a_file_of_their_own() -> None:
    regions = [
        Region("A", RegionLevel.OBLAST, None, "Нова назва", "New name"),
        Region("B", RegionLevel.OBLAST, None, "Б", "B"),
    ]
    registry = RegionRegistry(regions, aliases={"A": ["Стара назва", "Old name"]})
    doc = orjson.loads(MapData(registry).file("aliases.json").body)  # type: ignore[union-attr]
    assert doc == {"aliases": [["A", ["Стара назва", "Old name"]]]}
