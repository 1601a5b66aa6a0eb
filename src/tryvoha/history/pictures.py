"""
From a question to a PNG: the statistics computed by `queries`, drawn by `plots`.

Shared by the API (`/api/plots/{kind}.png`) and the command line (`tryvoha stats --plot`).
"""

from __future__ import annotations

from tryvoha.core.model import RegionLevel
from tryvoha.history import plots, queries, register
from tryvoha.history.analytics import Analytics
from tryvoha.history.calendar import local_label
from tryvoha.history.dataset import Selection
from tryvoha.history.options import Bin, Lang
from tryvoha.history.queries import Period

WHOLE_PERIOD = 0.999
"""A region under alert for this share of the period is drawn as permanently alerted."""


def timeline_png(analytics: Analytics, day: str, selection: Selection, lang: Lang) -> bytes:
    data = queries.night_timeline(analytics.history(), analytics.registry, day, selection)
    launches = register.timed_rows(analytics.attacks(), data.day).to_dict("records")
    lanes = [(lane.region, lane.own, lane.partial) for lane in data.lanes]
    return plots.timeline(data.day, data.window, lanes, launches, data.quiet, lang)


def monthly_png(
    analytics: Analytics,
    region_id: str,
    period: Period,
    selection: Selection,
    lang: Lang,
    size: Bin = Bin.MONTH,
) -> bytes:
    data = queries.calendar(
        analytics.history(), analytics.registry, region_id, period, selection, size
    )
    return plots.monthly(data["region"], data["rows"], lang)


def hourly_png(
    analytics: Analytics, region_id: str, period: Period, selection: Selection, lang: Lang
) -> bytes:
    data = queries.hourly(analytics.history(), analytics.registry, region_id, period, selection)
    span = "{} – {}".format(*_dates(period))
    return plots.hourly(data["region"], data["rows"], lang, span)


def choropleth_png(
    analytics: Analytics,
    period: Period,
    selection: Selection,
    lang: Lang,
    level: RegionLevel = RegionLevel.OBLAST,
) -> bytes:
    data = queries.rankings(analytics.history(), analytics.registry, level, period, selection)
    values = {r["id"]: r["total_seconds"] / 3600 for r in data["rows"] if r["total_seconds"] > 0}
    always = frozenset(r["id"] for r in data["rows"] if r["share"] >= WHOLE_PERIOD)
    span = _dates(period)
    return plots.choropleth(analytics.registry, values, span, lang, always=always)


def _dates(period: Period) -> tuple[str, str]:
    """The first and last Kyiv dates of a period (its end is exclusive)."""
    return local_label(period.lo)[:10], local_label(max(period.hi - 1, period.lo))[:10]
