"""
Scoring a warning policy against ground truth, with the definitions of early-warning.md §2.

An *encounter* is a threat coming within its class's danger radius of an area (a unit):
entry `t_in`, exit `t_out`, found exactly by intersecting the flight path with the area's
polygon widened by that radius. Ballistic threats count only where they come down. An area
is alerted while it or an ancestor region has an alert. Then, per encounter and per area:

- miss: no alert at `t_in`; timely: alerted at least the area's lead time before `t_in`;
  lead time = `t_in` - start of the alert interval holding `t_in` (hits only);
- departure time: end of an alert interval - the last exit of the encounters it covered;
- false alarm: an alert interval no encounter overlaps; FAR = false / all intervals;
- over-warning: alerted time outside every justified window `[t_in - lead - slack, t_out]`,
  in hromada-hours (an area that stands for k hromadas counts k) and km²-hours. Population
  is not in the data, so person-hours cannot be given;
- churn: alert starts and ends per area-hour, and re-alerts within 10 min of an all-clear.

Everything here is pure: paths, intervals and areas in; numbers out.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from tryvoha.core.engine import AlertUnits, EngineConfig
from tryvoha.sim.generator import TruePath
from tryvoha.sim.run import AlertLog, Interval

Floats = npt.NDArray[np.float64]
FLAP_WINDOW_S = 600.0
DEFAULT_SLACK_S = 300.0


@dataclass(frozen=True, slots=True)
class Encounter:
    threat: int
    """Index into the paths."""
    unit: int
    t_in: float
    t_out: float


@dataclass(frozen=True, slots=True)
class PolicyScore:
    policy: str
    scope: str
    areas: int
    encounters: int
    misses: int
    misses_within_speed: int
    late: int
    timely_rate: float | None
    lead_time_mean_s: float | None
    lead_time_median_s: float | None
    lead_time_p5_s: float | None
    departure_mean_s: float | None
    departure_p95_s: float | None
    intervals: int
    false_alarms: int
    false_alarm_ratio: float | None
    csi: float | None
    alerted_hromada_hours: float
    over_warning_hromada_hours: float
    over_warning_km2_hours: float
    efficiency: float | None
    unwarned_hromada_hours: float
    churn_per_area_hour: float
    flaps: int
    by_class: dict[str, dict[str, float | int | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# -- encounters ------------------------------------------------------------------------------


def find_encounters(
    units: AlertUnits,
    paths: Sequence[TruePath],
    config: EngineConfig,
    *,
    start: float,
    end: float,
) -> list[Encounter]:
    """Every (threat, unit) encounter of the night, clipped to [start, end]."""
    found: list[Encounter] = []
    by_radius: dict[float, tuple[npt.NDArray[np.object_], shapely.STRtree]] = {}
    for index, path in enumerate(paths):
        radius = config.params(path.threat_class).danger_radius_m
        if radius not in by_radius:
            widened = shapely.buffer(units.shapes, radius, quad_segs=8)
            shapely.prepare(widened)
            by_radius[radius] = (widened, shapely.STRtree(widened))
        widened, tree = by_radius[radius]
        if config.params(path.threat_class).immediate:
            found.extend(_landing(index, path, widened, tree))
        else:
            found.extend(_flight(index, path, widened, tree))
    return [
        Encounter(e.threat, e.unit, max(e.t_in, start), min(e.t_out, end))
        for e in found
        if e.t_out >= start and e.t_in <= end
    ]


def _landing(
    index: int, path: TruePath, widened: npt.NDArray[np.object_], tree: shapely.STRtree
) -> list[Encounter]:
    point = shapely.Point(float(path.x[-1]), float(path.y[-1]))
    hits = tree.query(point, predicate="within")
    return [Encounter(index, int(u), path.ended_at, path.ended_at) for u in hits]


def _flight(
    index: int, path: TruePath, widened: npt.NDArray[np.object_], tree: shapely.STRtree
) -> list[Encounter]:
    coords = np.column_stack((path.x, path.y))
    keep = np.concatenate([[True], np.any(np.diff(coords, axis=0) != 0, axis=1)])
    coords = coords[keep]
    times = path.t[keep]
    if coords.shape[0] < 2:
        hits = tree.query(shapely.Point(coords[0]), predicate="within")
        return [Encounter(index, int(u), float(times[0]), float(times[0])) for u in hits]
    line = shapely.LineString(coords)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    found: list[Encounter] = []
    for unit in tree.query(line, predicate="intersects"):
        inside = shapely.intersection(line, widened[unit])
        for part in shapely.get_parts(inside):
            ends = shapely.get_coordinates(part)
            if ends.size == 0:
                continue
            first = shapely.line_locate_point(line, shapely.Point(ends[0]))
            last = shapely.line_locate_point(line, shapely.Point(ends[-1]))
            lo, hi = sorted((float(first), float(last)))
            found.append(
                Encounter(
                    index,
                    int(unit),
                    float(np.interp(lo, along, times)),
                    float(np.interp(hi, along, times)),
                )
            )
    return _merge_touching(found)


def _merge_touching(encounters: list[Encounter]) -> list[Encounter]:
    """Parts of one pass that a polygon's concave edge split count as one encounter."""
    encounters.sort(key=lambda e: (e.unit, e.t_in))
    merged: list[Encounter] = []
    for e in encounters:
        last = merged[-1] if merged else None
        if last is not None and last.unit == e.unit and e.t_in - last.t_out <= 1.0:
            merged[-1] = Encounter(e.threat, e.unit, last.t_in, max(last.t_out, e.t_out))
        else:
            merged.append(e)
    return merged


