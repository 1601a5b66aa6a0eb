"""
The statistics over the real official CSV agree with an independent pandas computation that
reads the raw file by names, merges overlapping alerts itself, and does its own time zones.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.stats import overlap
from tryvoha.history.analytics import Analytics
from tryvoha.history.calendar import parse_bound
from tryvoha.history.dataset import Selection
from tryvoha.history.options import Bin
from tryvoha.history.queries import (
    Period,
    calendar,
    hourly,
    night_stats,
    overlap_stats,
    rankings,
    region_stats,
)

KYIV = "Europe/Kyiv"
OFFICIAL_ONLY = Selection(source="official", permanent=False)


@pytest.fixture(scope="module")
def raw(official_en: Path) -> pd.DataFrame:
    frame = pd.read_csv(official_en, dtype=str, keep_default_na=False)
    frame["start"] = pd.to_datetime(frame["started_at"], utc=True)
    frame["end"] = pd.to_datetime(frame["finished_at"], utc=True)
    return frame


# The regions checked, found in the raw file by their names: (region id, oblast, raion, hromada).
REGIONS = {
    "kyiv-city": ("31", "Kyiv City", "", ""),
    "kharkiv-oblast": ("22", "Kharkivska oblast", "", ""),
    "kryvyi-rih-raion": ("46", "Dnipropetrovska oblast", "Kryvorizkyi raion", ""),
    "kryvyi-rih-hromada": (
        "279",
        "Dnipropetrovska oblast",
        "Kryvorizkyi raion",
        "m. Kryvyi Rih ta Kryvorizka terytorialna hromada",
    ),
}


def covering_rows(raw: pd.DataFrame, oblast: str, raion: str, hromada: str) -> pd.DataFrame:
    """The rows whose alert covers the place: on its oblast, its raion, or itself."""
    mask = (raw["level"] == "oblast") & (raw["oblast"] == oblast)
    if raion:
        mask |= (raw["level"] == "raion") & (raw["oblast"] == oblast) & (raw["raion"] == raion)
    if hromada:
        mask |= (
            (raw["level"] == "hromada")
            & (raw["oblast"] == oblast)
            & (raw["raion"] == raion)
            & (raw["hromada"] == hromada)
        )
    return raw[mask]


def episodes(rows: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Rows cut to [lo, hi) and merged where they overlap or touch."""
    # pandas-stubs only take numbers or arrays as clip bounds; pandas takes a Timestamp too.
    cut = pd.DataFrame({"start": rows["start"].clip(lower=lo), "end": rows["end"].clip(upper=hi)})  # type: ignore[call-overload]
    cut = cut[cut["end"] > cut["start"]].sort_values("start")
    reach = cut["end"].cummax().shift()
    group = (cut["start"] > reach).cumsum()
    return cut.groupby(group).agg(start=("start", "min"), end=("end", "max")).reset_index(drop=True)


def ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


PERIODS = {
    "everything": ("2022-03-01", "2024-04-30"),
    "october-2023": ("2023-10-01", "2023-10-31"),
    "winter-2023": ("2022-12-01", "2023-02-28"),
}


def period_of(name: str) -> Period:
    since, until = PERIODS[name]
    return Period(parse_bound(since, end=False), parse_bound(until, end=True))


@pytest.mark.parametrize("period_name", list(PERIODS))
@pytest.mark.parametrize("place", list(REGIONS))
def test_region_summary_matches(
    raw: pd.DataFrame,
    official: Analytics,
    registry: RegionRegistry,
    place: str,
    period_name: str,
) -> None:
    region_id, oblast, raion, hromada = REGIONS[place]
    period = period_of(period_name)
    rows = covering_rows(raw, oblast, raion, hromada)
    merged = episodes(rows, ts(period.lo), ts(period.hi))
    durations = (merged["end"] - merged["start"]).dt.total_seconds()
    got = region_stats(official.history(), registry, region_id, period, OFFICIAL_ONLY)
    assert got["count"] == len(merged)
    assert got["total_seconds"] == pytest.approx(durations.sum())
    assert got["longest_seconds"] == pytest.approx(durations.max())
    assert got["median_seconds"] == pytest.approx(durations.median())
    assert got["mean_seconds"] == pytest.approx(durations.mean(), abs=0.001)
    overlapping = (rows["start"] < ts(period.hi)) & (rows["end"] > ts(period.lo))
    assert got["alerts"] == int(overlapping.sum())
    assert got["share"] == pytest.approx(
        durations.sum() / ((period.hi - period.lo) / 1000), abs=1e-6
    )


