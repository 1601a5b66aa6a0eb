"""
The file side of the region registry: the bundled data of Ukraine, a saved registry directory,
and GeoJSON imports for other countries (property mapping in docs/regions.md).

A registry directory holds two files: `regions.json` (every region: id, level, parent, names,
KATOTTG code, aliases; one region a line) and `regions.geojson` (a FeatureCollection of the
regions that have a polygon, one feature a line, with the same properties).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from tryvoha.core.errors import RegionImportError
from tryvoha.core.model import Region, RegionLevel
from tryvoha.core.regions import RegionRegistry

__all__ = [
    "FORMAT",
    "REGIONS_DIR_ENV",
    "PropertyMapping",
    "RegionRow",
    "import_geojson",
    "load_bundled",
    "load_from_dir",
    "load_imported",
    "load_registry",
    "read_geojson_regions",
    "registry_from_rows",
    "save_imported",
    "save_registry",
]

FORMAT = "tryvoha-regions/1"
REGIONS_FILE = "regions.json"
GEOMETRY_FILE = "regions.geojson"
REGIONS_DIR_ENV = "TRYVOHA_REGIONS_DIR"
_LEVELS = ", ".join(level.value for level in RegionLevel)
_DEPTH_LEVELS = (RegionLevel.OBLAST, RegionLevel.RAION, RegionLevel.HROMADA, RegionLevel.CITY)

RegionRow = tuple[Region, BaseGeometry | None]


# -- loading a saved registry ------------------------------------------------------------


@functools.cache
def load_bundled() -> RegionRegistry:
    """The bundled registry of Ukraine (built by scripts/build_regions.py); loaded once."""
    data = resources.files("tryvoha").joinpath("data")
    return _registry_from_bytes(
        data.joinpath(REGIONS_FILE).read_bytes(),
        data.joinpath(GEOMETRY_FILE).read_bytes(),
        "bundled regions",
    )


def load_from_dir(path: str | os.PathLike[str]) -> RegionRegistry:
    """A registry saved by `save_registry` or `save_imported` (e.g. TRYVOHA_REGIONS_DIR)."""
    directory = Path(path)
    meta = _read(directory / REGIONS_FILE)
    geometry_path = directory / GEOMETRY_FILE
    geometry = _read(geometry_path) if geometry_path.exists() else None
    return _registry_from_bytes(meta, geometry, str(directory))


load_imported = load_from_dir


def load_registry(regions_dir: str | os.PathLike[str] | None = None) -> RegionRegistry:
    """The directory given, else $TRYVOHA_REGIONS_DIR, else the bundled registry of Ukraine."""
    chosen = regions_dir or os.environ.get(REGIONS_DIR_ENV)
    return load_from_dir(chosen) if chosen else load_bundled()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RegionImportError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RegionImportError(f"{where}: not valid JSON: {exc}") from None


def _registry_from_bytes(meta: bytes, geometry: bytes | None, where: str) -> RegionRegistry:
    doc = _parse_json(meta, f"{where}/{REGIONS_FILE}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RegionImportError(f"{where}/{REGIONS_FILE}: not a {FORMAT} file")
    regions: list[Region] = []
    aliases: dict[str, list[str]] = {}
    for index, item in enumerate(doc.get("regions") or ()):
        try:
            parent = item["parent_id"]
            region = Region(
                id=str(item["id"]),
                level=RegionLevel(item["level"]),
                parent_id=None if parent is None else str(parent),
                name_uk=item["name_uk"],
                name_en=item["name_en"],
                katottg=item.get("katottg"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegionImportError(f"{where}/{REGIONS_FILE}: region {index}: {exc!r}") from None
        regions.append(region)
        if item.get("aliases"):
            aliases[region.id] = list(item["aliases"])
    geometries = {} if geometry is None else _geometries(geometry, f"{where}/{GEOMETRY_FILE}")
    try:
        return RegionRegistry(regions, geometries, aliases)
    except ValueError as exc:
        raise RegionImportError(f"{where}: {exc}") from None


def _geometries(data: bytes, where: str) -> dict[str, BaseGeometry]:
    doc = _parse_json(data, where)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RegionImportError(f"{where}: not a GeoJSON FeatureCollection")
    features = doc.get("features") or []
    try:
        ids = [str(f["properties"]["id"]) for f in features]
        # One vectorised GEOS parse is several times faster than shapely.geometry.shape().
        parsed = shapely.from_geojson([orjson.dumps(f["geometry"]) for f in features])
    except (KeyError, TypeError, GEOSException) as exc:
        raise RegionImportError(f"{where}: bad feature: {exc!r}") from None
    return dict(zip(ids, parsed, strict=True))


# -- saving --------------------------------------------------------------------------------


def save_registry(
    registry: RegionRegistry, path: str | os.PathLike[str], *, attribution: str | None = None
) -> None:
    """Write the registry as regions.json + regions.geojson (deterministic bytes)."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    header: dict[str, Any] = {"format": FORMAT}
    if attribution:
        header["attribution"] = attribution
    records = []
    for region in registry:
        record: dict[str, Any] = {
            "id": region.id,
            "level": region.level.value,
            "parent_id": region.parent_id,
            "name_uk": region.name_uk,
            "name_en": region.name_en,
            "katottg": region.katottg,
        }
        if registry.aliases(region.id):
            record["aliases"] = list(registry.aliases(region.id))
        records.append(record)
    _write_lines(directory / REGIONS_FILE, _dumps(header)[:-1] + ',"regions":[', records, "]}")
    with_geometry = [r.id for r in registry if registry.geometry(r.id) is not None]
    features = registry.to_geojson(with_geometry)["features"]
    _write_lines(
        directory / GEOMETRY_FILE, '{"type":"FeatureCollection","features":[', features, "]}"
    )


