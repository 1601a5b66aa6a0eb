"""
Build a scenario from the public attacks register (`missile_attacks_daily.csv`).

One row is one weapon model in one attack: when (Kyiv local time), from where, at what,
how many launched, shot down (`destroyed`) and lost (`not_reach_goal`). A *night* is every
row with a clock time starting between noon the day before and noon of that date; rows with
a date only are regional summaries that repeat the national ones, so a night leaves them out
(pick one with its row number instead).

Launch areas and targets are looked up by name in `scenarios/common.toml`; weapon models
map to a threat class and speed by name prefix. Whatever the register does not say (the
split between launch areas, routes, exact launch times) is drawn by the generator.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tryvoha.core.codec import format_time
from tryvoha.sim.scenario import Scenario, ScenarioError, common_table, parse_scenario

KYIV = ZoneInfo("Europe/Kyiv")
_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")
LAUNCH_SHARE = {"shahed": 0.6, "jet_drone": 0.6, "unknown": 0.6}
"""Launches spread over this share of a row's attack window (missiles: all of it)."""
FALLBACK_LAUNCH = {
    "shahed": ("kursk", "bryansk", "oryol", "millerovo", "primorsko_akhtarsk"),
    "jet_drone": ("kursk", "bryansk", "primorsko_akhtarsk"),
    "cruise_missile": ("caspian", "black_sea"),
    "ballistic_missile": ("kursk", "bryansk", "crimea"),
    "aircraft": ("kursk",),
    "unknown": ("kursk", "primorsko_akhtarsk"),
}


@dataclass(frozen=True, slots=True)
class AttackRow:
    number: int
    """1-based data row (the header is not counted)."""
    start: datetime
    end: datetime
    dated_only: bool
    model: str
    launch_place: str
    targets: tuple[str, ...]
    launched: int
    destroyed: int
    lost: int


def read_attacks(path: Path) -> list[AttackRow]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    if rows and "time_start" not in rows[0]:
        raise ScenarioError(f"{path}: not the attacks register (no time_start column)")
    return [_row(number, raw) for number, raw in enumerate(rows, start=1)]


def _row(number: int, raw: Mapping[str, str]) -> AttackRow:
    start, dated_only = _local(raw.get("time_start", ""), number)
    end, _ = _local(raw.get("time_end", "") or raw.get("time_start", ""), number)
    if dated_only:
        end = start + timedelta(days=1)
    targets = tuple(
        t
        for t in (
            raw.get("target_main", ""),
            raw.get("target", ""),
            *_listed(raw.get("affected region", "")),
        )
        if t and t.strip()
    )
    return AttackRow(
        number=number,
        start=start,
        end=max(end, start + timedelta(minutes=10)),
        dated_only=dated_only,
        model=raw.get("model", "").strip(),
        launch_place=raw.get("launch_place", "").strip(),
        targets=targets,
        launched=_count(raw.get("launched")),
        destroyed=_count(raw.get("destroyed")),
        lost=_count(raw.get("not_reach_goal")),
    )


def _local(text: str, number: int) -> tuple[datetime, bool]:
    """A Kyiv-local `YYYY-MM-DD[ H:MM]` as UTC, and whether it had no clock time."""
    match = _LOCAL_TIME.match(text.strip())
    if match is None:
        raise ScenarioError(f"row {number}: time {text!r} is not a date or date-time")
    day, hour, minute = match.groups()
    try:
        clock = time(int(hour), int(minute)) if hour else time()
        local = datetime.combine(date.fromisoformat(day), clock, KYIV)
    except ValueError:
        raise ScenarioError(f"row {number}: time {text!r} is not a date or date-time") from None
    return local.astimezone(UTC), hour is None


def _listed(text: str) -> list[str]:
    return [part.strip(" '\"") for part in text.strip("[]").split(",") if part.strip(" '\"")]


def _count(text: str | None) -> int:
    try:
        value = float(text or 0)
    except ValueError:
        return 0
    return 0 if math.isnan(value) else max(0, int(value))