def test_a_hromada_counts_its_oblast_and_raion_alerts(
    official: Analytics, registry: RegionRegistry
) -> None:
    period = period_of("everything")
    history = official.history()
    hromada = region_stats(history, registry, "279", period, OFFICIAL_ONLY)
    raion = region_stats(history, registry, "46", period, OFFICIAL_ONLY)
    oblast = region_stats(history, registry, "9", period, OFFICIAL_ONLY)
    assert hromada["covering"] == ["279", "46", "9"]
    assert hromada["total_seconds"] >= raion["total_seconds"] >= oblast["total_seconds"]
    assert hromada["total_seconds"] > oblast["total_seconds"]
    # An oblast does not inherit its hromadas' alerts.
    assert oblast["covering"] == ["9"]


@pytest.mark.parametrize("place", ["kyiv-city", "kryvyi-rih-hromada"])
def test_hour_of_day_matches(
    raw: pd.DataFrame, official: Analytics, registry: RegionRegistry, place: str
) -> None:
    region_id, *names = REGIONS[place]
    period = period_of("october-2023")
    merged = episodes(covering_rows(raw, *names), ts(period.lo), ts(period.hi))
    expected = np.zeros(24)
    for start, end in zip(merged["start"], merged["end"], strict=True):
        cuts = [start, *pd.date_range(start.floor("h") + pd.Timedelta(hours=1), end, freq="h"), end]
        for a, b in itertools.pairwise(cuts):
            if b > a:
                expected[a.tz_convert(KYIV).hour] += (b - a).total_seconds()
    got = hourly(official.history(), registry, region_id, period, OFFICIAL_ONLY)
    assert [r["seconds"] for r in got["rows"]] == pytest.approx(expected.tolist())
    starts = merged["start"].dt.tz_convert(KYIV).dt.hour.value_counts()
    assert [r["starts"] for r in got["rows"]] == [int(starts.get(h, 0)) for h in range(24)]


@pytest.mark.parametrize("size", [Bin.MONTH, Bin.WEEK, Bin.DAY])
def test_alert_hours_per_calendar_bin_match(
    raw: pd.DataFrame, official: Analytics, registry: RegionRegistry, size: Bin
) -> None:
    period = period_of("winter-2023") if size is not Bin.DAY else period_of("october-2023")
    merged = episodes(
        covering_rows(raw, *REGIONS["kharkiv-oblast"][1:]), ts(period.lo), ts(period.hi)
    )
    freq = {Bin.MONTH: "MS", Bin.WEEK: "W-MON", Bin.DAY: "D"}[size]
    local_lo = ts(period.lo).tz_convert(KYIV).tz_localize(None)
    first = local_lo.normalize()
    if size is Bin.MONTH:
        first = first.replace(day=1)
    elif size is Bin.WEEK:
        first -= pd.Timedelta(days=first.weekday())
    bounds = pd.date_range(
        first, ts(period.hi).tz_convert(KYIV).tz_localize(None) + pd.Timedelta(days=40), freq=freq
    )
    bounds = bounds.tz_localize(KYIV).tz_convert("UTC")
    got = calendar(official.history(), registry, "22", period, OFFICIAL_ONLY, size)
    assert got["rows"], "the period has bins"
    for row, (a, b) in zip(got["rows"], itertools.pairwise(bounds), strict=False):
        lo, hi = max(a, ts(period.lo)), min(b, ts(period.hi))
        # pandas-stubs only take numbers or arrays as clip bounds; pandas takes a Timestamp too.
        inside = (merged["end"].clip(upper=hi) - merged["start"].clip(lower=lo)).dt.total_seconds()  # type: ignore[call-overload]
        assert row["seconds"] == pytest.approx(inside[inside > 0].sum()), row


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        pytest.param("2023-03-26", 11, id="spring-forward"),
        pytest.param("2023-10-29", 13, id="fall-back"),
        pytest.param("2022-10-30", 13, id="fall-back-2022"),
        pytest.param("2023-03-27", 12, id="ordinary"),
    ],
)
def test_nights_across_clock_changes_match(
    raw: pd.DataFrame, official: Analytics, registry: RegionRegistry, day: str, hours: int
) -> None:
    lo = pd.Timestamp(f"{pd.Timestamp(day) - pd.Timedelta(days=1):%Y-%m-%d} 18:00").tz_localize(
        KYIV
    )
    hi = pd.Timestamp(f"{day} 06:00").tz_localize(KYIV)
    assert (hi - lo) == pd.Timedelta(hours=hours)
    period = Period(parse_bound(day, end=False), parse_bound(day, end=True))
    seen_alert = False
    for region_id, *names in REGIONS.values():
        merged = episodes(covering_rows(raw, *names), lo.tz_convert("UTC"), hi.tz_convert("UTC"))
        expected = (merged["end"] - merged["start"]).dt.total_seconds().sum()
        seen_alert |= expected > 0
        got = night_stats(official.history(), registry, region_id, period, OFFICIAL_ONLY)
        assert [r["night"] for r in got["rows"]] == [day]
        assert got["rows"][0]["night_hours"] == hours
        assert got["rows"][0]["seconds"] == pytest.approx(expected)
    assert seen_alert, "some region had an alert that night, so the test compares something"


