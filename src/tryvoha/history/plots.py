"""
PNG pictures of the statistics: a night's timeline across oblasts, alert-hours per month,
the hour-of-day profile, and a map of alert-hours per region. Labels in Ukrainian or English.

Each function takes already computed data (the dicts of `queries` and `register`) and returns
PNG bytes. Figures are drawn with matplotlib's object API on the Agg canvas: no pyplot state,
so pictures can be drawn from several threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from tryvoha.core.model import Region
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.calendar import KYIV, from_ms
from tryvoha.history.options import Lang

ALERT_RED = "#c62828"
PARTIAL = "#f4a261"
ATTACK = "#37474f"
DPI = 100


TEXT: dict[str, dict[Lang, str]] = {
    "timeline": {
        Lang.UK: "Ніч на {day}: тривоги по областях",
        Lang.EN: "Night of {day}: air-raid alerts by oblast",
    },
    "timeline_x": {Lang.UK: "час за Києвом", Lang.EN: "Kyiv time"},
    "own": {Lang.UK: "тривога в області", Lang.EN: "oblast-wide alert"},
    "partial": {Lang.UK: "тривога в частині області", Lang.EN: "alert in part of the oblast"},
    "attacks": {Lang.UK: "запуски", Lang.EN: "launches"},
    "quiet": {
        Lang.UK: "без тривог у даних: {n}",
        Lang.EN: "no alerts on record: {n} oblasts",
    },
    "monthly": {
        Lang.UK: "{region}: години тривоги за місяць",
        Lang.EN: "{region}: alert hours per month",
    },
    "hours": {Lang.UK: "години", Lang.EN: "hours"},
    "hourly": {
        Lang.UK: "{region}: частка часу під тривогою за годиною доби",
        Lang.EN: "{region}: share of time under alert by hour of day",
    },
    "hour_x": {Lang.UK: "година доби (за Києвом)", Lang.EN: "hour of day (Kyiv time)"},
    "share": {Lang.UK: "частка часу, %", Lang.EN: "share of time, %"},
    "choropleth": {
        Lang.UK: "Години тривоги: {since} – {until}",
        Lang.EN: "Alert hours: {since} – {until}",
    },
    "no_data": {Lang.UK: "немає даних", Lang.EN: "no data"},
    "always": {
        Lang.UK: "постійна тривога (її немає у файлах)",
        Lang.EN: "permanent alert (not in the files)",
    },
    "period": {Lang.UK: "{since} – {until}", Lang.EN: "{since} – {until}"},
}


def _t(key: str, lang: Lang, **values: Any) -> str:
    return TEXT[key][lang].format(**values)


def region_name(region: Region | Mapping[str, Any], lang: Lang) -> str:
    if isinstance(region, Region):
        return region.name_uk if lang is Lang.UK else region.name_en
    return str(region["name_uk"] if lang is Lang.UK else region["name_en"])


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


# -- night timeline -------------------------------------------------------------------------


def timeline(
    day: str,
    window: tuple[int, int],
    lanes: Sequence[tuple[Region, Sequence[tuple[int, int]], Sequence[tuple[int, int]]]],
    attacks: Sequence[Mapping[Hashable, Any]],
    quiet: int,
    lang: Lang,
) -> bytes:
    """
    A Gantt chart of one night: per oblast its own alerts (red) and alerts in part of it
    (orange), with the night's timed launches in a lane on top.
    """
    lo, hi = window
    height = 1.6 + 0.32 * (len(lanes) + max(len(attacks), 1))
    figure = Figure(figsize=(11, max(height, 4)), layout="constrained")
    axes = figure.add_subplot()
    labels: list[str] = []
    y = 0

    def bar(y: int, start: int, end: int, color: str, height: float = 0.7) -> None:
        hours = (end - start) / 3_600_000
        axes.barh(y, hours, left=(start - lo) / 3_600_000, height=height, color=color, lw=0)

    for region, own, partial in reversed(lanes):
        for start, end in partial:
            bar(y, start, end, PARTIAL)
        for start, end in own:
            bar(y, start, end, ALERT_RED)
        labels.append(region_name(region, lang))
        y += 1
    for attack in reversed(attacks):
        start = max(int(attack["start_ms"]), lo)
        end = min(max(int(attack["end_ms"]), start + 300_000), hi)
        bar(y, start, end, ATTACK, height=0.5)
        count = attack["launched"]
        shown = "?" if count is None or math.isnan(count) else str(int(count))
        labels.append(f"{attack['model']} ×{shown}")
        y += 1
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    span = (hi - lo) / 3_600_000
    ticks = np.arange(0, span + 0.001, 1.0)
    axes.set_xticks(ticks, [_clock(lo + int(h * 3_600_000)) for h in ticks], fontsize=8)
    axes.set_xlim(0, span)
    axes.set_ylim(-0.6, len(labels) - 0.4)
    if attacks:
        axes.axhline(len(lanes) - 0.5, color="#999999", linewidth=0.8)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_xlabel(_t("timeline_x", lang))
    title = _t("timeline", lang, day=day)
    if quiet:
        title += f"  ({_t('quiet', lang, n=quiet)})"
    axes.set_title(title)
    axes.legend(
        handles=[
            PathPatch(Path([(0, 0)]), color=ALERT_RED, label=_t("own", lang)),
            PathPatch(Path([(0, 0)]), color=PARTIAL, label=_t("partial", lang)),
            PathPatch(Path([(0, 0)]), color=ATTACK, label=_t("attacks", lang)),
        ],
        loc="lower right",
        fontsize=8,
    )
    return _png(figure)


def _clock(ms: int) -> str:
    return from_ms(ms).astimezone(KYIV).strftime("%H:%M")


# -- monthly and hourly ---------------------------------------------------------------------


def monthly(region: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], lang: Lang) -> bytes:
    """Bars of alert hours per month (or whatever bin the rows carry)."""
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    axes = figure.add_subplot()
    if rows:
        label_key = next(k for k in rows[0] if k in ("month", "week", "day"))
        names = [str(r[label_key]) for r in rows]
        hours = [float(r["hours"]) for r in rows]
        axes.bar(range(len(rows)), hours, color=ALERT_RED, width=0.8)
        step = max(1, len(rows) // 24)
        axes.set_xticks(range(0, len(rows), step), names[::step], rotation=60, fontsize=8)
    else:
        axes.text(0.5, 0.5, _t("no_data", lang), ha="center", transform=axes.transAxes)
    axes.set_ylabel(_t("hours", lang))
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(_t("monthly", lang, region=region_name(region, lang)))
    return _png(figure)


def hourly(
    region: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], lang: Lang, period: str = ""
) -> bytes:
    """Bars of the share of each Kyiv local hour spent under alert."""
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    axes = figure.add_subplot()
    shares = [100 * float(r["share"]) for r in rows]
    axes.bar([int(r["hour"]) for r in rows], shares, color=ALERT_RED, width=0.85)
    axes.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    axes.set_xlim(-0.6, 23.6)
    axes.set_xlabel(_t("hour_x", lang))
    axes.set_ylabel(_t("share", lang))
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    title = _t("hourly", lang, region=region_name(region, lang))
    axes.set_title(f"{title}\n{period}" if period else title)
    return _png(figure)


# -- choropleth -----------------------------------------------------------------------------


def _path(geometry: shapely.Geometry) -> Path:
    """A matplotlib path of a (multi)polygon, holes included."""
    paths = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in (polygon.exterior, *polygon.interiors):
            coords = np.asarray(ring.coords)
            codes = np.full(len(coords), Path.LINETO, dtype=np.uint8)
            codes[0] = Path.MOVETO
            codes[-1] = Path.CLOSEPOLY
            paths.append(Path(coords, codes))
    return Path.make_compound_path(*paths)


def choropleth(
    registry: RegionRegistry,
    values: Mapping[str, float],
    period: tuple[str, str],
    lang: Lang,
    *,
    always: frozenset[str] = frozenset(),
    tolerance: float = 0.01,
) -> bytes:
    """
    A map of regions coloured by alert hours; regions without data stay grey, and regions in
    *always* (under a permanent alert) are hatched and left out of the colour scale, which
    they would otherwise flatten.
    """
    figure = Figure(figsize=(10, 7), layout="constrained")
    axes = figure.add_subplot()
    scaled = [v for k, v in values.items() if k not in always]
    norm = Normalize(0, max(scaled, default=0.0) or 1.0)
    patches: dict[str, list[PathPatch]] = {"colored": [], "grey": [], "always": []}
    numbers: list[float] = []
    for region_id in sorted(values.keys() | {r.id for r in registry.oblasts()}):
        geometry = registry.geometry(region_id)
        if geometry is None:
            continue
        patch = PathPatch(_path(shapely.simplify(geometry, tolerance, preserve_topology=True)))
        if region_id in always:
            patches["always"].append(patch)
        elif region_id in values:
            patches["colored"].append(patch)
            numbers.append(values[region_id])
        else:
            patches["grey"].append(patch)
    edge, width = "white", 0.4
    axes.add_collection(
        PatchCollection(patches["grey"], facecolor="#e0e0e0", edgecolor=edge, linewidth=width)
    )
    axes.add_collection(
        PatchCollection(
            patches["always"], facecolor="#4a0d0d", hatch="///", edgecolor=edge, linewidth=width
        )
    )
    collection = PatchCollection(
        patches["colored"], cmap="Reds", norm=norm, edgecolor=edge, linewidth=width
    )
    collection.set_array(np.asarray(numbers))
    axes.add_collection(collection)
    axes.autoscale_view()
    # Degrees of longitude are shorter than degrees of latitude at Ukraine's ~48.5° N.
    axes.set_aspect(1 / np.cos(np.radians(48.5)))
    axes.set_axis_off()
    colorbar = figure.colorbar(collection, ax=axes, shrink=0.6)
    colorbar.set_label(_t("hours", lang))
    if patches["always"]:
        axes.legend(
            handles=[
                PathPatch(
                    Path([(0, 0)]), facecolor="#4a0d0d", hatch="///", label=_t("always", lang)
                )
            ],
            loc="lower left",
            fontsize=8,
        )
    axes.set_title(_t("choropleth", lang, since=period[0], until=period[1]))
    return _png(figure)
