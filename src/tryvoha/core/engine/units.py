"""
Alert units: the areas the engine switches on and off, in the metric plane, with their index.

A unit is normally one hromada. Regions with a polygon but no polygons below them (Kyiv city,
whose hromada is the city itself; occupied raions the boundary data skips) are units whole.
Where a raion's hromadas with polygons leave part of it uncovered, that remainder becomes a
unit standing for the raion's hromadas that have none, so no ground is left unwatched.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from tryvoha.core.engine.config import EngineConfig
from tryvoha.core.engine.projection import Projection
from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry

MIN_REMAINDER_KM2 = 20.0
"""Slivers between neighbouring polygons are boundary noise, not uncovered land."""


@dataclass(frozen=True, slots=True)
class UnitSpec:
    id: str
    region_ids: tuple[str, ...]
    """The regions raised and lifted when this unit is."""
    geometry: BaseGeometry
    """Longitude/latitude polygon."""
    raion_id: str | None = None
    oblast_id: str | None = None
    lineage: tuple[str, ...] = ()
    """The unit's region and its ancestors, for per-region lead-time overrides."""


class AlertUnits:
    """
    The units with plane polygons (simplified by `config.simplify_m`), an STRtree over
    them, areas, lead times and the raion/oblast each belongs to.
    """

    def __init__(
        self,
        specs: Sequence[UnitSpec],
        config: EngineConfig,
        projection: Projection | None = None,
    ) -> None:
        if not specs:
            raise ValueError("no alert units: the registry has no polygons")
        self.projection = projection or Projection()
        self.specs = tuple(specs)
        self.ids = [s.id for s in specs]
        self.index_of = {uid: i for i, uid in enumerate(self.ids)}
        full = np.array([self.projection.geometry(s.geometry) for s in specs], dtype=object)
        self.shapes = full
        """Unsimplified plane polygons, for scoring against ground truth."""
        self.area_km2: npt.NDArray[np.float64] = shapely.area(full) / 1e6
        self.geoms = shapely.simplify(full, config.simplify_m, preserve_topology=True)
        self.tree = shapely.STRtree(self.geoms)
        self.lead_s = np.array([_lead_time(s, config) for s in specs], dtype=np.float64)
        self.base_lead_s = config.lead_time_s
        # Units that need more lead than the default are few (Kyiv city); they are checked
        # against every track instead of widening every track's search.
        self.is_special = self.lead_s > self.base_lead_s
        self.special = np.flatnonzero(self.is_special)
        # A cheap lower bound of distances: no point of a unit is further than
        # `circumradius` from its centroid.
        centres = shapely.centroid(self.geoms)
        self.centre_x = shapely.get_x(centres)
        self.centre_y = shapely.get_y(centres)
        self.circumradius = _circumradii(self.geoms, self.centre_x, self.centre_y)
        # ... and no point of it is further than the distance to `inner`, a point inside it.
        inner = shapely.point_on_surface(self.geoms)
        self.inner_x = shapely.get_x(inner)
        self.inner_y = shapely.get_y(inner)
        bounds = shapely.bounds(self.geoms)
        self.min_x, self.min_y, self.max_x, self.max_y = bounds.T.copy()
        self.weight = np.array([len(s.region_ids) for s in specs], dtype=np.float64)
        self.raion_ids, self.raion_of = _groups([s.raion_id for s in specs])
        self.oblast_ids, self.oblast_of = _groups([s.oblast_id for s in specs])
        self.raion_area: npt.NDArray[np.float64] = np.bincount(
            self.raion_of[self.raion_of >= 0],
            weights=self.area_km2[self.raion_of >= 0],
            minlength=len(self.raion_ids),
        ).astype(np.float64)
        self.oblast_area: npt.NDArray[np.float64] = np.bincount(
            self.oblast_of[self.oblast_of >= 0],
            weights=self.area_km2[self.oblast_of >= 0],
            minlength=len(self.oblast_ids),
        ).astype(np.float64)
        self.unit_of_region: dict[str, int] = {}
        for i, spec in enumerate(specs):
            for region_id in spec.region_ids:
                self.unit_of_region[region_id] = i

    def __len__(self) -> int:
        return len(self.ids)

    @functools.cached_property
    def outline(self) -> BaseGeometry:
        """
        The area all units cover, as one plane geometry to within about 2 km (the slivers
        between neighbouring polygons closed).
        """
        coarse = shapely.simplify(self.geoms, 2000.0)
        return shapely.union_all(shapely.buffer(coarse, 2000.0, quad_segs=1))

    @classmethod
    def from_registry(
        cls,
        registry: RegionRegistry,
        config: EngineConfig,
        projection: Projection | None = None,
    ) -> AlertUnits:
        return cls(unit_specs(registry), config, projection)


