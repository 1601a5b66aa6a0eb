"""
The statistics people ask for, as plain data: one region's summary, rankings, how much of the
country was under alert at once, hours of the day, alert-hours per day/week/month, and nights.

Each function takes an `AlertHistory` snapshot, the registry, a `Period` and a `Selection` and
returns a dict with a `rows` list where a table makes sense (the CSV form). Seconds are floats
with millisecond precision. The rules (covering, union, nights) are in `core.stats`,
`history.dataset` and `history.calendar`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from tryvoha.core.codec import format_time
from tryvoha.core.model import Region, RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.stats import (
    Intervals,
    Summary,
    by_label,
    clip,
    covered_before,
    difference,
    overlap,
    starts_by_label,
    summarize,
    union,
)
from tryvoha.history.calendar import (
    calendar_bins,
    from_ms,
    hours_of_day,
    local_label,
    night,
    nights,
    parse_day,
)
from tryvoha.history.dataset import AlertHistory, RegionIntervals, Selection
from tryvoha.history.options import Bin, NightOrder, RankBy


@dataclass(frozen=True, slots=True)
class Period:
    lo: int
    hi: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": format_time(from_ms(self.lo)),
            "until": format_time(from_ms(self.hi)),
            "since_local": local_label(self.lo),
            "until_local": local_label(self.hi),
            "seconds": seconds(self.hi - self.lo),
        }


def seconds(ms: float) -> float:
    return round(float(ms) / 1000, 3)


def region_to_dict(region: Region) -> dict[str, Any]:
    return {
        "id": region.id,
        "level": region.level.value,
        "name_uk": region.name_uk,
        "name_en": region.name_en,
    }


def _context(history: AlertHistory, period: Period, selection: Selection) -> dict[str, Any]:
    return {
        "period": period.to_dict(),
        "type": selection.type.value,
        "alert_level": selection.level.value if selection.level else "any",
        "source": selection.source,
        "permanent": selection.permanent,
        "sources": [
            {
                "source": source,
                "first": format_time(from_ms(max(first, period.lo))),
                "last": format_time(from_ms(min(last, period.hi))),
            }
            for source, first, last in history.windows(selection.source)
            if first < period.hi and last > period.lo
        ],
    }


def _covering(
    data: RegionIntervals, registry: RegionRegistry, region_id: str, lo: int, hi: int
) -> Intervals:
    return clip(*data.covering(registry, region_id), lo, hi)


def _summary_fields(summary: Summary) -> dict[str, Any]:
    return {
        "count": summary.episodes,
        "alerts": summary.alerts,
        "total_seconds": seconds(summary.total_ms),
        "mean_seconds": seconds(summary.mean_ms),
        "median_seconds": seconds(summary.median_ms),
        "longest_seconds": seconds(summary.longest_ms),
        "longest_started_at": (
            None
            if summary.longest_start_ms is None
            else format_time(from_ms(summary.longest_start_ms))
        ),
        "share": round(summary.share, 6),
    }


def _night_seconds(
    episodes: Intervals, period: Period
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    found = nights(period.lo, period.hi)
    if not found.names:
        empty = np.empty(0, dtype=np.int64)
        return (), empty, empty
    # Cutting episodes keeps them sorted and disjoint, as `covered_before` needs.
    s, e = clip(*episodes, min(period.lo, int(found.starts[0])), period.hi)
    bounds = np.empty(2 * len(found.names), dtype=np.int64)
    bounds[0::2] = found.starts
    bounds[1::2] = np.minimum(found.ends, period.hi)
    before = covered_before(s, e, bounds)
    covered = before[1::2] - before[0::2]
    return found.names, covered, found.ends - found.starts


def region_stats(
    history: AlertHistory,
    registry: RegionRegistry,
    region_id: str,
    period: Period,
    selection: Selection,
) -> dict[str, Any]:
    """
    Count, total, mean, median and longest alert, share of time, and nights, for one region.
    """
    region = registry.get(region_id)
    data = history.select(selection)
    episodes = data.covering(registry, region.id)
    summary = summarize(*episodes, period.lo, period.hi, merged=True)
    fields = _summary_fields(summary)
    fields["alerts"] = data.raw_count(registry, region.id, period.lo, period.hi)
    names, covered, _lengths = _night_seconds(episodes, period)
    longest_night = None
    if covered.size and covered.max() > 0:
        at = int(np.argmax(covered))
        longest_night = {"date": names[at], "seconds": seconds(covered[at])}
    row = {
        "region_id": region.id,
        **fields,
        "nights": len(names),
        "nights_with_alerts": int(np.count_nonzero(covered)),
        "longest_night": longest_night["date"] if longest_night else None,
        "longest_night_seconds": longest_night["seconds"] if longest_night else 0.0,
    }
    return {
        "region": region_to_dict(region),
        "covering": list(data.lineage_key(registry, region.id)),
        **_context(history, period, selection),
        **{k: v for k, v in row.items() if k != "region_id"},
        "rows": [row],
    }


def rankings(
    history: AlertHistory,
    registry: RegionRegistry,
    level: RegionLevel,
    period: Period,
    selection: Selection,
    by: RankBy = RankBy.TOTAL,
    limit: int | None = None,
) -> dict[str, Any]:
    """
    Every region of one level, most alert time (or count, longest, nights) first.
    """
    data = history.select(selection)
    per_key: dict[tuple[str, ...], dict[str, Any]] = {}
    rows = []
    for region in registry.by_level(level):
        key = data.lineage_key(registry, region.id)
        fields = per_key.get(key)
        if fields is None:
            episodes = data.covering(registry, region.id)
            fields = _summary_fields(summarize(*episodes, period.lo, period.hi, merged=True))
            _, covered, _ = _night_seconds(episodes, period)
            fields["nights_with_alerts"] = int(np.count_nonzero(covered))
            per_key[key] = fields
        rows.append({**region_to_dict(region), **fields})
    rows.sort(key=lambda r: (-r[by.value], _numeric_id(r["id"])))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return {
        **_context(history, period, selection),
        "by": by.value,
        "level_of_regions": level.value,
        "rows": rows[:limit] if limit else rows,
    }


def _numeric_id(region_id: str) -> tuple[int, str]:
    return (int(region_id), "") if region_id.isdigit() else (0, region_id)


def overlap_stats(
    history: AlertHistory,
    registry: RegionRegistry,
    level: RegionLevel,
    period: Period,
    selection: Selection,
    region_ids: list[str] | None = None,
) -> dict[str, Any]:
    """
    How long k of the units (regions of *level*, or *region_ids*) were under alert at once;
    `all_seconds` is how long all of them were.

    Units by default are the regions of the level that the data reports on: those with an
    alert of their own or of an ancestor, from a source other than `permanent`.
    """
    data = history.select(selection)
    if region_ids is None:
        reported = history.select(
            Selection(selection.type, selection.level, selection.source, permanent=False)
        )
        units = [r.id for r in registry.by_level(level) if reported.lineage_key(registry, r.id)]
    else:
        units = [registry.get(r).id for r in region_ids]
    # Swept by oblast: a unit is under alert during its oblast's own episodes (shared by every
    # unit in the oblast, so swept once with their number as weight) or during its raion's and
    # its own alerts outside those episodes. Far fewer events than one union per unit.
    per_root: dict[str, int] = {}
    rests: dict[tuple[str, tuple[str, ...]], int] = {}
    for unit in units:
        root = registry.oblast_of(unit).id
        per_root[root] = per_root.get(root, 0) + 1
        rest = tuple(r for r in data.lineage_key(registry, unit) if r != root)
        if rest:
            rests[(root, rest)] = rests.get((root, rest), 0) + 1
    pieces = [data.merged((root,)) for root in per_root]
    pieces += [difference(*data.merged(rest), *data.merged((root,))) for root, rest in rests]
    weights = [*per_root.values(), *rests.values()]
    result = overlap(pieces, period.lo, period.hi, weights=weights, units=len(units))
    longest = None
    if result.all_starts.size:
        durations = result.all_ends - result.all_starts
        at = int(np.argmax(durations))
        longest = {
            "started_at": format_time(from_ms(int(result.all_starts[at]))),
            "finished_at": format_time(from_ms(int(result.all_ends[at]))),
            "seconds": seconds(durations[at]),
        }
    rows = [
        {"regions_under_alert": k, "seconds": seconds(ms)}
        for k, ms in enumerate(result.by_count_ms)
    ]
    return {
        **_context(history, period, selection),
        "level_of_regions": level.value,
        "regions": units,
        "units": len(units),
        "all_seconds": seconds(result.all_ms),
        "all_share": round(result.all_ms / (period.hi - period.lo), 6)
        if period.hi > period.lo
        else 0.0,
        "all_episodes": int(result.all_starts.size),
        "longest_all": longest,
        "rows": rows,
    }


def hourly(
    history: AlertHistory,
    registry: RegionRegistry,
    region_id: str,
    period: Period,
    selection: Selection,
) -> dict[str, Any]:
    """
    Time under alert and alerts begun in each Kyiv local hour of the day.
    """
    region = registry.get(region_id)
    s, e = _covering(history.select(selection), registry, region.id, period.lo, period.hi)
    bins = hours_of_day(period.lo, period.hi)
    edges = np.clip(bins.edges, period.lo, period.hi)
    covered = by_label(s, e, edges, bins.labels, 24)
    available = np.bincount(bins.labels, weights=np.diff(edges), minlength=24)
    begun = starts_by_label(s, e, edges, bins.labels, 24)
    rows = [
        {
            "hour": hour,
            "seconds": seconds(covered[hour]),
            "share": round(float(covered[hour] / available[hour]), 6) if available[hour] else 0.0,
            "starts": int(begun[hour]),
        }
        for hour in range(24)
    ]
    return {"region": region_to_dict(region), **_context(history, period, selection), "rows": rows}


def calendar(
    history: AlertHistory,
    registry: RegionRegistry,
    region_id: str,
    period: Period,
    selection: Selection,
    size: Bin = Bin.MONTH,
) -> dict[str, Any]:
    """
    Alert-hours per Kyiv local day, ISO week or month (partial first and last bins hold only
    the part inside the period).
    """
    region = registry.get(region_id)
    s, e = _covering(history.select(selection), registry, region.id, period.lo, period.hi)
    bins = calendar_bins(period.lo, period.hi, size)
    edges = np.clip(bins.edges, period.lo, period.hi)
    covered = np.diff(covered_before(*union(s, e), edges))
    available = np.diff(edges)
    rows = [
        {
            size.value: name,
            "seconds": seconds(covered[i]),
            "hours": round(float(covered[i]) / 3_600_000, 3),
            "share": round(float(covered[i] / available[i]), 6) if available[i] else 0.0,
        }
        for i, name in enumerate(bins.names)
    ]
    return {
        "region": region_to_dict(region),
        **_context(history, period, selection),
        "bin": size.value,
        "rows": rows,
    }


def night_stats(
    history: AlertHistory,
    registry: RegionRegistry,
    region_id: str,
    period: Period,
    selection: Selection,
    order: NightOrder = NightOrder.DATE,
    limit: int | None = None,
) -> dict[str, Any]:
    """
    Time under alert in each night (18:00-06:00 Kyiv time) that ends within the period.
    """
    region = registry.get(region_id)
    episodes = history.select(selection).covering(registry, region.id)
    names, covered, lengths = _night_seconds(episodes, period)
    rows = [
        {
            "night": name,
            "seconds": seconds(covered[i]),
            "night_hours": round(float(lengths[i]) / 3_600_000, 3),
            "share": round(float(covered[i] / lengths[i]), 6),
        }
        for i, name in enumerate(names)
    ]
    if order is NightOrder.LONGEST:
        rows.sort(key=lambda r: (-float(str(r["seconds"])), str(r["night"])))
    return {
        "region": region_to_dict(region),
        **_context(history, period, selection),
        "nights": len(rows),
        "nights_with_alerts": int(np.count_nonzero(covered)),
        "order": order.value,
        "rows": rows[:limit] if limit else rows,
    }


@dataclass(frozen=True, slots=True)
class Lane:
    region: Region
    own: list[tuple[int, int]]
    """Episodes under alert: the region's own alerts and its ancestors'."""
    partial: list[tuple[int, int]]
    """Episodes when only some of the region (a raion or hromada in it) was under alert."""


@dataclass(frozen=True, slots=True)
class NightTimeline:
    day: str
    window: tuple[int, int]
    lanes: list[Lane]
    quiet: int
    """Oblast-level regions without any alert in the window."""


TIMELINE_HOURS = (18, 9)
"""The window of a night timeline: 18:00 the evening before to 09:00, Kyiv time."""


def night_timeline(
    history: AlertHistory, registry: RegionRegistry, day: str, selection: Selection
) -> NightTimeline:
    """
    Each oblast's alerts in one night, from 18:00 the evening before to 09:00, earliest first.
    """
    lo, night_end = night(parse_day(day))
    hi = night_end + (TIMELINE_HOURS[1] - 6) * 3_600_000
    data = history.select(selection)
    lanes: list[Lane] = []
    quiet = 0
    for region in registry.oblasts():
        own = _pairs(clip(*data.covering(registry, region.id), lo, hi))
        below = [data.own(r) for r in registry.descendants(region.id)]
        starts = np.concatenate([b[0] for b in below] or [np.empty(0, np.int64)])
        ends = np.concatenate([b[1] for b in below] or [np.empty(0, np.int64)])
        partial = _pairs(union(*clip(starts, ends, lo, hi)))
        if own or partial:
            lanes.append(Lane(region, own, partial))
        else:
            quiet += 1
    lanes.sort(key=lambda lane: min(p[0] for p in lane.own + lane.partial))
    return NightTimeline(day, (lo, hi), lanes, quiet)


def _pairs(intervals: Intervals) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s, e in zip(*intervals, strict=True)]


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The `rows` of an answer as CSV, columns in the order of the first row."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()
