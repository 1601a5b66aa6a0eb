"""
The map's data, built once per region registry: the region list and, per level and zoom
tier, every polygon as a ready-to-draw SVG path.

Polygons are projected to a plane (equirectangular, x scaled by the cosine of the middle
latitude: close to true shape at this size), simplified with a tolerance per zoom tier,
rounded to whole units and written as relative path commands, which gzip to a few hundred
kilobytes for all of Ukraine's 1,500 polygons. The browser sets them as `d` attributes as
they come: no parsing, no projection at run time.
"""

from __future__ import annotations

import hashlib
import math
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import shapely

from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.web.assets import Asset

LEVELS = (RegionLevel.OBLAST, RegionLevel.RAION, RegionLevel.HROMADA, RegionLevel.CITY)

PLANE_SIZE = 16_000
"""Units across the country's longer side; Ukraine gets about 80 metres a unit."""

TIERS = (
    # (tolerance as a fraction of PLANE_SIZE, the zoom from which the tier is drawn)
    (1 / 1600, 1.0),
    (1 / 8000, 3.0),
    (1 / 32000, 10.0),
)
"""A tier's tolerance is about one screen pixel at its lowest zoom on a wide screen."""


@dataclass(frozen=True, slots=True)
class Projection:
    lon0: float
    lat0: float
    kx: float
    ky: float
    width: float
    height: float

    @classmethod
    def fit(cls, bounds: tuple[float, float, float, float]) -> Projection:
        min_lon, min_lat, max_lon, max_lat = bounds
        cos_mid = math.cos(math.radians((min_lat + max_lat) / 2))
        span = max((max_lon - min_lon) * cos_mid, max_lat - min_lat, 1e-6)
        scale = PLANE_SIZE / span
        return cls(
            lon0=min_lon,
            lat0=max_lat,
            kx=scale * cos_mid,
            ky=scale,
            width=(max_lon - min_lon) * scale * cos_mid,
            height=(max_lat - min_lat) * scale,
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "lon0": self.lon0,
            "lat0": self.lat0,
            "kx": self.kx,
            "ky": self.ky,
            "width": round(self.width, 1),
            "height": round(self.height, 1),
        }

    def apply(self, coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x = (coords[:, 0] - self.lon0) * self.kx
        y = (self.lat0 - coords[:, 1]) * self.ky
        return np.column_stack((x, y))


def path_data(geometries: npt.NDArray[np.object_]) -> list[str]:
    """
    SVG path data of projected polygons, one string per geometry: `M x y l dx dy … z` per
    outer ring, in whole units. Rings that shrink below three distinct points are left out.

    Holes are left out on purpose: a hole is where an enclave lies (Kyiv city in Kyiv
    Oblast), and the enclave is drawn on top of its surroundings. Where the sources leave a
    gap between a hole's edge and the enclave's, the surrounding region's colour fills it
    instead of the background.
    """
    parts_of = shapely.get_parts(geometries, return_index=True)
    rings, part_owner = shapely.get_exterior_ring(parts_of[0]), parts_of[1]
    owner = part_owner
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    points = np.rint(coords).astype(np.int64)
    same_ring = ring_of[1:] == ring_of[:-1]
    # Drop each ring's closing point (`z` closes it) and points that round onto the last.
    keep = np.append(same_ring, False)
    keep[1:] &= ~(same_ring & np.all(points[1:] == points[:-1], axis=1))
    points, ring_of = points[keep], ring_of[keep]
    starts = np.flatnonzero(np.diff(ring_of, prepend=-1))
    ends = np.append(starts[1:], len(ring_of))
    steps = np.diff(points, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    steps[starts] = points[starts]
    tokens = list(map(str, steps.ravel().tolist()))
    parts: list[list[str]] = [[] for _ in range(len(geometries))]
    for start, end, ring in zip(
        starts.tolist(), ends.tolist(), ring_of[starts].tolist(), strict=True
    ):
        if end - start < 3:
            continue
        head = f"M{tokens[2 * start]} {tokens[2 * start + 1]}l"
        body = " ".join(tokens[2 * start + 2 : 2 * end])
        parts[owner[ring]].append(f"{head}{body}z".replace(" -", "-"))
    return ["".join(p) for p in parts]


def _country_bounds(registry: RegionRegistry) -> tuple[float, float, float, float]:
    boxes = [b for r in registry if (b := registry.bounds(r.id)) is not None]
    if not boxes:
        return (-1.0, -1.0, 1.0, 1.0)
    array = np.array(boxes)
    return (
        float(array[:, 0].min()),
        float(array[:, 1].min()),
        float(array[:, 2].max()),
        float(array[:, 3].max()),
    )


def _dumps(data: Any) -> bytes:
    return orjson.dumps(data)


def regions_document_row(registry: RegionRegistry, region_id: str) -> list[Any]:
    region = registry.get(region_id)
    return [
        region.id,
        LEVELS.index(region.level),
        region.parent_id,
        region.name_uk,
        region.name_en,
        1 if registry.geometry(region.id) is not None else 0,
    ]


def regions_document(registry: RegionRegistry, projection: Projection) -> dict[str, Any]:
    """
    Every region as `[id, level, parent, name_uk, name_en, has_shape]`, in registry order.
    """
    rows = [regions_document_row(registry, r.id) for r in registry]
    return {
        "levels": [level.value for level in LEVELS],
        "projection": projection.to_dict(),
        "tiers": [zoom for _, zoom in TIERS],
        "regions": rows,
    }


def _simplify(
    projected: npt.NDArray[np.object_], tolerance: float, is_coverage: bool
) -> npt.NDArray[np.object_]:
    # A level that tiles the land without overlaps (Ukraine's do) is simplified as one
    # coverage: shared borders stay shared, so no slivers open between neighbours.
    if is_coverage:
        result: npt.NDArray[np.object_] = shapely.coverage_simplify(projected, tolerance)
        return result
    simplified: npt.NDArray[np.object_] = shapely.simplify(
        projected, tolerance, preserve_topology=True
    )
    return simplified


def aliases_document(registry: RegionRegistry) -> dict[str, Any]:
    """
    Other names regions are found by (old names, other spellings), for the page's search:
    `{"aliases": [[id, [name, ...]], ...]}`. A file of its own, fetched when someone
    searches, so the first paint does not wait for it.
    """
    rows = [[r.id, list(names)] for r in registry if (names := registry.aliases(r.id))]
    return {"aliases": rows}


@dataclass(frozen=True, slots=True)
class LevelShapes:
    """One level's polygons, projected, largest first, and whether they form a coverage."""

    ids: list[str]
    projected: npt.NDArray[np.object_]
    is_coverage: bool

    @classmethod
    def of(
        cls, registry: RegionRegistry, projection: Projection, level: RegionLevel
    ) -> LevelShapes:
        ids = [r.id for r in registry.by_level(level) if registry.geometry(r.id) is not None]
        geometries = np.array([registry.geometry(i) for i in ids], dtype=object)
        projected = shapely.transform(geometries, projection.apply)
        order = np.argsort(-shapely.area(projected), kind="stable")
        return cls(
            [ids[i] for i in order.tolist()],
            projected[order],
            bool(shapely.coverage_is_valid(projected)),
        )


def shapes_document(shapes: LevelShapes, level: RegionLevel, tier: int) -> dict[str, Any]:
    """
    The SVG paths of one level's regions at one tier: `{"paths": [[id, d], ...]}`, largest
    region first, so that enclaves are drawn over the regions around them.
    """
    simplified = _simplify(shapes.projected, PLANE_SIZE * TIERS[tier][0], shapes.is_coverage)
    data = path_data(simplified)
    paths = [[pid, d] for pid, d in zip(shapes.ids, data, strict=True) if d]
    return {"level": level.value, "tier": tier, "paths": paths}


class MapData:
    """
    The map's files for one registry, each built on first use and kept: `regions.json`,
    `aliases.json` and `<level>-<tier>.json` for every level with polygons. Thread-safe.

    `fingerprint` changes whenever the regions, their polygons or this module change, so
    the files can be cached for good under a URL that carries it.
    """

    def __init__(self, registry: RegionRegistry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._file_locks: dict[str, threading.Lock] = {}
        self._files: dict[str, Asset] = {}
        self._levels: dict[RegionLevel, LevelShapes] = {}
        self._fingerprint: str | None = None
        self._projection = Projection.fit(_country_bounds(registry))
        self.shape_levels = tuple(
            level
            for level in LEVELS
            if any(registry.geometry(r.id) is not None for r in registry.by_level(level))
        )

    @property
    def names(self) -> list[str]:
        shapes = [f"{lv.value}-{t}.json" for lv in self.shape_levels for t in range(len(TIERS))]
        return ["regions.json", "aliases.json", *shapes]

    @property
    def fingerprint(self) -> str:
        with self._lock:
            if self._fingerprint is None:
                digest = hashlib.blake2b(digest_size=8)
                digest.update(Path(__file__).read_bytes())
                for region in self._registry:
                    digest.update(_dumps(regions_document_row(self._registry, region.id)))
                    geometry = self._registry.geometry(region.id)
                    if geometry is not None:
                        digest.update(shapely.to_wkb(geometry))
                self._fingerprint = digest.hexdigest()
            return self._fingerprint

    def file(self, name: str) -> Asset | None:
        """
        The file called *name*, built (and compressed) now if it has not been; None for a
        name that is not one of `names`.
        """
        if name not in self.names:
            return None
        with self._lock:
            file_lock = self._file_locks.setdefault(name, threading.Lock())
        # One lock a file: requests for different files build them side by side.
        with file_lock:
            built = self._files.get(name)
            if built is None:
                body = _dumps(self._document(name))
                built = self._files[name] = Asset.of(body, "application/json")
            return built

    def _document(self, name: str) -> dict[str, Any]:
        if name == "regions.json":
            return regions_document(self._registry, self._projection)
        if name == "aliases.json":
            return aliases_document(self._registry)
        level_name, _, tier = name.removesuffix(".json").rpartition("-")
        level = RegionLevel(level_name)
        with self._lock:
            shapes = self._levels.get(level)
        if shapes is None:
            shapes = LevelShapes.of(self._registry, self._projection, level)
            with self._lock:
                shapes = self._levels.setdefault(level, shapes)
        return shapes_document(shapes, level, int(tier))


_cache: weakref.WeakKeyDictionary[RegionRegistry, MapData] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def map_data(registry: RegionRegistry) -> MapData:
    """The one `MapData` of *registry*, shared by every app that serves it."""
    with _cache_lock:
        found = _cache.get(registry)
        if found is None:
            found = _cache[registry] = MapData(registry)
        return found
