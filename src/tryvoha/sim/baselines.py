"""
What the engine is compared with on the same night.

- `oblast_wide`: an oblast is alerted while any tracked threat can reach it within the lead
  time (the engine's own arrival bound, heading-free, with oblasts as the only areas), the
  way most of Ukraine was warned until 2025.
- `real_sirens`: the real oblast-level siren intervals of that night, for the regions that
  have them (Kyiv city and Kyiv oblast in the bundled night).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from importlib import resources
from pathlib import Path

from tryvoha.core.codec import parse_time
from tryvoha.core.engine import AlertUnits, EngineConfig, UnitSpec, WarningEngine
from tryvoha.core.engine.projection import Projection
from tryvoha.core.regions import RegionRegistry
from tryvoha.sim.feed import Delivery
from tryvoha.sim.run import AlertLog, run_engine

BUNDLED_NIGHT = "2025-07-04.csv"
KYIV_REGIONS = ("31", "14")
"""Kyiv city and Kyiv oblast: the regions whose real sirens the score compares against."""


class SirenFileError(ValueError):
    pass


def oblast_units(
    registry: RegionRegistry, config: EngineConfig, projection: Projection | None = None
) -> AlertUnits:
    specs = []
    for oblast in registry.oblasts():
        geometry = registry.geometry(oblast.id)
        if geometry is not None:
            specs.append(UnitSpec(oblast.id, (oblast.id,), geometry, lineage=(oblast.id,)))
    return AlertUnits(specs, config, projection)


def oblast_wide(
    units: AlertUnits,
    config: EngineConfig,
    deliveries: Sequence[Delivery],
    start: float,
    end: float,
    *,
    tick_s: float = 1.0,
) -> AlertLog:
    engine = WarningEngine(units, config, heading_free=True, escalate=False)
    return run_engine(engine, deliveries, start, end, tick_s=tick_s)


def real_sirens(
    registry: RegionRegistry,
    start: float,
    end: float,
    *,
    path: Path | None = None,
    regions: Collection[str] = KYIV_REGIONS,
) -> AlertLog:
    """
    Siren intervals of *regions* from *path* (the bundled night when None): either the
    bundled form (`region_id,started_at,finished_at`) or the derived oblast-events form of
    shared/data (`region,started_at,finished_at` with English oblast names).
    """
    if path is None:
        text = resources.files("tryvoha.data").joinpath("nights", BUNDLED_NIGHT).read_text("utf-8")
        where = f"bundled night {BUNDLED_NIGHT}"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise SirenFileError(f"cannot read {path}: {exc.strerror}") from None
        where = str(path)
    log = AlertLog(start, end)
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        region_id = _region_id(registry, row, where, number)
        if region_id not in regions:
            continue
        try:
            on = parse_time(row["started_at"].replace(" ", "T")).timestamp()
            off = parse_time(row["finished_at"].replace(" ", "T")).timestamp()
        except (KeyError, ValueError):
            raise SirenFileError(
                f"{where}:{number}: needs started_at and finished_at times"
            ) from None
        log.add(region_id, on, off)
    return log


def _region_id(registry: RegionRegistry, row: dict[str, str], where: str, number: int) -> str:
    if row.get("region_id"):
        return row["region_id"]
    name = row.get("region")
    if not name:
        raise SirenFileError(f"{where}:{number}: no region_id or region column")
    region = registry.find_by_name(name)
    if region is None:
        raise SirenFileError(f"{where}:{number}: unknown region {name!r}")
    return region.id