# -- alert intervals per unit ------------------------------------------------------------


def unit_intervals(units: AlertUnits, log: AlertLog) -> list[list[Interval]]:
    """Per unit, the merged intervals when it or a region above it was alerted."""
    result: list[list[Interval]] = []
    for spec in units.specs:
        covering = {*spec.region_ids, *spec.lineage[1:]}
        spans = sorted(span for rid in covering for span in log.intervals.get(rid, ()))
        result.append(_merge(spans))
    return result


def _merge(spans: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for on, off in spans:
        if merged and on <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], off))
        else:
            merged.append((on, off))
    return merged


def _overlap(spans: Sequence[Interval], windows: Sequence[Interval]) -> float:
    total = 0.0
    j = 0
    for on, off in spans:
        while j < len(windows) and windows[j][1] <= on:
            j += 1
        k = j
        while k < len(windows) and windows[k][0] < off:
            total += max(0.0, min(off, windows[k][1]) - max(on, windows[k][0]))
            k += 1
    return total


# -- the score ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    encounters: int = 0
    misses: int = 0
    misses_within_speed: int = 0
    late: int = 0
    leads: list[float] = field(default_factory=list)


def score(
    policy: str,
    units: AlertUnits,
    paths: Sequence[TruePath],
    encounters: Sequence[Encounter],
    log: AlertLog,
    config: EngineConfig,
    *,
    scope: Collection[int] | None = None,
    scope_name: str = "all",
    slack_s: float = DEFAULT_SLACK_S,
) -> PolicyScore:
    """The metrics of *log* over the units in *scope* (all when None)."""
    in_scope = set(range(len(units))) if scope is None else set(scope)
    spans = unit_intervals(units, log)
    hours = (log.end - log.start) / 3600.0
    lead_of = units.lead_s
    weight = units.weight
    total = _Tally()
    per_class: dict[str, _Tally] = {}
    windows: dict[int, list[Interval]] = {}
    covered: dict[tuple[int, int], float] = {}
    unwarned = 0.0
    for e in encounters:
        if e.unit not in in_scope:
            continue
        path = paths[e.threat]
        tallies = (total, per_class.setdefault(path.threat_class.value, _Tally()))
        lead_needed = float(lead_of[e.unit])
        windows.setdefault(e.unit, []).append((e.t_in - lead_needed - slack_s, e.t_out))
        unit_spans = spans[e.unit]
        found = _holding(unit_spans, e.t_in)
        unwarned += (e.t_out - e.t_in - _overlap(unit_spans, [(e.t_in, e.t_out)])) * weight[e.unit]
        fast = path.speed_mps > config.params(path.threat_class).v_max
        for tally in tallies:
            tally.encounters += 1
            if found is None:
                tally.misses += 1
                tally.misses_within_speed += 0 if fast else 1
                continue
            lead = e.t_in - unit_spans[found][0]
            tally.leads.append(lead)
            tally.late += lead < lead_needed
        for i in _overlapping(unit_spans, e.t_in, e.t_out):
            key = (e.unit, i)
            covered[key] = max(covered.get(key, -np.inf), e.t_out)
    intervals = false_alarms = flaps = 0
    alerted = over = over_km2 = 0.0
    departures: list[float] = []
    for u in sorted(in_scope):
        unit_spans = spans[u]
        justified = _merge(sorted(windows.get(u, [])))
        length = sum(off - on for on, off in unit_spans)
        excess = length - _overlap(unit_spans, justified)
        alerted += length * weight[u]
        over += excess * weight[u]
        over_km2 += excess * units.area_km2[u]
        intervals += len(unit_spans)
        for i, (on, off) in enumerate(unit_spans):
            last_exit = covered.get((u, i))
            if last_exit is None:
                false_alarms += 1
            elif off < log.end:
                departures.append(off - last_exit)
            if i and on - unit_spans[i - 1][1] <= FLAP_WINDOW_S:
                flaps += 1
    hits = total.encounters - total.misses
    area_hours = len(in_scope) * hours
    return PolicyScore(
        policy=policy,
        scope=scope_name,
        areas=len(in_scope),
        encounters=total.encounters,
        misses=total.misses,
        misses_within_speed=total.misses_within_speed,
        late=total.late,
        timely_rate=_ratio(hits - total.late, total.encounters),
        lead_time_mean_s=_stat(total.leads, "mean"),
        lead_time_median_s=_stat(total.leads, 50),
        lead_time_p5_s=_stat(total.leads, 5),
        departure_mean_s=_stat(departures, "mean"),
        departure_p95_s=_stat(departures, 95),
        intervals=intervals,
        false_alarms=false_alarms,
        false_alarm_ratio=_ratio(false_alarms, intervals),
        csi=_ratio(hits, hits + total.misses + false_alarms),
        alerted_hromada_hours=round(float(alerted) / 3600.0, 1),
        over_warning_hromada_hours=round(float(over) / 3600.0, 1),
        over_warning_km2_hours=round(float(over_km2) / 3600.0, 0),
        efficiency=_ratio(alerted - over, alerted),
        unwarned_hromada_hours=round(float(unwarned) / 3600.0, 2),
        churn_per_area_hour=round(2 * intervals / area_hours, 4) if area_hours else 0.0,
        flaps=flaps,
        by_class={name: _class_summary(t) for name, t in sorted(per_class.items())},
    )


