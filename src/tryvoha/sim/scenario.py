"""
Scenarios: a night of attacks described as data (TOML or JSON), and how to load them.

A scenario names its window, seed and groups of threats (model, class, count, launch
areas, launch window, targets, speed range, fates). Places, border gates, routes, weapon
models and the feed's parameters come from `scenarios/common.toml`, which a scenario may
extend or override with its own `places`, `place_groups`, `routes`, `feed` and `fate`
tables. docs/engine.md describes every key.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from tryvoha.core.codec import parse_time
from tryvoha.core.model import ThreatClass

SHIPPED = "tryvoha.sim.scenarios"


class ScenarioError(ValueError):
    """A scenario file is missing something or names something unknown."""


class Fate(StrEnum):
    IMPACT = "impact"
    DESTROYED = "destroyed"
    LOST = "lost"


Range = tuple[float, float]
Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Place:
    key: str
    lat: float
    lon: float
    radius_km: float
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    model: str
    threat_class: ThreatClass
    count: int
    launch_from: Weights
    launch_start: datetime
    launch_end: datetime
    targets: Weights
    speed_kmh: Range
    doglegs: tuple[int, int]
    fates: tuple[tuple[Fate, int], ...]


@dataclass(frozen=True, slots=True)
class FeedParams:
    interval_s: Range
    delay_s: Range
    detect_s: Range
    precision_m: Range
    drop: float
    course_sd_deg: float
    speed_sd_mps: float
    course_missing: float
    lost_report: float
    predict_after_s: float = 20.0
    impact_radius_m: Range = (40_000.0, 4_000.0)


@dataclass(frozen=True, slots=True)
class FateParams:
    destroyed_at: Range
    lost_at: Range
    lost_flight_s: Range
    lost_turn_sd_deg: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    source: str
    start: datetime
    end: datetime
    seed: int
    groups: tuple[Group, ...]
    places: Mapping[str, Place]
    place_groups: Mapping[str, Mapping[str, float]]
    routes: Mapping[str, tuple[str, ...]]
    feed: Mapping[ThreatClass, FeedParams]
    fate: FateParams
    coverage_km: float
    truth_step_s: float

    @property
    def threat_count(self) -> int:
        return sum(g.count for g in self.groups)

    def target_weights(self, targets: Weights) -> list[tuple[Place, float]]:
        """Targets with place groups expanded into their places, weights summing to 1."""
        spread: dict[str, float] = {}
        for key, weight in targets:
            members = self.place_groups.get(key)
            if members is None:
                spread[key] = spread.get(key, 0.0) + weight
                continue
            total = sum(members.values())
            for member, share in members.items():
                spread[member] = spread.get(member, 0.0) + weight * share / total
        norm = sum(spread.values())
        return [(self.places[key], w / norm) for key, w in spread.items()]


# -- loading ------------------------------------------------------------------------------


def shipped_names() -> list[str]:
    folder = resources.files(SHIPPED)
    return sorted(
        p.name.removesuffix(".toml")
        for p in folder.iterdir()
        if p.name.endswith(".toml") and p.name != "common.toml"
    )


def common_table() -> dict[str, Any]:
    text = resources.files(SHIPPED).joinpath("common.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_scenario(name_or_path: str) -> Scenario:
    """A shipped scenario by name (`2025-07-04`) or a scenario file (.toml or .json)."""
    path = Path(name_or_path)
    if path.suffix in (".toml", ".json") and path.exists():
        text = path.read_text("utf-8")
        where = str(path)
    elif name_or_path in shipped_names():
        text = resources.files(SHIPPED).joinpath(f"{name_or_path}.toml").read_text("utf-8")
        path = Path(f"{name_or_path}.toml")
        where = f"scenario {name_or_path}"
    else:
        known = ", ".join(shipped_names())
        raise ScenarioError(f"no scenario {name_or_path!r}: give a file or one of {known}")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    return parse_scenario(data, common_table())


def parse_scenario(data: Mapping[str, Any], common: Mapping[str, Any]) -> Scenario:
    places = {
        key: _place(key, value)
        for key, value in {**common.get("places", {}), **data.get("places", {})}.items()
    }
    place_groups = {**common.get("place_groups", {}), **data.get("place_groups", {})}
    routes = {
        key: tuple(value)
        for key, value in {**common.get("routes", {}), **data.get("routes", {})}.items()
    }
    feed_common = common.get("feed", {})
    feed_own = data.get("feed", {})
    feed = {
        c: _feed(c, {**feed_common.get(c.value, {}), **feed_own.get(c.value, {})})
        for c in ThreatClass
    }
    fate = _fate({**common.get("fate", {}), **data.get("fate", {})})
    scenario = Scenario(
        name=_text(data, "name"),
        description=str(data.get("description", "")),
        source=str(data.get("source", "")),
        start=_when(data, "start"),
        end=_when(data, "end"),
        seed=int(_number(data, "seed", "scenario")),
        groups=tuple(_group(g, i) for i, g in enumerate(data.get("groups", []))),
        places=places,
        place_groups={k: dict(v) for k, v in place_groups.items()},
        routes=routes,
        feed=feed,
        fate=fate,
        coverage_km=_number({**feed_common, **feed_own}, "coverage_km", "feed"),
        truth_step_s=_number({**feed_common, **feed_own}, "truth_step_s", "feed"),
    )
    _check(scenario)
    return scenario


def _check(scenario: Scenario) -> None:
    if scenario.end <= scenario.start:
        raise ScenarioError("scenario: end must be after start")
    if not scenario.groups:
        raise ScenarioError("scenario: no groups")
    for group in scenario.groups:
        where = f"groups.{group.name}"
        for key, _ in group.launch_from:
            if key not in scenario.places:
                raise ScenarioError(f"{where}.launch_from: unknown place {key!r}")
        for key, _ in group.targets:
            if key not in scenario.places and key not in scenario.place_groups:
                raise ScenarioError(f"{where}.targets: unknown place {key!r}")
        if sum(n for _, n in group.fates) != group.count:
            raise ScenarioError(
                f"{where}.fates: add up to {sum(n for _, n in group.fates)}, "
                f"not the count {group.count}"
            )
        if group.launch_end < group.launch_start:
            raise ScenarioError(f"{where}: launch_end is before launch_start")
    for key, members in scenario.place_groups.items():
        for member in members:
            if member not in scenario.places:
                raise ScenarioError(f"place_groups.{key}: unknown place {member!r}")
    for key, gates in scenario.routes.items():
        for gate in gates:
            if gate not in scenario.places:
                raise ScenarioError(f"routes.{key}: unknown place {gate!r}")


def _place(key: str, value: Mapping[str, Any]) -> Place:
    where = f"places.{key}"
    return Place(
        key=key,
        lat=_number(value, "lat", where),
        lon=_number(value, "lon", where),
        radius_km=_number(value, "radius_km", where),
        names=tuple(str(n) for n in value.get("names", ())),
    )


def _group(value: Mapping[str, Any], index: int) -> Group:
    where = f"groups[{index}]"
    name = str(value.get("name", f"group {index + 1}"))
    raw_class = value.get("class")
    if raw_class not in {c.value for c in ThreatClass}:
        raise ScenarioError(f"{where}.class: unknown threat class {raw_class!r}")
    threat_class = ThreatClass(str(raw_class))
    fates = []
    for key, count in dict(value.get("fates", {})).items():
        try:
            fates.append((Fate(key), int(count)))
        except ValueError:
            raise ScenarioError(f"{where}.fates: unknown fate {key!r}") from None
    doglegs = _range(value, "doglegs", where)
    return Group(
        name=name,
        model=str(value.get("model", name)),
        threat_class=threat_class,
        count=int(_number(value, "count", where)),
        launch_from=_weights(value, "launch_from", where),
        launch_start=_when(value, "launch_start", where),
        launch_end=_when(value, "launch_end", where),
        targets=_weights(value, "targets", where),
        speed_kmh=_range(value, "speed_kmh", where),
        doglegs=(int(doglegs[0]), int(doglegs[1])),
        fates=tuple(fates),
    )


def _feed(threat_class: ThreatClass, value: Mapping[str, Any]) -> FeedParams:
    where = f"feed.{threat_class.value}"
    optional: dict[str, Any] = {}
    if "predict_after_s" in value:
        optional["predict_after_s"] = _number(value, "predict_after_s", where)
    if "impact_radius_m" in value:
        optional["impact_radius_m"] = _range(value, "impact_radius_m", where, ordered=False)
    return FeedParams(
        interval_s=_range(value, "interval_s", where),
        delay_s=_range(value, "delay_s", where),
        detect_s=_range(value, "detect_s", where),
        precision_m=_range(value, "precision_m", where),
        drop=_number(value, "drop", where),
        course_sd_deg=_number(value, "course_sd_deg", where),
        speed_sd_mps=_number(value, "speed_sd_mps", where),
        course_missing=_number(value, "course_missing", where),
        lost_report=_number(value, "lost_report", where),
        **optional,
    )


def _fate(value: Mapping[str, Any]) -> FateParams:
    return FateParams(
        destroyed_at=_range(value, "destroyed_at", "fate"),
        lost_at=_range(value, "lost_at", "fate"),
        lost_flight_s=_range(value, "lost_flight_s", "fate"),
        lost_turn_sd_deg=_number(value, "lost_turn_sd_deg", "fate"),
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"scenario.{key}: required text")
    return value


def _when(data: Mapping[str, Any], key: str, where: str = "scenario") -> datetime:
    value = data.get(key)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ScenarioError(f"{where}.{key}: a time needs a UTC offset")
        return value
    try:
        return parse_time(str(value))
    except ValueError:
        raise ScenarioError(f"{where}.{key}: not an ISO 8601 time with offset: {value!r}") from None


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}.{key}: missing or not a number")
    return float(value)


def _range(data: Mapping[str, Any], key: str, where: str, *, ordered: bool = True) -> Range:
    value = data.get(key)
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ScenarioError(f"{where}.{key}: must be [low, high]")
    low, high = float(value[0]), float(value[1])
    if ordered and low > high:
        raise ScenarioError(f"{where}.{key}: low is above high")
    return (low, high)


def _weights(data: Mapping[str, Any], key: str, where: str) -> Weights:
    value = data.get(key)
    if isinstance(value, list):
        value = dict.fromkeys(value, 1.0)
    if not isinstance(value, Mapping) or not value:
        raise ScenarioError(f"{where}.{key}: must name at least one place")
    weights = tuple((str(k), float(v)) for k, v in value.items())
    if any(w <= 0 for _, w in weights):
        raise ScenarioError(f"{where}.{key}: weights must be positive")
    return weights