def _circumradii(
    geoms: npt.NDArray[np.object_], cx: npt.NDArray[np.float64], cy: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    reach = np.hypot(coords[:, 0] - cx[owner], coords[:, 1] - cy[owner])
    radii = np.zeros(len(geoms))
    np.maximum.at(radii, owner, reach)
    return radii


def _lead_time(spec: UnitSpec, config: EngineConfig) -> float:
    for region_id in spec.lineage or (spec.id,):
        if region_id in config.lead_time_overrides:
            return config.lead_time_overrides[region_id]
    return config.lead_time_s


def _groups(keys: Sequence[str | None]) -> tuple[list[str], npt.NDArray[np.int64]]:
    ids: list[str] = []
    position: dict[str, int] = {}
    of = np.full(len(keys), -1, dtype=np.int64)
    for i, key in enumerate(keys):
        if key is None:
            continue
        if key not in position:
            position[key] = len(ids)
            ids.append(key)
        of[i] = position[key]
    return ids, of


def unit_specs(registry: RegionRegistry) -> list[UnitSpec]:
    """
    The alert units of *registry*: hromadas with polygons, polygonal regions with nothing
    polygonal below them, and the uncovered rest of raions with hromadas lacking polygons.
    """
    specs: list[UnitSpec] = []
    for region in registry:
        geom = registry.geometry(region.id)
        if geom is None:
            continue
        below = [d for d in registry.descendants(region.id) if registry.geometry(d) is not None]
        if region.level is RegionLevel.HROMADA or not below:
            specs.append(_spec(registry, region.id, (region.id,), geom))
        elif region.level is RegionLevel.RAION:
            remainder = _remainder(registry, region.id, geom)
            if remainder is not None:
                specs.append(remainder)
    return specs


def _spec(
    registry: RegionRegistry, unit_id: str, region_ids: tuple[str, ...], geom: BaseGeometry
) -> UnitSpec:
    ancestors = registry.ancestors(unit_id)
    raion = next((a for a in ancestors if registry.get(a).level is RegionLevel.RAION), None)
    oblast = ancestors[-1] if ancestors else None
    return UnitSpec(
        id=unit_id,
        region_ids=region_ids,
        geometry=geom,
        raion_id=raion,
        oblast_id=oblast,
        lineage=(unit_id, *ancestors),
    )


def _remainder(registry: RegionRegistry, raion_id: str, geom: BaseGeometry) -> UnitSpec | None:
    children = registry.children(raion_id)
    bare = tuple(c.id for c in children if registry.geometry(c.id) is None)
    if not bare:
        return None
    covered = [g for c in children if (g := registry.geometry(c.id)) is not None]
    rest = shapely.difference(geom, shapely.union_all(covered))
    if rest.is_empty:
        return None
    # Rough km² from degrees (about 111 x 74 km per square degree at Ukraine's latitudes):
    # enough to tell a real gap from slivers.
    if shapely.area(rest) * 111 * 74 < MIN_REMAINDER_KM2:
        return None
    spec = _spec(registry, bare[0], bare, rest)
    return UnitSpec(
        id=f"{raion_id}:rest",
        region_ids=bare,
        geometry=rest,
        raion_id=spec.raion_id,
        oblast_id=spec.oblast_id,
        lineage=spec.lineage,
    )