def _holding(spans: Sequence[Interval], t: float) -> int | None:
    i = bisect.bisect_right(spans, (t, np.inf)) - 1
    return i if i >= 0 and spans[i][0] <= t <= spans[i][1] else None


def _overlapping(spans: Sequence[Interval], on: float, off: float) -> range:
    first = bisect.bisect_left(spans, (on, -np.inf))
    if first > 0 and spans[first - 1][1] >= on:
        first -= 1
    last = bisect.bisect_right(spans, (off, np.inf))
    return range(first, last)


def _class_summary(tally: _Tally) -> dict[str, float | int | None]:
    hits = tally.encounters - tally.misses
    return {
        "encounters": tally.encounters,
        "misses": tally.misses,
        "timely_rate": _ratio(hits - tally.late, tally.encounters),
        "lead_time_median_s": _stat(tally.leads, 50),
    }


def _ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(float(part) / float(whole), 4)


def _stat(values: Sequence[float], what: float | str) -> float | None:
    if not values:
        return None
    if what == "mean":
        return round(float(np.mean(values)), 1)
    return round(float(np.percentile(values, float(what))), 1)


def scope_units(units: AlertUnits, regions: Collection[str]) -> list[int]:
    """Indices of the units in or below any of *regions*."""
    wanted = set(regions)
    return [i for i, spec in enumerate(units.specs) if wanted & {*spec.region_ids, *spec.lineage}]
