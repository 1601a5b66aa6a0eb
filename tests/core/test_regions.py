"""
The region registry: the bundled tree of Ukraine, name lookup, location, and the pure
behaviour of RegionRegistry on small made-up trees.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from tryvoha.core.errors import UnknownRegion
from tryvoha.core.model import Region, RegionLevel
from tryvoha.core.regions import Location, RegionRegistry, normalise_name
from tryvoha.regions_io import load_bundled

OBLAST_IDS = [str(i) for i in (3, 4, 5, *range(8, 32))]
UKRAINE_BBOX = (22.1, 44.3, 40.3, 52.4)


@pytest.fixture(scope="module")
def ua() -> RegionRegistry:
    return load_bundled()


# -- the bundled tree ------------------------------------------------------------------------


def test_the_27_oblast_level_units(ua: RegionRegistry) -> None:
    assert [r.id for r in ua.oblasts()] == OBLAST_IDS
    assert len(OBLAST_IDS) == 27
    assert all(r.parent_id is None for r in ua.oblasts())
    assert {r.level for r in ua if r.parent_id is None} == {RegionLevel.OBLAST}


def test_counts(ua: RegionRegistry) -> None:
    raions = ua.by_level(RegionLevel.RAION)
    hromadas = ua.by_level(RegionLevel.HROMADA)
    assert len(raions) == 136  # 126 with alerts.in.ua UIDs + 10 in Crimea
    assert sum(r.id.isdigit() for r in hromadas) == 1458  # every hromada UID of alerts.in.ua
    assert sum(ua.geometry(r.id) is not None for r in hromadas) >= 1300
    assert all(ua.geometry(r.id) is not None for r in (*ua.oblasts(), *raions))
    assert len(ua) == 27 + len(raions) + len(hromadas)


def test_hierarchy_is_oblast_raion_hromada(ua: RegionRegistry) -> None:
    for region in ua:
        parent = ua.parent(region.id)
        expected = {
            RegionLevel.OBLAST: None,
            RegionLevel.RAION: RegionLevel.OBLAST,
            RegionLevel.HROMADA: RegionLevel.RAION,
        }[region.level]
        assert (parent.level if parent else None) is expected, region


def test_ids_and_codes(ua: RegionRegistry) -> None:
    for region in ua:
        if not region.id.isdigit():
            # Units without an alerts.in.ua UID are keyed by their KATOTTG code.
            assert region.id == region.katottg
            assert region.id.startswith("UA") and len(region.id) == 19
    assert ua.get("31").katottg == "UA80000000000093317"
    assert ua.get("14").katottg == "UA32000000000030281"


def test_iteration_order_is_stable(ua: RegionRegistry) -> None:
    regions = list(ua)
    ranks = [("oblast", "raion", "hromada").index(r.level.value) for r in regions]
    assert ranks == sorted(ranks)
    assert ua.ids() == [r.id for r in regions]
    numeric = [int(r.id) for r in regions if r.level is RegionLevel.RAION and r.id.isdigit()]
    assert numeric == sorted(numeric)


@pytest.mark.parametrize(
    ("region_id", "level", "parent", "name_en"),
    [
        ("31", RegionLevel.OBLAST, None, "Kyiv"),
        ("30", RegionLevel.OBLAST, None, "Sevastopol"),
        ("29", RegionLevel.OBLAST, None, "Autonomous Republic of Crimea"),
        ("14", RegionLevel.OBLAST, None, "Kyiv Oblast"),
        ("12", RegionLevel.OBLAST, None, "Zaporizhzhia Oblast"),
        ("18", RegionLevel.OBLAST, None, "Odesa Oblast"),
        ("92", RegionLevel.RAION, "27", "Sheptytskyi raion"),
        ("564", RegionLevel.HROMADA, "149", "Zaporizhzhia city and Zaporizka hromada"),
        ("1293", RegionLevel.HROMADA, "124", "Kharkiv city and Kharkivska hromada"),
        ("209", RegionLevel.HROMADA, "34", "Viitivetska hromada"),
    ],
)
def test_known_regions(
    ua: RegionRegistry, region_id: str, level: RegionLevel, parent: str | None, name_en: str
) -> None:
    region = ua.get(region_id)
    assert (region.level, region.parent_id, region.name_en) == (level, parent, name_en)


def test_get_find_contains(ua: RegionRegistry) -> None:
    assert ua.get("22").name_uk == "Харківська область"
    assert ua.find("22") == ua.get("22")
    assert ua.find("6") is None
    assert "22" in ua and "6" not in ua and 22 not in ua
    with pytest.raises(UnknownRegion, match="'6'"):
        ua.get("6")
    for method in (ua.parent, ua.children, ua.ancestors, ua.descendants, ua.geometry):
        with pytest.raises(UnknownRegion):
            method("nowhere")


def test_tree_navigation(ua: RegionRegistry) -> None:
    assert ua.parent("1293") == ua.get("124")
    assert ua.parent("22") is None
    assert ua.ancestors("1293") == ("124", "22")
    assert ua.ancestors("22") == ()
    assert ua.oblast_of("1293") == ua.get("22")
    assert ua.oblast_of("31") == ua.get("31")
    assert ua.children("31") == ()
    raions = ua.children("22")
    assert "124" in [r.id for r in raions]
    assert all(r.parent_id == "22" for r in raions)
    below = ua.descendants("22")
    assert {"124", "1293"} <= below and "22" not in below
    assert below == {r.id for r in ua if "22" in ua.ancestors(r.id)}
    assert ua.descendants("1293") == frozenset()


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region_id"),
    [
        ("Київська область", "14"),
        ("Kyiv Oblast", "14"),
        ("київська", "14"),
        ("Kyivska oblast", "14"),
        ("КИЇВСЬКА ОБЛ.", "14"),
        ("  kyiv   oblast ", "14"),
        ("Kyiv", "31"),
        ("Київ", "31"),
        ("м. Київ", "31"),
        ("Kyiv City", "31"),
        ("Odessa Oblast", "18"),
        ("Odesa Oblast", "18"),
        ("Zaporizhia Oblast", "12"),
        ("Kharkiv", "1293"),
        ("Харків", "1293"),
        ("м. Харків", "1293"),
        ("Шептицький район", "92"),
        ("Червоноградський район", "92"),  # its name before 2024
        ("Sheptytskyi raion", "92"),
        ("м. Червоноград та Червоноградська територіальна громада", "832"),  # renamed in 2024
        ("Шептицька територіальна громада", "832"),
        ("Війтівецька територіальна громада", "209"),
    ],
)
def test_find_by_name(ua: RegionRegistry, text: str, region_id: str) -> None:
    found = ua.find_by_name(text)
    assert found is not None and found.id == region_id
    assert ua.search(text)[0].id == region_id


@pytest.mark.parametrize("apostrophe", ["’", "'", "ʼ", "`", "‘", ""])
def test_apostrophe_variants(ua: RegionRegistry, apostrophe: str) -> None:
    raion = ua.find_by_name(f"Кам{apostrophe}янець-Подільський район")
    assert raion is not None and raion.id == "135"
    hromada = ua.find_by_name(f"м. Слов{apostrophe}янськ та Слов{apostrophe}янська громада")
    assert hromada is None  # not an exact name: the search finds it by substring instead
    found = ua.search(f"Слов{apostrophe}янськ")
    assert found[0].id == "381"


def test_find_by_name_none_when_unknown_or_ambiguous(ua: RegionRegistry) -> None:
    assert ua.find_by_name("Atlantis") is None
    assert ua.find_by_name("") is None
    # Several hromadas share this name; the search lists them all.
    assert ua.find_by_name("Покровська територіальна громада") is None
    assert len(ua.search("Покровська територіальна громада")) >= 3


def test_search_by_id_and_katottg(ua: RegionRegistry) -> None:
    assert ua.search("31")[0].id == "31"
    assert ua.search("ua80000000000093317") == [ua.get("31")]
    assert ua.search("UA63120270000028556")[0].id == "1293"


def test_search_ranks_exact_then_prefix_then_substring(ua: RegionRegistry) -> None:
    found = [r.id for r in ua.search("Вінниц", limit=50)]
    assert found[:2] == ["4", "36"]  # prefixes, oblast before raion
    assert "13" in [r.id for r in ua.search("франків")]  # inside «Івано-Франківська»
    assert len(ua.search("а", limit=7)) == 7
    assert ua.search("а", limit=0) == []
    assert ua.search("") == ua.search("   ") == []
    assert ua.search("oblast") == []  # only an affix: nothing to look for


def test_normalise_name() -> None:
    assert normalise_name("  Кам’янець  ПОДІЛЬСЬКИЙ ") == "камянець подільський"
    assert normalise_name("Kam'ianets") == normalise_name("Kamʼianets") == "kamianets"


def test_aliases_are_kept(ua: RegionRegistry) -> None:
    assert "Червоноградський район" in ua.aliases("92")
    assert "Odessa Oblast" in ua.aliases("18")


# -- geometry and location -------------------------------------------------------------------


def test_geometry_and_bounds(ua: RegionRegistry) -> None:
    kyiv = ua.geometry("31")
    assert kyiv is not None and kyiv.geom_type in ("Polygon", "MultiPolygon")
    bounds = ua.bounds("31")
    assert bounds is not None
    minx, miny, maxx, maxy = bounds
    assert 30.2 < minx < 30.6 < maxx < 30.9 and 50.2 < miny < 50.45 < maxy < 50.6
    without = next(r.id for r in ua if ua.geometry(r.id) is None)
    assert ua.bounds(without) is None


@pytest.mark.parametrize(
    ("lat", "lon", "hromada", "raion", "oblast"),
    [
        (50.4501, 30.5234, None, None, "31"),  # Kyiv: an oblast-level city, no hromada polygon
        (49.9935, 36.2304, "1293", "124", "22"),  # Kharkiv
        (47.8388, 35.1396, "564", "149", "12"),  # Zaporizhzhia
        (46.4825, 30.7233, "964", "104", "18"),  # Odesa
        (44.9521, 34.1024, None, None, "29"),  # Simferopol: no hromada polygons in Crimea
    ],
)
def test_locate(
    ua: RegionRegistry, lat: float, lon: float, hromada: str | None, raion: str | None, oblast: str
) -> None:
    location = ua.locate(lat, lon)
    assert location is not None
    assert location.hromada == (ua.get(hromada) if hromada else None)
    assert location.raion == (ua.get(raion) if raion else None)
    assert location.oblast == ua.get(oblast)


def test_locate_lviv(ua: RegionRegistry) -> None:
    location = ua.locate(49.8397, 24.0297)
    assert location is not None and location.hromada is not None
    assert location.oblast.id == "27"
    assert location.raion is not None and location.raion.parent_id == "27"
    assert location.deepest == location.hromada
    assert location.hromada.parent_id == location.raion.id


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(43.5, 32.0), (45.0, 36.9), (52.2297, 21.0122), (55.75, 37.62), (math.nan, 30.5)],
    ids=["black sea", "kerch strait", "warsaw", "moscow", "nan"],
)
def test_locate_outside(ua: RegionRegistry, lat: float, lon: float) -> None:
    assert ua.locate(lat, lon) is None


def test_locate_many_agrees_with_locate(ua: RegionRegistry) -> None:
    rng = np.random.default_rng(7)
    lons = rng.uniform(UKRAINE_BBOX[0], UKRAINE_BBOX[2], 3000)
    lats = rng.uniform(UKRAINE_BBOX[1], UKRAINE_BBOX[3], 3000)
    many = ua.locate_many(lats, lons)
    assert many.shape == (3000,)
    for lat, lon, found in zip(lats, lons, many, strict=True):
        location = ua.locate(float(lat), float(lon))
        assert found == (location.deepest.id if location else None)
    assert sum(found is not None for found in many) > 1000


def test_locate_many_shapes_and_bad_input(ua: RegionRegistry) -> None:
    grid = ua.locate_many([[50.4501, 49.9935], [43.5, math.nan]], [[30.5234, 36.2304], [32.0, 1.0]])
    assert grid.tolist() == [["31", "1293"], [None, None]]
    assert ua.locate_many([], []).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        ua.locate_many([1.0, 2.0], [1.0])


@functools.cache
def _triangles(registry: RegionRegistry, region_id: str) -> tuple[shapely.Geometry, ...]:
    geom = registry.geometry(region_id)
    assert geom is not None
    return tuple(shapely.constrained_delaunay_triangles(geom).geoms)


@functools.cache
def _hromadas_with_polygon(registry: RegionRegistry) -> list[str]:
    return [r.id for r in registry.by_level(RegionLevel.HROMADA) if registry.geometry(r.id)]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_point_in_a_hromada_is_placed_in_it(data: st.DataObject) -> None:
    ua = load_bundled()
    hromada = data.draw(st.sampled_from(_hromadas_with_polygon(ua)), label="hromada")
    triangles = _triangles(ua, hromada)
    triangle = triangles[data.draw(st.integers(0, len(triangles) - 1), label="triangle")]
    a, b = (data.draw(st.floats(0, 1), label=name) for name in ("a", "b"))
    if a + b > 1:
        a, b = 1 - a, 1 - b
    (x0, y0), (x1, y1), (x2, y2) = list(triangle.exterior.coords)[:3]
    point = Point(x0 + a * (x1 - x0) + b * (x2 - x0), y0 + a * (y1 - y0) + b * (y2 - y0))
    geom = ua.geometry(hromada)
    assume(geom is not None and geom.contains(point))

    location = ua.locate(point.y, point.x)
    assert location is not None
    oblast = ua.oblast_of(hromada)
    raion = ua.parent(hromada)
    assert raion is not None
    raion_geom, oblast_geom = ua.geometry(raion.id), ua.geometry(oblast.id)
    inside_ancestors = bool(
        raion_geom and oblast_geom and raion_geom.covers(point) and oblast_geom.covers(point)
    )
    assert inside_ancestors or location.oblast == oblast
    # Stronger: the cleaned hromada polygons do not overlap, so the point is placed in it.
    assert location.hromada is not None and location.hromada.id == hromada
    assert location.raion == raion and location.oblast == oblast


# -- the pure registry on made-up trees --------------------------------------------------------


def _tiny() -> RegionRegistry:
    regions = [
        Region("b", RegionLevel.RAION, "A", "Бета", "Beta"),
        Region("A", RegionLevel.OBLAST, None, "Альфа область", "Alpha Oblast", "XX01"),
        Region("10", RegionLevel.HROMADA, "b", "Десята громада", "Tenth hromada"),
        Region("9", RegionLevel.HROMADA, "b", "Дев’ята громада", "Ninth hromada"),
        Region("2", RegionLevel.OBLAST, None, "Друга область", "Second Oblast"),
    ]
    geometries = {
        "A": box(0, 0, 4, 4),
        "b": box(0, 0, 2, 4),
        "9": box(0, 0, 2, 2),
        "10": box(0, 1, 1, 3),  # overlaps 9: the smaller polygon wins
        "2": None,
    }
    return RegionRegistry(regions, geometries, {"9": ["Nine"]})


def test_tiny_order_and_tree() -> None:
    tiny = _tiny()
    assert tiny.ids() == ["2", "A", "b", "9", "10"]
    assert [r.id for r in tiny.children("b")] == ["9", "10"]
    assert tiny.descendants("A") == {"b", "9", "10"}
    assert tiny.oblast_of("10").id == "A"
    assert tiny.by_level(RegionLevel.HROMADA) == (tiny.get("9"), tiny.get("10"))
    assert tiny.find_by_name("nine") == tiny.get("9")
    assert tiny.find_by_name("дев'ята громада") == tiny.get("9")
    assert tiny.search("xx01") == [tiny.get("A")]
    assert tiny.find_by_name("альфа") == tiny.get("A")


def test_tiny_locate() -> None:
    tiny = _tiny()

    def deepest(lat: float, lon: float) -> str | None:
        location = tiny.locate(lat, lon)
        return location.deepest.id if location else None

    assert deepest(1.5, 0.5) == "10"  # in both hromadas; 10 is smaller
    assert deepest(0.5, 1.5) == "9"
    assert deepest(3.5, 1.5) == "b"  # no hromada there
    assert deepest(1, 3) == "A"
    assert deepest(5, 5) is None
    assert tiny.locate(1.5, 0.5) == Location(tiny.get("10"), tiny.get("b"), tiny.get("A"))
    assert tiny.locate_many([1.5, 0.5, 3.5, 1, 5], [0.5, 1.5, 1.5, 3, 5]).tolist() == [
        "10",
        "9",
        "b",
        "A",
        None,
    ]


def test_tiny_geojson() -> None:
    tiny = _tiny()
    collection = tiny.to_geojson(["9", "2"])
    assert collection["type"] == "FeatureCollection"
    nine, two = collection["features"]
    assert nine["properties"] == {
        "id": "9",
        "level": "hromada",
        "parent_id": "b",
        "name_uk": "Дев’ята громада",
        "name_en": "Ninth hromada",
        "katottg": None,
    }
    assert nine["geometry"]["type"] == "Polygon" and two["geometry"] is None
    assert len(tiny.to_geojson()["features"]) == len(tiny)
    with pytest.raises(UnknownRegion):
        tiny.to_geojson(["nowhere"])


def test_geojson_simplified(ua: RegionRegistry) -> None:
    full = ua.to_geojson(["14"])["features"][0]["geometry"]
    simple = ua.to_geojson(["14"], simplify_tolerance=0.05)["features"][0]["geometry"]
    assert shapely.get_num_coordinates(shapely.from_geojson(_json(simple))) < (
        shapely.get_num_coordinates(shapely.from_geojson(_json(full)))
    )


def _json(geometry: object) -> str:
    import json

    return json.dumps(geometry)


@pytest.mark.parametrize(
    ("regions", "geometries", "message"),
    [
        ([Region("a", RegionLevel.OBLAST, None, "А", "A")] * 2, {}, "duplicate"),
        ([Region("a", RegionLevel.RAION, "x", "А", "A")], {}, "unknown parent"),
        (
            [
                Region("a", RegionLevel.RAION, "b", "А", "A"),
                Region("b", RegionLevel.RAION, "a", "Б", "B"),
            ],
            {},
            "loops",
        ),
        ([Region("a", RegionLevel.OBLAST, None, "А", "A")], {"z": box(0, 0, 1, 1)}, "unknown"),
        ([Region("a", RegionLevel.OBLAST, None, "А", "A")], {"a": Point(0, 0)}, "Point"),
    ],
)
def test_invalid_registries(
    regions: list[Region], geometries: dict[str, shapely.Geometry], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RegionRegistry(regions, geometries)


def test_concerning_is_the_lineage_and_the_subtree(registry: RegionRegistry) -> None:
    raion = registry.children("14")[0]
    concerned = registry.concerning([raion.id])
    assert concerned == {raion.id, "14", *registry.descendants(raion.id)}
    assert "31" not in concerned
    with pytest.raises(UnknownRegion):
        registry.concerning(["14", "nowhere"])