def save_imported(
    rows: RegionRegistry | Iterable[RegionRow], path: str | os.PathLike[str]
) -> RegionRegistry:
    """Save imported regions (rows from `read_geojson_regions`, or a registry) for serving."""
    registry = rows if isinstance(rows, RegionRegistry) else registry_from_rows(rows)
    save_registry(registry, path)
    return registry


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_lines(path: Path, head: str, items: list[Any], tail: str) -> None:
    # One item a line keeps diffs of the committed data readable; the rename keeps a server
    # from ever reading a half-written file.
    text = head + "\n" + ",\n".join(_dumps(item) for item in items) + "\n" + tail + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- GeoJSON import ------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyMapping:
    """
    Which feature properties hold what. `level=None` derives levels from depth in the tree
    (roots are oblast-level, their children raions, then hromadas, then cities);
    `level_values` maps the file's own level words (e.g. {"state": "oblast", "county": "raion"}).
    """

    id: str = "id"
    name_uk: str = "name_uk"
    name_en: str = "name_en"
    level: str | None = "level"
    parent: str = "parent_id"
    katottg: str | None = "katottg"
    level_values: Mapping[str, str] = field(default_factory=dict)


def import_geojson(
    path: str | os.PathLike[str], mapping: PropertyMapping | None = None
) -> RegionRegistry:
    """A registry from a GeoJSON FeatureCollection of another country's regions."""
    m = mapping or PropertyMapping()
    return registry_from_rows(
        read_geojson_regions(
            path,
            id_property=m.id,
            name_uk_property=m.name_uk,
            name_en_property=m.name_en,
            level_property=m.level,
            parent_property=m.parent,
            katottg_property=m.katottg,
            level_values=m.level_values,
        )
    )


def registry_from_rows(rows: Iterable[RegionRow]) -> RegionRegistry:
    pairs = list(rows)
    geometries = {region.id: geom for region, geom in pairs if geom is not None}
    try:
        return RegionRegistry([region for region, _ in pairs], geometries)
    except ValueError as exc:
        raise RegionImportError(str(exc)) from None