def test_oblast_rankings_match(
    raw: pd.DataFrame, official: Analytics, registry: RegionRegistry
) -> None:
    period = period_of("everything")
    oblasts = raw[raw["level"] == "oblast"]
    expected = {
        name: (episodes(rows, ts(period.lo), ts(period.hi))
               .pipe(lambda m: (m["end"] - m["start"]).dt.total_seconds().sum()))
        for name, rows in oblasts.groupby("oblast")
    }  # fmt: skip
    got = rankings(official.history(), registry, RegionLevel.OBLAST, period, OFFICIAL_ONLY)
    by_total = [r for r in got["rows"] if r["total_seconds"] > 0]
    assert len(by_total) == len(expected) == 25
    assert sorted((r["total_seconds"] for r in by_total), reverse=True) == pytest.approx(
        sorted(expected.values(), reverse=True)
    )
    assert [r["rank"] for r in got["rows"]] == list(range(1, len(got["rows"]) + 1))
    assert got["rows"][0]["total_seconds"] == max(expected.values())


def test_all_oblasts_at_once_matches_a_per_second_count(
    raw: pd.DataFrame, official: Analytics, registry: RegionRegistry
) -> None:
    period = Period(parse_bound("2023-10-01", end=False), parse_bound("2023-10-31", end=True))
    lo, hi = ts(period.lo), ts(period.hi)
    oblasts = raw[raw["level"] == "oblast"]
    names = sorted(set(oblasts["oblast"]) - {"Luhanska oblast"})
    seconds = (period.hi - period.lo) // 1000
    count = np.zeros(seconds, dtype=np.int16)
    for name in names:
        covered = np.zeros(seconds, dtype=bool)
        merged = episodes(oblasts[oblasts["oblast"] == name], lo, hi)
        for start, end in zip(merged["start"], merged["end"], strict=True):
            covered[int((start - lo).total_seconds()) : int((end - lo).total_seconds())] = True
        count += covered
    ids = [registry.find_by_name(n).id for n in names]  # type: ignore[union-attr]
    got = overlap_stats(
        official.history(), registry, RegionLevel.OBLAST, period, OFFICIAL_ONLY, ids
    )
    assert got["units"] == 24
    assert got["all_seconds"] == int((count == 24).sum())
    assert [r["seconds"] for r in got["rows"]] == [int((count == k).sum()) for k in range(25)]
    assert got["all_seconds"] > 0


@pytest.mark.parametrize("level", [RegionLevel.RAION, RegionLevel.HROMADA])
def test_overlap_swept_by_oblast_equals_one_sweep_per_unit(
    official: Analytics, registry: RegionRegistry, level: RegionLevel
) -> None:
    period = period_of("october-2023")
    history = official.history()
    got = overlap_stats(history, registry, level, period, OFFICIAL_ONLY)
    data = history.select(OFFICIAL_ONLY)
    naive = overlap([data.covering(registry, u) for u in got["regions"]], period.lo, period.hi)
    assert [r["seconds"] * 1000 for r in got["rows"]] == naive.by_count_ms.tolist()
    assert got["all_seconds"] * 1000 == naive.all_ms
