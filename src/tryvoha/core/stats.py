"""
Alert statistics over time intervals: pure numpy, intervals in, numbers out.

Times are integer epoch milliseconds (UTC) in `int64` arrays; an interval is half-open,
`[start, end)`. Nothing here reads a clock or knows a time zone: the caller passes the period
(`lo`, `hi`, already clipped to "now") and, for calendar statistics, the UTC edges of the local
hours, days, months or nights it wants (see `tryvoha.history.calendar`).

The rules every function follows:

- Time under alert is the *union* of the intervals: overlapping or touching alerts count once.
- An *episode* is one maximal stretch of the union; counts, means, medians and the longest
  duration are over episodes, each cut to the period.
- Which intervals belong to a region (its own and its ancestors', the covering rule) is the
  caller's choice; these functions only see intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Times = npt.NDArray[np.int64]
Intervals = tuple[Times, Times]

MS_PER_SECOND = 1000
NEVER = np.iinfo(np.int64).max
"""The end of an interval that has not finished: cut to the period's end before use."""

_EMPTY: Times = np.empty(0, dtype=np.int64)


def as_times(values: npt.ArrayLike) -> Times:
    return np.asarray(values, dtype=np.int64)


def empty() -> Intervals:
    return _EMPTY, _EMPTY


def clip(starts: Times, ends: Times, lo: int, hi: int) -> Intervals:
    """
    The parts of the intervals inside `[lo, hi)`; intervals left empty are dropped.
    """
    s = np.maximum(starts, lo)
    e = np.minimum(ends, hi)
    keep = e > s
    return s[keep], e[keep]


