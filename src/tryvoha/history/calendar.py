"""
Kyiv local time at the edge of the statistics: periods from user input, and the UTC bounds of
local hours, days, weeks, months and nights for `tryvoha.core.stats`.

All conversions go through `zoneinfo` (Europe/Kyiv), so days on which the clocks change are
23 or 25 hours long and such nights 11 or 13 hours. A *night* is 18:00 to 06:00 local time and
is named by the date on which it ends: the night of 2025-07-04 runs from 18:00 on July 3 to
06:00 on July 4. The wall times 18:00, 06:00 and midnight never fall in Kyiv's clock changes
(03:00-04:00), so they are never ambiguous.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from tryvoha.core.codec import parse_time
from tryvoha.core.stats import Times
from tryvoha.history.options import Bin

KYIV = ZoneInfo("Europe/Kyiv")
NIGHT_START = time(18, 0)
NIGHT_END = time(6, 0)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR_MS = 3_600_000
MIN_YEAR, MAX_YEAR = 1900, 2200


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime, exactly (rounded down)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime: {value!r}")
    return (value - _EPOCH) // _MS


def from_ms(value: int) -> datetime:
    return _EPOCH + value * _MS


def local_midnight(day: date) -> int:
    return to_ms(datetime.combine(day, time(0), KYIV))


def parse_day(text: str) -> date:
    """
    A `YYYY-MM-DD` date; ValueError names what was wrong.
    """
    if not _DATE.match(text):
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} ({exc})") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(f"not a date between {MIN_YEAR} and {MAX_YEAR}: {text!r}")
    return day


def parse_bound(text: str, *, end: bool) -> int:
    """
    A period bound in epoch ms: an ISO time with offset, or a date in Kyiv local time.

    A date means the start of that day for `since` and, for `until` (*end*), the end of it,
    so `--since 2024-03-01 --until 2024-03-31` is the whole of March.
    """
    text = text.strip()
    if _DATE.match(text):
        day = parse_day(text)
        return local_midnight(day + timedelta(days=1) if end else day)
    try:
        return to_ms(parse_time(text))
    except (ValueError, OverflowError):
        raise ValueError(f"not a date (YYYY-MM-DD) or a time with UTC offset: {text!r}") from None


def local_label(ms: int) -> str:
    return from_ms(ms).astimezone(KYIV).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class Bins:
    """
    Consecutive bins `[edges[i], edges[i + 1])`, bin i carrying `labels[i]`.
    """

    edges: Times
    labels: npt.NDArray[np.intp]
    names: tuple[str, ...]
    """The name of each label value."""


@functools.lru_cache(maxsize=64)
def hours_of_day(lo: int, hi: int) -> Bins:
    """
    Every clock hour between *lo* and *hi*, labelled with its Kyiv local hour (0-23).

    Kyiv's offset is a whole number of hours, so local hours start on UTC hours; across a
    clock change one local hour occurs twice or not at all, as it did on the wall.
    """
    first = lo // _HOUR_MS * _HOUR_MS
    last = -(-hi // _HOUR_MS) * _HOUR_MS
    edges = np.arange(first, last + _HOUR_MS, _HOUR_MS, dtype=np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(edges[:-1], unit="ms", utc=True)).tz_convert(KYIV)
    labels = np.asarray(local.hour, dtype=np.intp)
    return Bins(edges, labels, tuple(f"{h:02d}:00" for h in range(24)))


@functools.lru_cache(maxsize=64)
def calendar_bins(lo: int, hi: int, size: Bin) -> Bins:
    """
    The local days, ISO weeks (from Monday) or months overlapping `[lo, hi)`, one label each.
    """
    first = from_ms(lo).astimezone(KYIV).date()
    last = from_ms(hi - 1).astimezone(KYIV).date() if hi > lo else first
    if size is Bin.MONTH:
        first = first.replace(day=1)
        freq = "MS"
    elif size is Bin.WEEK:
        first -= timedelta(days=first.weekday())
        freq = "W-MON"
    else:
        freq = "D"
    starts = pd.date_range(first, last, freq=freq)
    bounds = pd.DatetimeIndex([*starts, _next(starts[-1], size)])
    edges = np.asarray(
        bounds.tz_localize(KYIV).tz_convert("UTC").as_unit("ms").asi8, dtype=np.int64
    )
    if size is Bin.MONTH:
        names = tuple(d.strftime("%Y-%m") for d in starts)
    else:
        names = tuple(d.strftime("%Y-%m-%d") for d in starts)
    return Bins(edges, np.arange(len(starts), dtype=np.intp), names)


def _next(start: pd.Timestamp, size: Bin) -> pd.Timestamp:
    if size is Bin.MONTH:
        return start + pd.offsets.MonthBegin(1)
    return start + pd.Timedelta(days=7 if size is Bin.WEEK else 1)


@dataclass(frozen=True, slots=True)
class Nights:
    starts: Times
    ends: Times
    names: tuple[str, ...]
    """The date each night ends on (YYYY-MM-DD)."""


def night(day: date) -> tuple[int, int]:
    """The UTC bounds of the night that ends on the morning of *day*."""
    start = datetime.combine(day - timedelta(days=1), NIGHT_START, KYIV)
    return to_ms(start), to_ms(datetime.combine(day, NIGHT_END, KYIV))


@functools.lru_cache(maxsize=64)
def nights(lo: int, hi: int) -> Nights:
    """
    The nights that end within `(lo, hi]`, whole: a period of dates holds the nights that
    end on those dates, including the evening before the first.
    """
    first = from_ms(lo).astimezone(KYIV).date()
    last = from_ms(max(hi, lo)).astimezone(KYIV).date()
    days = pd.date_range(first, last, freq="D")
    starts = (days - pd.Timedelta(days=1) + pd.Timedelta(hours=NIGHT_START.hour)).tz_localize(KYIV)
    ends = (days + pd.Timedelta(hours=NIGHT_END.hour)).tz_localize(KYIV)
    s = np.asarray(starts.tz_convert("UTC").as_unit("ms").asi8, dtype=np.int64)
    e = np.asarray(ends.tz_convert("UTC").as_unit("ms").asi8, dtype=np.int64)
    keep = (e > lo) & (e <= hi)
    names = tuple(d.strftime("%Y-%m-%d") for d, k in zip(days, keep, strict=True) if k)
    return Nights(s[keep], e[keep], names)