def rows_of_night(rows: Sequence[AttackRow], night: date) -> list[AttackRow]:
    """Rows with a clock time starting from noon before *night* until noon of *night*."""
    low = datetime.combine(night - timedelta(days=1), time(12), KYIV)
    high = datetime.combine(night, time(12), KYIV)
    return [r for r in rows if not r.dated_only and low <= r.start < high]


def scenario_table(rows: Sequence[AttackRow], name: str, seed: int) -> dict[str, Any]:
    """The scenario (as a TOML/JSON table) for *rows*; launched counts of zero are skipped."""
    common = common_table()
    wanted = [r for r in rows if r.launched > 0]
    if not wanted:
        raise ScenarioError("no attack rows with launched threats")
    groups = [_group(row, common) for row in wanted]
    start = min(r.start for r in wanted) - timedelta(minutes=15)
    end = max(r.end for r in wanted) + timedelta(hours=1)
    numbers = ", ".join(str(r.number) for r in wanted)
    return {
        "name": name,
        "description": f"{sum(r.launched for r in wanted)} threats from the attacks register",
        "source": f"missile_attacks_daily.csv data rows {numbers}",
        "start": format_time(start),
        "end": format_time(end),
        "seed": seed,
        "groups": groups,
    }


def scenario_from_rows(
    rows: Sequence[AttackRow], name: str, seed: int
) -> tuple[Scenario, dict[str, Any]]:
    table = scenario_table(rows, name, seed)
    return parse_scenario(table, common_table()), table


def _group(row: AttackRow, common: Mapping[str, Any]) -> dict[str, Any]:
    threat_class, speed = _model(row.model, common)
    launch = _launch_places(row.launch_place, threat_class, common)
    share = LAUNCH_SHARE.get(threat_class, 1.0)
    launch_end = row.start + (row.end - row.start) * share
    destroyed = min(row.destroyed, row.launched)
    lost = min(row.lost, row.launched - destroyed)
    fates = {"destroyed": destroyed, "lost": lost, "impact": row.launched - destroyed - lost}
    return {
        "name": f"{row.model} (row {row.number})",
        "model": row.model,
        "class": threat_class,
        "count": row.launched,
        "launch_from": dict.fromkeys(launch, 1),
        "launch_start": format_time(row.start),
        "launch_end": format_time(launch_end),
        "targets": _targets(row.targets, common),
        "speed_kmh": list(speed),
        "doglegs": [0, 0] if threat_class == "ballistic_missile" else [1, 2],
        "fates": {k: v for k, v in fates.items() if v},
    }


def _model(model: str, common: Mapping[str, Any]) -> tuple[str, tuple[float, float]]:
    first = model.split(" and ")[0].strip()
    for entry in common.get("models", []):
        if first.startswith(entry["prefix"]):
            low, high = entry["speed_kmh"]
            return str(entry["class"]), (float(low), float(high))
    raise ScenarioError(f"no weapon model entry matches {model!r}")


def _names(common: Mapping[str, Any]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, place in common.get("places", {}).items():
        for name in place.get("names", ()):
            index.setdefault(name.casefold(), key)
    return index


def _launch_places(text: str, threat_class: str, common: Mapping[str, Any]) -> list[str]:
    index = _names(common)
    found = [
        index[p.strip().casefold()] for p in text.split(" and ") if p.strip().casefold() in index
    ]
    return list(dict.fromkeys(found)) or list(FALLBACK_LAUNCH[threat_class])


def _targets(names: Sequence[str], common: Mapping[str, Any]) -> dict[str, float]:
    places = _names(common)
    groups = {
        n.casefold(): key
        for key, listed in common.get("place_group_names", {}).items()
        for n in listed
    }
    weights: dict[str, float] = {}
    for position, name in enumerate(names):
        key = groups.get(name.casefold()) or places.get(name.casefold())
        if key is None:
            continue
        # The first name is the main target; the rest share the remaining attention.
        weights[key] = weights.get(key, 0.0) + (3.0 if position == 0 else 1.0)
    return weights or {"ukraine": 1.0}
