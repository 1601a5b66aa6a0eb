"""
The engine's inputs at the edge: its configuration file and the alert units of a registry.

Building the units (projecting and simplifying some 1,400 polygons) takes a fraction of a
second, so it is done once per (registry, configuration) pair and shared.
"""

from __future__ import annotations

import functools
import threading
from importlib import resources
from pathlib import Path

from tryvoha.core.engine import AlertUnits, EngineConfig, parse_config
from tryvoha.core.regions import RegionRegistry

_units: dict[tuple[int, int], tuple[RegionRegistry, EngineConfig, AlertUnits]] = {}
_lock = threading.Lock()


@functools.cache
def shipped_config() -> EngineConfig:
    return parse_config(resources.files("tryvoha.data").joinpath("engine.toml").read_text("utf-8"))


def load_engine_config(path: str | Path | None = None) -> EngineConfig:
    """The configuration in *path*, or the shipped `data/engine.toml` when None."""
    if path is None:
        return shipped_config()
    return parse_config(Path(path).read_text("utf-8"))


def engine_units(registry: RegionRegistry, config: EngineConfig) -> AlertUnits:
    key = (id(registry), id(config))
    with _lock:
        cached = _units.get(key)
        if cached is None:
            cached = (registry, config, AlertUnits.from_registry(registry, config))
            _units[key] = cached
    return cached[2]
