"""
The early-warning engine: threat tracks in, per-hromada alert decisions out (docs/engine.md).
"""

from __future__ import annotations

from tryvoha.core.engine.config import ClassParams, ConfigError, EngineConfig, parse_config
from tryvoha.core.engine.decision import EngineDecision, RegionChange
from tryvoha.core.engine.engine import Mode, WarningEngine
from tryvoha.core.engine.tracks import (
    ImpactArea,
    Rejection,
    TrackReport,
    TrackStatus,
    parse_report,
    report_to_dict,
)
from tryvoha.core.engine.units import AlertUnits, UnitSpec, unit_specs

__all__ = [
    "AlertUnits",
    "ClassParams",
    "ConfigError",
    "EngineConfig",
    "EngineDecision",
    "ImpactArea",
    "Mode",
    "RegionChange",
    "Rejection",
    "TrackReport",
    "TrackStatus",
    "UnitSpec",
    "WarningEngine",
    "parse_config",
    "parse_report",
    "report_to_dict",
    "unit_specs",
]
