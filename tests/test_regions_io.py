"""
Loading, saving and importing region registries; the build script of the bundled data.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from importlib import resources
from pathlib import Path

import pytest
import shapely

from tests.backends import require_shared_file
from tryvoha.core.errors import RegionImportError
from tryvoha.core.model import RegionLevel
from tryvoha.regions_io import (
    REGIONS_DIR_ENV,
    PropertyMapping,
    import_geojson,
    load_bundled,
    load_from_dir,
    load_imported,
    load_registry,
    read_geojson_regions,
    save_imported,
    save_registry,
)

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent
SHARED_REGIONS = REPO.parent / "shared" / "data" / "regions"
BUNDLED = resources.files("tryvoha").joinpath("data")


def test_bundled_is_loaded_once_and_quickly() -> None:
    load_bundled.cache_clear()
    started = time.perf_counter()
    registry = load_bundled()
    elapsed = time.perf_counter() - started
    assert load_bundled() is registry
    assert elapsed < 5  # about 0.3 s on the 2-core CI machine; generous against noise


def test_bundled_files_are_small() -> None:
    sizes = [BUNDLED.joinpath(name).read_bytes() for name in ("regions.json", "regions.geojson")]
    assert sum(len(data) for data in sizes) < 8_000_000


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    bundled = load_bundled()
    header = json.loads(BUNDLED.joinpath("regions.json").read_text(encoding="utf-8"))
    save_registry(bundled, tmp_path, attribution=header["attribution"])
    # Byte for byte what the build script wrote: the format is stable.
    for name in ("regions.json", "regions.geojson"):
        assert (tmp_path / name).read_bytes() == BUNDLED.joinpath(name).read_bytes()
    again = load_from_dir(tmp_path)
    assert list(again) == list(bundled)
    assert all(again.aliases(r.id) == bundled.aliases(r.id) for r in bundled)
    for region_id in ("31", "1293", "UA44060010000059164"):
        assert shapely.equals_exact(again.geometry(region_id), bundled.geometry(region_id), 0)


# -- importing another country ----------------------------------------------------------------


def test_import_tinyland(tmp_path: Path) -> None:
    rows = read_geojson_regions(DATA / "regions_tinyland.geojson")
    assert [region.id for region, _ in rows] == ["N", "S", "N1", "N2", "S1", "S9"]
    assert rows[-1][1] is None  # a region without a polygon is still an alert target
    registry = import_geojson(DATA / "regions_tinyland.geojson")
    assert [r.id for r in registry.oblasts()] == ["N", "S"]
    assert registry.get("N1").level is RegionLevel.RAION
    assert registry.get("N").katottg == "TL-N"
    assert registry.descendants("S") == {"S1", "S9"}
    assert registry.find_by_name("port royal") == registry.get("S1")
    assert registry.find_by_name("ПІВНІЧНА провінція") == registry.get("N")
    assert registry.search("Північна") == [registry.get("N")]
    location = registry.locate(1.5, 1.5)
    assert location is not None
    assert (location.hromada, location.raion, location.oblast) == (
        None,
        registry.get("N2"),
        registry.get("N"),
    )
    assert registry.locate_many([0.5, 0.5, 5], [0.5, 1.5, 5]).tolist() == ["S1", "S", None]

    saved = save_imported(rows, tmp_path / "tinyland")
    loaded = load_imported(tmp_path / "tinyland")
    assert list(loaded) == list(saved) == list(registry)
    assert loaded.locate(1.5, 0.5) == registry.locate(1.5, 0.5)


def test_import_with_a_property_mapping() -> None:
    mapping = PropertyMapping(
        name_uk="name_local",
        name_en="name",
        level="kind",
        parent="up",
        katottg=None,
        level_values={"state": "oblast", "county": "raion"},
    )
    registry = import_geojson(DATA / "regions_tinyland_mapped.geojson", mapping)
    assert registry.ids() == ["1", "2", "11", "21"]  # numeric ids from the Feature's own id
    west = registry.get("11")
    assert (west.level, west.parent_id, west.name_uk, west.name_en) == (
        RegionLevel.RAION,
        "1",
        "Westkreis",
        "West District",
    )
    assert registry.get("21").name_uk == "Port Royal"  # no local name: the English one


def test_levels_from_depth(tmp_path: Path) -> None:
    rows = read_geojson_regions(DATA / "regions_tinyland.geojson", level_property=None)
    assert [region.level.value for region, _ in rows] == ["oblast"] * 2 + ["raion"] * 4


def test_load_registry_prefers_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_imported(read_geojson_regions(DATA / "regions_tinyland.geojson"), tmp_path)
    monkeypatch.delenv(REGIONS_DIR_ENV, raising=False)
    assert load_registry() is load_bundled()
    assert load_registry(tmp_path).ids() == ["N", "S", "N1", "N2", "S1", "S9"]
    monkeypatch.setenv(REGIONS_DIR_ENV, str(tmp_path))
    assert len(load_registry()) == 6


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("regions_missing_id.geojson", r"feature 1: missing id \(property 'id'\)"),
        ("regions_duplicate_id.geojson", r"feature 2 \(id 'A'\): duplicate id.*feature 0"),
        ("regions_unknown_parent.geojson", r"feature 1 \(id 'B'\): unknown parent 'X'"),
        ("regions_unknown_level.geojson", r"feature 2 \(id 'C'\): unknown level 'county'"),
        ("regions_invalid_geometry.geojson", r"feature 1 \(id 'B'\): invalid geometry: Self"),
        ("regions_not_collection.geojson", r"not a GeoJSON FeatureCollection"),
        ("regions_unreadable.geojson", r"not valid JSON"),
        ("regions_nowhere.geojson", r"cannot read"),
    ],
)
def test_import_errors(fixture: str, message: str) -> None:
    path = DATA / fixture
    with pytest.raises(RegionImportError, match=message) as raised:
        read_geojson_regions(path)
    assert str(path) in raised.value.message


def _write(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    path = tmp_path / "regions_case.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _feature(geometry: object = None, **props: object) -> dict[str, object]:
    base = {"id": "A", "level": "oblast", "name_uk": "А", "name_en": "A"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([], "no features"),
        (["nope"], r"feature 0: not a GeoJSON Feature"),
        ([_feature(name_uk=None, name_en=None)], r"feature 0 \(id 'A'\): missing name"),
        ([_feature(level=None)], r"feature 0 \(id 'A'\): missing level"),
        ([_feature(id=1.5)], r"id \(property 'id'\) must be a string or an integer"),
        ([_feature(parent_id="A")], r"parent chain loops back to 'A'"),
        (
            [_feature(id="A", parent_id="B"), _feature(id="B", parent_id="A")],
            r"feature 0 \(id 'A'\): its parent chain loops",
        ),
        (
            [_feature({"type": "Point", "coordinates": [0, 0]})],
            r"invalid geometry: a Point, expected Polygon or MultiPolygon",
        ),
        ([_feature({"type": "Polygon", "coordinates": "x"})], r"feature 0 \(id 'A'\): invalid"),
    ],
)
def test_more_import_errors(
    tmp_path: Path, features: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(RegionImportError, match=message):
        read_geojson_regions(_write(tmp_path, features))


def test_load_from_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(RegionImportError, match="cannot read"):
        load_from_dir(tmp_path / "missing")
    (tmp_path / "regions.json").write_text("{")
    with pytest.raises(RegionImportError, match=r"regions\.json: not valid JSON"):
        load_from_dir(tmp_path)
    (tmp_path / "regions.json").write_text('{"format": "something else"}')
    with pytest.raises(RegionImportError, match="not a tryvoha-regions/1 file"):
        load_from_dir(tmp_path)


# -- the build script -------------------------------------------------------------------------


def test_build_script_reproduces_the_bundled_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_shared_file(SHARED_REGIONS / "crosswalk_regions.csv")
    spec = importlib.util.spec_from_file_location(
        "build_regions", REPO / "scripts/build_regions.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "build_regions", script)  # dataclasses look it up there
    spec.loader.exec_module(script)
    assert script.main([str(SHARED_REGIONS), "--out", str(tmp_path)]) == 0
    assert "hromada" in capsys.readouterr().out
    for name in ("regions.json", "regions.geojson"):
        assert (tmp_path / name).read_bytes() == BUNDLED.joinpath(name).read_bytes(), name
