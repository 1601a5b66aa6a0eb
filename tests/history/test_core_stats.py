"""
`tryvoha.core.stats`: unions count overlaps once, and every figure matches a brute-force count
over a grid of instants.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryvoha.core.stats import (
    NEVER,
    as_times,
    by_label,
    clip,
    covered_before,
    difference,
    in_windows,
    overlap,
    starts_by_label,
    summarize,
    union,
)

GRID = 200

intervals = st.lists(
    st.tuples(st.integers(0, GRID), st.integers(0, 40)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=25,
)


def arrays(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    return as_times([p[0] for p in pairs]), as_times([p[1] for p in pairs])


def covered_grid(pairs: list[tuple[int, int]], size: int = GRID + 60) -> np.ndarray:
    """Unit instants under alert: the brute-force truth."""
    grid = np.zeros(size, dtype=bool)
    for start, end in pairs:
        grid[start:end] = True
    return grid


def test_union_merges_overlapping_and_touching_intervals() -> None:
    s, e = union(as_times([10, 0, 5, 30, 40]), as_times([20, 5, 12, 40, 41]))
    assert s.tolist() == [0, 30]
    assert e.tolist() == [20, 41]


def test_union_drops_empty_intervals() -> None:
    s, e = union(as_times([5, 7]), as_times([5, 6]))
    assert s.size == 0 and e.size == 0


@given(intervals)
def test_union_covers_exactly_what_the_intervals_cover(pairs: list[tuple[int, int]]) -> None:
    s, e = union(*arrays(pairs))
    assert np.all(s[1:] > e[:-1]), "episodes are sorted, disjoint and not touching"
    merged = covered_grid(list(zip(s.tolist(), e.tolist(), strict=True)))
    assert np.array_equal(merged, covered_grid(pairs))


@given(intervals, st.integers(0, GRID), st.integers(0, GRID))
def test_summary_matches_brute_force(pairs: list[tuple[int, int]], a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    summary = summarize(*arrays(pairs), lo, hi)
    grid = covered_grid(pairs)[lo:hi]
    assert summary.total_ms == int(grid.sum())
    # Episodes are the runs of covered instants.
    runs = np.flatnonzero(np.diff(np.concatenate(([0], grid.astype(int), [0]))) == 1)
    assert summary.episodes == runs.size
    assert summary.period_ms == hi - lo
    if runs.size:
        ends = np.flatnonzero(np.diff(np.concatenate(([0], grid.astype(int), [0]))) == -1)
        lengths = ends - runs
        assert summary.longest_ms == lengths.max()
        assert summary.median_ms == pytest.approx(float(np.median(lengths)))
        assert summary.longest_start_ms == lo + runs[int(np.argmax(lengths))]
    assert summary.alerts == sum(1 for s, e in pairs if s < hi and e > lo and e > s)
    episodes = union(*arrays(pairs))
    again = summarize(*episodes, lo, hi, merged=True)
    assert (again.episodes, again.total_ms, again.longest_ms) == (
        summary.episodes,
        summary.total_ms,
        summary.longest_ms,
    )


def test_summary_of_nothing_is_zero() -> None:
    summary = summarize(as_times([]), as_times([]), 0, 100)
    assert (summary.episodes, summary.total_ms, summary.longest_ms, summary.share) == (0, 0, 0, 0.0)
    assert summary.longest_start_ms is None


def test_unfinished_alert_is_cut_at_the_period_end() -> None:
    summary = summarize(as_times([50]), as_times([NEVER]), 0, 100)
    assert summary.total_ms == 50
    assert summary.share == 0.5


@given(intervals, st.lists(st.integers(0, GRID + 50), min_size=1, max_size=10))
def test_covered_before_counts_time_up_to_each_instant(
    pairs: list[tuple[int, int]], instants: list[int]
) -> None:
    s, e = union(*arrays(pairs))
    grid = covered_grid(pairs)
    got = covered_before(s, e, as_times(instants))
    assert got.tolist() == [int(grid[:t].sum()) for t in instants]


@given(intervals)
def test_windows_and_labels_add_up(pairs: list[tuple[int, int]]) -> None:
    s, e = arrays(pairs)
    grid = covered_grid(pairs)
    edges = as_times(range(0, GRID + 60, 20))
    labels = np.arange(edges.size - 1) % 3
    per_label = by_label(s, e, edges, labels, 3)
    truth = [0, 0, 0]
    for a, b, label in zip(edges[:-1], edges[1:], labels, strict=True):
        truth[label] += int(grid[a:b].sum())
    assert per_label.tolist() == truth
    windows = in_windows(s, e, edges[:-1], edges[1:])
    assert windows.tolist() == [int(grid[a:b].sum()) for a, b in itertools.pairwise(edges)]


def test_starts_are_counted_in_the_bin_where_an_episode_begins() -> None:
    edges = as_times([0, 10, 20, 30])
    begun = starts_by_label(as_times([1, 5, 25]), as_times([8, 12, 27]), edges, np.arange(3), 3)
    # [1, 12) is one episode beginning in bin 0; [25, 27) begins in bin 2.
    assert begun.tolist() == [1, 0, 1]


@given(st.lists(intervals, min_size=1, max_size=4), st.integers(0, GRID))
def test_overlap_counts_units_under_alert_at_each_instant(
    units: list[list[tuple[int, int]]], hi: int
) -> None:
    result = overlap([arrays(u) for u in units], 0, hi)
    grids = np.array([covered_grid(u)[:hi] for u in units])
    level = grids.sum(axis=0)
    assert result.by_count_ms.tolist() == [int((level == k).sum()) for k in range(len(units) + 1)]
    assert result.all_ms == int((level == len(units)).sum())
    assert int((result.all_ends - result.all_starts).sum()) == result.all_ms


def test_overlap_weights_stand_for_identical_units() -> None:
    a = arrays([(0, 10)])
    b = arrays([(5, 20)])
    weighted = overlap([a, b], 0, 30, weights=[2, 1])
    expanded = overlap([a, a, b], 0, 30)
    assert weighted.by_count_ms.tolist() == expanded.by_count_ms.tolist()
    assert weighted.all_ms == 5


def test_clip_keeps_only_the_inside() -> None:
    s, e = clip(as_times([0, 10, 50]), as_times([5, 30, 60]), 3, 20)
    assert list(zip(s.tolist(), e.tolist(), strict=True)) == [(3, 5), (10, 20)]


@given(intervals, intervals)
def test_difference_leaves_what_the_second_set_does_not_cover(
    first: list[tuple[int, int]], second: list[tuple[int, int]]
) -> None:
    a, b = union(*arrays(first)), union(*arrays(second))
    s, e = difference(*a, *b)
    assert np.all(s[1:] > e[:-1])
    left = covered_grid(list(zip(s.tolist(), e.tolist(), strict=True)))
    assert np.array_equal(left, covered_grid(first) & ~covered_grid(second))