def read_geojson_regions(
    path: str | os.PathLike[str],
    *,
    id_property: str = "id",
    name_uk_property: str = "name_uk",
    name_en_property: str = "name_en",
    level_property: str | None = "level",
    parent_property: str = "parent_id",
    katottg_property: str | None = "katottg",
    level_values: Mapping[str, str] | None = None,
) -> list[RegionRow]:
    """
    Regions and their polygons from a GeoJSON FeatureCollection; each error names the file,
    the feature's index (from 0) and what is wrong with it.
    """
    where = str(path)
    doc = _parse_json(_read(Path(path)), where)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RegionImportError(f"{where}: not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise RegionImportError(f"{where}: the FeatureCollection has no features")
    words = {k.casefold(): v for k, v in (level_values or {}).items()}
    rows: list[tuple[str, dict[str, Any], BaseGeometry | None]] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        at = f"{where}: feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise RegionImportError(f"{at}: not a GeoJSON Feature")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise RegionImportError(f"{at}: properties is not an object")
        raw_id = props.get(id_property, feature.get("id") if id_property == "id" else None)
        region_id = _text(raw_id, f"{at}: id (property {id_property!r})")
        if region_id is None:
            raise RegionImportError(f"{at}: missing id (property {id_property!r})")
        at = f"{at} (id {region_id!r})"
        if region_id in first_index:
            raise RegionImportError(
                f"{at}: duplicate id, also used by feature {first_index[region_id]}"
            )
        first_index[region_id] = index
        fields = {
            "name_uk": _text(props.get(name_uk_property), f"{at}: {name_uk_property}"),
            "name_en": _text(props.get(name_en_property), f"{at}: {name_en_property}"),
            "parent": _text(props.get(parent_property), f"{at}: {parent_property}"),
            "katottg": _text(props.get(katottg_property), f"{at}: {katottg_property}")
            if katottg_property
            else None,
            "level": None,
        }
        if not (fields["name_uk"] or fields["name_en"]):
            raise RegionImportError(
                f"{at}: missing name (properties {name_uk_property!r}, {name_en_property!r})"
            )
        if level_property is not None:
            fields["level"] = _level(props.get(level_property), words, at, level_property)
        rows.append((region_id, fields, _geometry(feature.get("geometry"), at)))
    return _link(rows, first_index, where)


def _text(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RegionImportError(f"{what} must be a string or an integer, not {value!r}")
    return str(value)


def _level(value: Any, words: Mapping[str, str], at: str, prop: str) -> RegionLevel:
    if value is None or value == "":
        raise RegionImportError(f"{at}: missing level (property {prop!r})")
    word = str(value).casefold()
    try:
        return RegionLevel(words.get(word, word))
    except ValueError:
        raise RegionImportError(
            f"{at}: unknown level {value!r}; expected one of {_LEVELS} (or map it)"
        ) from None


def _geometry(value: Any, at: str) -> BaseGeometry | None:
    if value is None:
        return None
    try:
        geom: BaseGeometry = shapely.from_geojson(orjson.dumps(value))
    except (GEOSException, TypeError, ValueError) as exc:
        raise RegionImportError(f"{at}: invalid geometry: {exc}") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise RegionImportError(
            f"{at}: invalid geometry: a {geom.geom_type}, expected Polygon or MultiPolygon"
        )
    if geom.is_empty or not geom.is_valid:
        reason = "empty" if geom.is_empty else shapely.is_valid_reason(geom)
        raise RegionImportError(f"{at}: invalid geometry: {reason}")
    return geom


def _link(
    rows: list[tuple[str, dict[str, Any], BaseGeometry | None]],
    index_of: dict[str, int],
    where: str,
) -> list[RegionRow]:
    parents = {region_id: fields["parent"] for region_id, fields, _ in rows}
    depth: dict[str, int] = {}
    for region_id, fields, _ in rows:
        at = f"{where}: feature {index_of[region_id]} (id {region_id!r})"
        parent = fields["parent"]
        if parent is not None and parent not in parents:
            raise RegionImportError(f"{at}: unknown parent {parent!r}")
        chain = [region_id]
        while parent is not None:
            if parent in chain:
                raise RegionImportError(f"{at}: its parent chain loops back to {parent!r}")
            chain.append(parent)
            parent = parents[parent]
        depth[region_id] = len(chain) - 1
    result: list[RegionRow] = []
    for region_id, fields, geom in rows:
        level = fields["level"] or _DEPTH_LEVELS[min(depth[region_id], 3)]
        name_uk = fields["name_uk"] or fields["name_en"]
        region = Region(
            id=region_id,
            level=level,
            parent_id=fields["parent"],
            name_uk=name_uk,
            name_en=fields["name_en"] or name_uk,
            katottg=fields["katottg"],
        )
        result.append((region, geom))
    return result
