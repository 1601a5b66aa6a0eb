"""
The warning engine's parameters: one frozen row per threat class and the engine-wide values.

`parse_config()` turns the text of a TOML file (the shipped `data/engine.toml`, or an
operator's own) into an `EngineConfig`, naming every missing or out-of-range value. Reading
the file is left to the caller: this module does no I/O.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tryvoha.core.model import ThreatClass

KMH = 1 / 3.6
"""Metres per second in one km/h."""


class ConfigError(ValueError):
    """The engine configuration is incomplete or has a value out of range."""


@dataclass(frozen=True, slots=True)
class ClassParams:
    """
    How one threat class moves and how long the engine trusts what it last heard of it.
    """

    v_min_kmh: float
    v_max_kmh: float
    turn_deg: float
    danger_radius_m: float
    stale_after_s: float
    coast_s: float
    hold_s: float
    immediate: bool
    range_km: float
    reach_m: float

    @property
    def v_max(self) -> float:
        """The top speed in m/s: the arrival bound divides distances by it."""
        return self.v_max_kmh * KMH

    @property
    def v_min(self) -> float:
        return self.v_min_kmh * KMH


@dataclass(frozen=True, slots=True)
class EscalationParams:
    enabled: bool
    raion_fraction: float
    oblast_fraction: float
    release_fraction: float
    hold_s: float


@dataclass(frozen=True, slots=True)
class EngineConfig:
    lead_time_s: float
    margin_s: float
    precision_factor: float
    min_precision_m: float
    simplify_m: float
    requery_s: float
    update_shift_s: float
    min_quiet_s: float
    future_tolerance_s: float
    max_report_age_s: float
    adopt_hold_s: float
    escalation: EscalationParams
    classes: Mapping[ThreatClass, ClassParams]
    lead_time_overrides: Mapping[str, float] = field(default_factory=dict)

    def params(self, threat_class: ThreatClass) -> ClassParams:
        return self.classes[threat_class]

    def lead_time(self, region_id: str) -> float:
        return self.lead_time_overrides.get(region_id, self.lead_time_s)

    @property
    def max_lead_time_s(self) -> float:
        return max([self.lead_time_s, *self.lead_time_overrides.values()])


_ENGINE_FIELDS = tuple(
    f.name
    for f in fields(EngineConfig)
    if f.name not in ("escalation", "classes", "lead_time_overrides")
)
_NON_NEGATIVE = {"min_precision_m", "simplify_m", "margin_s", "update_shift_s", "min_quiet_s"}


def parse_config(text: str) -> EngineConfig:
    """
    The configuration in TOML *text*; raises `ConfigError` naming what is wrong.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"engine config is not valid TOML: {exc}") from None
    return config_from_mapping(data)


def config_from_mapping(data: Mapping[str, Any]) -> EngineConfig:
    engine = _table(data, "engine")
    values = {name: _number(engine, name, "engine") for name in _ENGINE_FIELDS}
    for name, value in values.items():
        if value < 0 or (value == 0 and name not in _NON_NEGATIVE):
            raise ConfigError(f"engine.{name}: must be positive, not {value}")
    overrides = {
        str(region): _positive(value, f"lead_time_overrides.{region}")
        for region, value in data.get("lead_time_overrides", {}).items()
    }
    escalation = _escalation(_table(data, "escalation"))
    classes_table = _table(data, "classes")
    classes = {}
    for threat_class in ThreatClass:
        classes[threat_class] = _class_params(
            _table(classes_table, threat_class.value, "classes."), threat_class.value
        )
    unknown = set(classes_table) - {c.value for c in ThreatClass}
    if unknown:
        raise ConfigError(f"classes: unknown threat classes {sorted(unknown)}")
    return EngineConfig(
        **values, escalation=escalation, classes=classes, lead_time_overrides=overrides
    )


def _class_params(table: Mapping[str, Any], name: str) -> ClassParams:
    where = f"classes.{name}"
    numbers = {
        f.name: _number(table, f.name, where) for f in fields(ClassParams) if f.name != "immediate"
    }
    for key, value in numbers.items():
        if value < 0 or (value == 0 and key != "reach_m"):
            raise ConfigError(f"{where}.{key}: must be positive, not {value}")
    if numbers["v_min_kmh"] > numbers["v_max_kmh"]:
        raise ConfigError(f"{where}: v_min_kmh is above v_max_kmh")
    if numbers["turn_deg"] >= 90:
        raise ConfigError(f"{where}.turn_deg: must be below 90")
    immediate = table.get("immediate")
    if not isinstance(immediate, bool):
        raise ConfigError(f"{where}.immediate: must be true or false")
    return ClassParams(**numbers, immediate=immediate)


def _escalation(table: Mapping[str, Any]) -> EscalationParams:
    enabled = table.get("enabled")
    if not isinstance(enabled, bool):
        raise ConfigError("escalation.enabled: must be true or false")
    fractions = {
        name: _number(table, name, "escalation")
        for name in ("raion_fraction", "oblast_fraction", "release_fraction")
    }
    for name, value in fractions.items():
        if not 0 < value <= 1:
            raise ConfigError(f"escalation.{name}: must be in (0, 1], not {value}")
    if fractions["release_fraction"] > min(
        fractions["raion_fraction"], fractions["oblast_fraction"]
    ):
        raise ConfigError("escalation.release_fraction: must not exceed the raise fractions")
    hold = _positive(_number(table, "hold_s", "escalation"), "escalation.hold_s")
    return EscalationParams(enabled=enabled, **fractions, hold_s=hold)


def _table(data: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{prefix}{key}: missing table")
    return value


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}.{key}: missing or not a number")
    if not math.isfinite(value):
        raise ConfigError(f"{where}.{key}: must be finite")
    return float(value)


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{where}: must be a positive number")
    return float(value)