def union(starts: Times, ends: Times) -> Intervals:
    """
    Sorted, disjoint episodes covering exactly the time any interval covers.

    Touching intervals (one ends when the next starts) merge: a lift followed at once by a
    new alert leaves no moment without an alert.
    """
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return empty()
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    # A new episode begins where an interval starts after everything before it has ended.
    begins = np.empty(s.size, dtype=bool)
    begins[0] = True
    begins[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(begins)
    last = np.append(first[1:] - 1, s.size - 1)
    return s[first], reach[last]


def difference(starts: Times, ends: Times, minus_starts: Times, minus_ends: Times) -> Intervals:
    """
    The parts of the episodes `[starts, ends)` outside the episodes `[minus_starts, minus_ends)`;
    both sorted and disjoint, as `union` returns them.
    """
    if starts.size == 0 or minus_starts.size == 0:
        return starts, ends
    # Only the subtracted episodes that reach into the span of the first set matter.
    first = int(np.searchsorted(minus_ends, starts[0], side="right"))
    last = int(np.searchsorted(minus_starts, ends[-1], side="left"))
    minus_starts, minus_ends = minus_starts[first:last], minus_ends[first:last]
    points = np.unique(np.concatenate((starts, ends, minus_starts, minus_ends)))
    pieces_s, pieces_e = points[:-1], points[1:]
    keep = _inside(starts, ends, pieces_s) & ~_inside(minus_starts, minus_ends, pieces_s)
    return union(pieces_s[keep], pieces_e[keep])


def _inside(starts: Times, ends: Times, at: Times) -> npt.NDArray[np.bool_]:
    """Whether each instant lies in one of the sorted, disjoint episodes."""
    begun = np.searchsorted(starts, at, side="right")
    ended = np.searchsorted(ends, at, side="right")
    return begun > ended


def total(starts: Times, ends: Times) -> int:
    return int(np.sum(ends - starts, dtype=np.int64))


@dataclass(frozen=True, slots=True)
class Summary:
    """
    What one region's alerts amount to over one period (times in milliseconds).
    """

    alerts: int
    """Alert records overlapping the period, before overlapping ones are merged."""
    episodes: int
    total_ms: int
    mean_ms: float
    median_ms: float
    longest_ms: int
    longest_start_ms: int | None
    period_ms: int

    @property
    def share(self) -> float:
        return self.total_ms / self.period_ms if self.period_ms > 0 else 0.0


def summarize(starts: Times, ends: Times, lo: int, hi: int, *, merged: bool = False) -> Summary:
    """
    Count, total, mean, median and longest episode of the intervals within `[lo, hi)`.

    *merged* says the intervals are episodes already (sorted and disjoint, as `union`
    returns them), which cutting to the period keeps them.
    """
    s, e = clip(starts, ends, lo, hi)
    episodes_s, episodes_e = (s, e) if merged else union(s, e)
    durations = episodes_e - episodes_s
    if durations.size == 0:
        return Summary(int(s.size), 0, 0, 0.0, 0.0, 0, None, max(hi - lo, 0))
    longest = int(np.argmax(durations))
    return Summary(
        alerts=int(s.size),
        episodes=int(durations.size),
        total_ms=int(durations.sum()),
        mean_ms=float(durations.mean()),
        median_ms=float(np.median(durations)),
        longest_ms=int(durations[longest]),
        longest_start_ms=int(episodes_s[longest]),
        period_ms=max(hi - lo, 0),
    )


def covered_before(starts: Times, ends: Times, at: Times) -> Times:
    """
    For each time in *at*, how long the disjoint sorted episodes have covered before it.

    The difference of two such values is the time under alert between them, so any number of
    windows costs one binary search each.
    """
    if starts.size == 0:
        return np.zeros(np.shape(at), dtype=np.int64)
    done = np.concatenate(([0], np.cumsum(ends - starts, dtype=np.int64)))
    index = np.searchsorted(starts, at, side="right")
    # Episodes before `index` started at or before the time; only the last can still be on.
    previous = np.maximum(index - 1, 0)
    unfinished = np.where(index > 0, np.maximum(ends[previous] - at, 0), 0)
    return done[index] - unfinished


def in_windows(starts: Times, ends: Times, window_starts: Times, window_ends: Times) -> Times:
    """
    Time under alert inside each window `[window_starts[i], window_ends[i])`.
    """
    s, e = union(starts, ends)
    return covered_before(s, e, window_ends) - covered_before(s, e, window_starts)


def by_label(
    starts: Times, ends: Times, edges: Times, labels: npt.NDArray[np.intp], size: int
) -> Times:
    """
    Time under alert per label, where bin `i` is `[edges[i], edges[i + 1])` with `labels[i]`.

    Used for local hours of the day (24 labels), or one label per day or month.
    """
    s, e = union(starts, ends)
    covered = covered_before(s, e, edges)
    return np.bincount(labels, weights=np.diff(covered), minlength=size).astype(np.int64)


def starts_by_label(
    starts: Times, ends: Times, edges: Times, labels: npt.NDArray[np.intp], size: int
) -> npt.NDArray[np.int64]:
    """
    How many episodes begin in each labelled bin (see `by_label`).
    """
    s, _ = union(starts, ends)
    index = np.searchsorted(edges, s, side="right") - 1
    inside = (index >= 0) & (index < labels.size)
    return np.bincount(labels[index[inside]], minlength=size).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Overlap:
    """
    How many of *n* units were under alert at once, over one period (milliseconds).
    """

    units: int
    by_count_ms: Times
    """`by_count_ms[k]`: time during which exactly k units were under alert."""
    all_starts: Times
    all_ends: Times
    """The episodes during which every unit was under alert."""

    @property
    def all_ms(self) -> int:
        return int(self.by_count_ms[self.units]) if self.units else 0


def overlap(
    per_unit: Sequence[Intervals],
    lo: int,
    hi: int,
    weights: Sequence[int] | None = None,
    units: int | None = None,
) -> Overlap:
    """
    Sweep the units' alert time together: how long k of them were under alert at once.

    With *weights*, entry i stands for `weights[i]` units with the same intervals (regions
    whose alerts all come from a shared ancestor), so they are swept once. Entries may also
    be disjoint parts of the same units' time (what an oblast's units share, and what each
    has beyond it); then *units* gives how many units there are.
    """
    counts = np.ones(len(per_unit), np.int64) if weights is None else as_times(weights)
    n = int(counts.sum()) if units is None else units
    by_count = np.zeros(n + 1, dtype=np.int64)
    if hi <= lo:
        return Overlap(n, by_count, _EMPTY, _EMPTY)
    pieces = [union(*clip(s, e, lo, hi)) for s, e in per_unit]
    sizes = np.array([p[0].size for p in pieces], dtype=np.int64)
    starts = np.concatenate([p[0] for p in pieces] or [_EMPTY])
    ends = np.concatenate([p[1] for p in pieces] or [_EMPTY])
    weight = np.repeat(counts, sizes)
    times = np.concatenate(([lo], starts, ends, [hi]))
    steps = np.concatenate(([0], weight, -weight, [0]))
    # At one instant, ends sort before starts, so a unit whose episodes touch is never
    # counted twice. One integer key sorts much faster than a lexsort of two.
    order = np.argsort(times * 2 + (steps > 0), kind="stable")
    times, steps = times[order], steps[order]
    level = np.cumsum(steps)[:-1]
    spans = np.diff(times)
    by_count += np.bincount(level, weights=spans, minlength=n + 1).astype(np.int64)
    if n == 0:
        return Overlap(0, by_count, _EMPTY, _EMPTY)
    full = (level == n) & (spans > 0)
    all_s, all_e = union(times[:-1][full], times[1:][full])
    return Overlap(n, by_count, all_s, all_e)
