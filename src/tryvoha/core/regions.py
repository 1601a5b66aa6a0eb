"""
The region registry: the tree of regions, name lookup and point-in-polygon location.

Pure: built from `Region`s, optional shapely geometries and optional alias names; it reads no
files (see `tryvoha.regions_io` for that). Instances are immutable after construction and safe
to share between threads: the spatial indexes and prepared geometries are built up front.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping as shape_mapping
from shapely.geometry.base import BaseGeometry

from tryvoha.core.errors import UnknownRegion
from tryvoha.core.model import Region, RegionLevel

__all__ = ["Location", "RegionRegistry", "normalise_name"]

_LEVEL_RANK = {
    RegionLevel.OBLAST: 0,
    RegionLevel.RAION: 1,
    RegionLevel.HROMADA: 2,
    RegionLevel.CITY: 3,
}
_POLYGONAL = ("Polygon", "MultiPolygon")
_APOSTROPHES = str.maketrans("", "", "’'ʼ`‘′")
_CITY_PREFIX = re.compile(r"^(?:м\.|м\s|місто\s|city of\s|city\s)\s*")
_SUFFIX = re.compile(r"\s*(?:\bобласть|\bобл\.?|\boblast|\bregion|\bcity|\bмісто)$")


def normalise_name(text: str) -> str:
    """
    The form names are compared in: casefolded, apostrophes dropped, whitespace collapsed.

    Apostrophes are dropped rather than unified because many keyboards have none, so people
    type «Словянськ» as often as «Слов’янськ».
    """
    return " ".join(text.casefold().translate(_APOSTROPHES).split())


def _strip_affixes(key: str) -> str:
    # Loop because names like "м. Київ city" carry both a prefix and a suffix.
    while True:
        stripped = _SUFFIX.sub("", _CITY_PREFIX.sub("", key)).strip()
        if stripped == key:
            return key
        key = stripped


def _sort_key(region: Region) -> tuple[int, int, int, str]:
    numeric = region.id.isdigit()
    return (
        _LEVEL_RANK[region.level],
        0 if numeric else 1,
        int(region.id) if numeric else 0,
        region.id,
    )


@dataclass(frozen=True, slots=True)
class Location:
    """
    The regions containing a point: the deepest polygon that contains it and its ancestors.
    """

    hromada: Region | None
    raion: Region | None
    oblast: Region

    @property
    def deepest(self) -> Region:
        return self.hromada or self.raion or self.oblast


@dataclass(frozen=True, slots=True)
class _Layer:
    """Polygons of one tree depth, smallest first so overlaps resolve to the smaller unit."""

    ids: npt.NDArray[np.object_]
    geoms: npt.NDArray[np.object_]
    tree: shapely.STRtree


class RegionRegistry:
    """
    All known regions, their hierarchy, names and geometry.

    Iteration order is stable: oblast-level units first, then raions, then hromadas; within a
    level numeric ids in numeric order, then other ids in string order.
    """

    def __init__(
        self,
        regions: Iterable[Region],
        geometries: Mapping[str, BaseGeometry | None] | None = None,
        aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        ordered = sorted(regions, key=_sort_key)
        self._regions: dict[str, Region] = {}
        for region in ordered:
            if region.id in self._regions:
                raise ValueError(f"duplicate region id {region.id!r}")
            self._regions[region.id] = region
        children: dict[str, list[Region]] = {}
        for region in ordered:
            if region.parent_id is None:
                continue
            if region.parent_id not in self._regions:
                raise ValueError(f"region {region.id!r}: unknown parent {region.parent_id!r}")
            children.setdefault(region.parent_id, []).append(region)
        self._children = {key: tuple(value) for key, value in children.items()}
        self._ancestors = {rid: self._walk_up(rid) for rid in self._regions}
        self._descendants: dict[str, frozenset[str]] = {}
        self._aliases = self._check_aliases(aliases or {})
        self._geoms = self._check_geometries(geometries or {})
        self._layers = self._build_layers()
        self._build_name_index()

    # -- construction ---------------------------------------------------------------------

    def _walk_up(self, region_id: str) -> tuple[str, ...]:
        chain: list[str] = []
        parent = self._regions[region_id].parent_id
        while parent is not None:
            if parent == region_id or parent in chain:
                raise ValueError(f"region {region_id!r}: its parent chain loops")
            chain.append(parent)
            parent = self._regions[parent].parent_id
        return tuple(chain)

    def _check_aliases(self, aliases: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
        checked: dict[str, tuple[str, ...]] = {}
        for region_id, names in aliases.items():
            if region_id not in self._regions:
                raise ValueError(f"aliases given for unknown region {region_id!r}")
            checked[region_id] = tuple(dict.fromkeys(names))
        return checked

    def _check_geometries(
        self, geometries: Mapping[str, BaseGeometry | None]
    ) -> dict[str, BaseGeometry]:
        checked: dict[str, BaseGeometry] = {}
        for region_id, geom in geometries.items():
            if region_id not in self._regions:
                raise ValueError(f"geometry given for unknown region {region_id!r}")
            if geom is None or geom.is_empty:
                continue
            if geom.geom_type not in _POLYGONAL:
                raise ValueError(f"region {region_id!r}: geometry is a {geom.geom_type}")
            checked[region_id] = geom
        return checked

    def _build_layers(self) -> tuple[_Layer, ...]:
        by_depth: dict[int, list[str]] = {}
        for region_id in self._regions:
            if region_id in self._geoms:
                by_depth.setdefault(len(self._ancestors[region_id]), []).append(region_id)
        layers = []
        for depth in sorted(by_depth, reverse=True):
            ids = by_depth[depth]
            geoms = np.array([self._geoms[rid] for rid in ids], dtype=object)
            order = np.argsort(shapely.area(geoms), kind="stable")
            geoms = geoms[order]
            shapely.prepare(geoms)
            # Touch every prepared index now, so concurrent first queries do not race to build it.
            points = shapely.point_on_surface(geoms)
            shapely.contains_xy(geoms, shapely.get_x(points), shapely.get_y(points))
            layers.append(_Layer(np.array(ids, dtype=object)[order], geoms, shapely.STRtree(geoms)))
        return tuple(layers)

    def _build_name_index(self) -> None:
        self._exact: dict[str, list[str]] = {}
        self._stripped: dict[str, list[str]] = {}
        self._codes: dict[str, str] = {}
        keys: list[tuple[str, str]] = []
        for region in self._regions.values():
            self._codes[region.id.casefold()] = region.id
            if region.katottg:
                self._codes.setdefault(region.katottg.casefold(), region.id)
            names = (region.name_uk, region.name_en, *self._aliases.get(region.id, ()))
            seen: set[str] = set()
            for name in names:
                exact = normalise_name(name)
                if not exact or exact in seen:
                    continue
                seen.add(exact)
                stripped = _strip_affixes(exact)
                self._exact.setdefault(exact, []).append(region.id)
                if stripped:
                    self._stripped.setdefault(stripped, []).append(region.id)
                    keys.append((stripped, region.id))
        self._keys = tuple(keys)

    # -- the tree -------------------------------------------------------------------------

    def get(self, region_id: str) -> Region:
        try:
            return self._regions[region_id]
        except KeyError:
            raise UnknownRegion(region_id) from None

    def find(self, region_id: str) -> Region | None:
        return self._regions.get(region_id)

    def __contains__(self, region_id: object) -> bool:
        return region_id in self._regions

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def __len__(self) -> int:
        return len(self._regions)

    def ids(self) -> list[str]:
        return list(self._regions)

    def parent(self, region_id: str) -> Region | None:
        parent_id = self.get(region_id).parent_id
        return None if parent_id is None else self._regions[parent_id]

    def children(self, region_id: str) -> tuple[Region, ...]:
        self.get(region_id)
        return self._children.get(region_id, ())

    def ancestors(self, region_id: str) -> tuple[str, ...]:
        """Ids of the parent, grandparent ... up to the root."""
        self.get(region_id)
        return self._ancestors[region_id]

    def concerning(self, region_ids: Iterable[str]) -> frozenset[str]:
        """
        The regions whose alerts concern *region_ids*: themselves, their descendants, and
        their ancestors (an ancestor's alert covers them). Raises `UnknownRegion`.
        """
        found: set[str] = set()
        for region_id in region_ids:
            found.add(self.get(region_id).id)
            found.update(self.ancestors(region_id))
            found.update(self.descendants(region_id))
        return frozenset(found)

    def descendants(self, region_id: str) -> frozenset[str]:
        """Ids of every region below this one, not including itself."""
        self.get(region_id)
        cached = self._descendants.get(region_id)
        if cached is None:
            found: set[str] = set()
            stack = [region_id]
            while stack:
                for child in self._children.get(stack.pop(), ()):
                    found.add(child.id)
                    stack.append(child.id)
            cached = self._descendants[region_id] = frozenset(found)
        return cached

    def oblast_of(self, region_id: str) -> Region:
        """The root of the region's tree: the oblast-level unit, itself when it is one."""
        chain = self.ancestors(region_id)
        return self._regions[chain[-1]] if chain else self._regions[region_id]

    def oblasts(self) -> tuple[Region, ...]:
        return self.by_level(RegionLevel.OBLAST)

    def by_level(self, level: RegionLevel) -> tuple[Region, ...]:
        return tuple(r for r in self._regions.values() if r.level is level)

    def aliases(self, region_id: str) -> tuple[str, ...]:
        """Other names the region is found by (old names, other spellings)."""
        self.get(region_id)
        return self._aliases.get(region_id, ())

    # -- names ----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> list[Region]:
        """
        Regions whose id, KATOTTG code or a name matches `text`, best first: the id or code,
        exact names, names equal once affixes such as «область»/"oblast"/«м.» are dropped,
        then names starting with the text, then names containing it.
        """
        if limit <= 0:
            return []
        query = normalise_name(text)
        stripped = _strip_affixes(query)
        tiers: list[Iterable[str]] = []
        code = self._codes.get(query)
        if code is not None:
            tiers.append((code,))
        tiers += [self._exact.get(query, ()), self._stripped.get(stripped, ())]
        if stripped:
            tiers.append(rid for key, rid in self._keys if key.startswith(stripped))
            tiers.append(rid for key, rid in self._keys if stripped in key)
        found: dict[str, None] = {}
        for tier in tiers:
            for rid in sorted(set(tier) - found.keys(), key=lambda r: _sort_key(self._regions[r])):
                found[rid] = None
                if len(found) == limit:
                    return [self._regions[r] for r in found]
        return [self._regions[r] for r in found]

    def find_by_name(self, text: str) -> Region | None:
        """The one region named `text` (see `search`), or None when none or several are."""
        query = normalise_name(text)
        for ids in (self._exact.get(query, ()), self._stripped.get(_strip_affixes(query), ())):
            unique = set(ids)
            if len(unique) == 1:
                return self._regions[unique.pop()]
            if unique:
                return None
        return None

    # -- geometry -------------------------------------------------------------------------

    def geometry(self, region_id: str) -> BaseGeometry | None:
        self.get(region_id)
        return self._geoms.get(region_id)

    def bounds(self, region_id: str) -> tuple[float, float, float, float] | None:
        """(min lon, min lat, max lon, max lat), or None without geometry."""
        geom = self.geometry(region_id)
        if geom is None:
            return None
        minx, miny, maxx, maxy = geom.bounds
        return (float(minx), float(miny), float(maxx), float(maxy))

    def locate(self, lat: float, lon: float) -> Location | None:
        """The deepest region whose polygon contains the point, with its ancestors."""
        if not (np.isfinite(lat) and np.isfinite(lon)):
            return None
        point = shapely.Point(lon, lat)
        for layer in self._layers:
            hits = layer.tree.query(point, predicate="within")
            if hits.size:
                return self._location(str(layer.ids[hits.min()]))
        return None

    def locate_many(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """
        The deepest region id (or None) for each point; the same answer as `locate`, in bulk.
        """
        y = np.asarray(lats, dtype=np.float64)
        x = np.asarray(lons, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"lats and lons differ in shape: {y.shape} != {x.shape}")
        shape = x.shape
        x, y = x.ravel(), y.ravel()
        result = np.full(x.size, None, dtype=object)
        pending = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        for layer in self._layers:
            if pending.size == 0:
                break
            px, py = x[pending], y[pending]
            # Bounding-box candidates from the tree, then one prepared point-in-polygon test
            # per candidate: much faster than a predicate query, which prepares the points.
            query, tree = layer.tree.query(shapely.points(px, py))
            inside = shapely.contains_xy(layer.geoms[tree], px[query], py[query])
            query, tree = query[inside], tree[inside]
            order = np.lexsort((tree, query))
            query, tree = query[order], tree[order]
            first = np.flatnonzero(np.diff(query, prepend=-1) != 0)
            result[pending[query[first]]] = layer.ids[tree[first]]
            keep = np.ones(pending.size, dtype=bool)
            keep[query[first]] = False
            pending = pending[keep]
        return result.reshape(shape)

    def _location(self, region_id: str) -> Location:
        chain = [self._regions[region_id]]
        chain += [self._regions[a] for a in self._ancestors[region_id]]
        by_level = {r.level: r for r in reversed(chain)}
        return Location(
            hromada=by_level.get(RegionLevel.HROMADA),
            raion=by_level.get(RegionLevel.RAION),
            oblast=chain[-1],
        )

    def to_geojson(
        self, region_ids: Iterable[str] | None = None, simplify_tolerance: float | None = None
    ) -> dict[str, Any]:
        """
        A GeoJSON FeatureCollection (geometry null for regions without a polygon), with the
        properties id, level, parent_id, name_uk, name_en, katottg.
        """
        regions = list(self) if region_ids is None else [self.get(r) for r in region_ids]
        features = []
        for region in regions:
            geom = self._geoms.get(region.id)
            if geom is not None and simplify_tolerance:
                geom = shapely.simplify(geom, simplify_tolerance, preserve_topology=True)
            features.append(
                {
                    "type": "Feature",
                    "id": region.id,
                    "properties": {
                        "id": region.id,
                        "level": region.level.value,
                        "parent_id": region.parent_id,
                        "name_uk": region.name_uk,
                        "name_en": region.name_en,
                        "katottg": region.katottg,
                    },
                    "geometry": None if geom is None else shape_mapping(geom),
                }
            )
        return {"type": "FeatureCollection", "features": features}
