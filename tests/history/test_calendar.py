"""
Kyiv local time at the edges: periods from dates, nights across clock changes, local bins.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from tryvoha.history.calendar import (
    calendar_bins,
    hours_of_day,
    local_label,
    night,
    nights,
    parse_bound,
    to_ms,
)
from tryvoha.history.options import Bin

HOUR = 3_600_000


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return to_ms(datetime(year, month, day, hour, minute, tzinfo=UTC))


def test_a_date_bound_is_kyiv_midnight_and_until_includes_the_day() -> None:
    # Kyiv is UTC+2 in January and UTC+3 in July.
    assert parse_bound("2024-01-10", end=False) == utc_ms(2024, 1, 9, 22)
    assert parse_bound("2024-01-10", end=True) == utc_ms(2024, 1, 10, 22)
    assert parse_bound("2024-07-10", end=False) == utc_ms(2024, 7, 9, 21)


def test_a_time_bound_needs_an_offset() -> None:
    assert parse_bound("2024-01-10T05:00:00Z", end=False) == utc_ms(2024, 1, 10, 5)
    assert parse_bound("2024-01-10T05:00:00+02:00", end=True) == utc_ms(2024, 1, 10, 3)
    with pytest.raises(ValueError, match="offset"):
        parse_bound("2024-01-10T05:00:00", end=False)
    with pytest.raises(ValueError, match="not a date"):
        parse_bound("yesterday", end=False)


@pytest.mark.parametrize(
    ("day", "hours", "start", "end"),
    [
        pytest.param(
            date(2023, 3, 26), 11, (2023, 3, 25, 16), (2023, 3, 26, 3), id="spring-forward"
        ),
        pytest.param(date(2023, 10, 29), 13, (2023, 10, 28, 15), (2023, 10, 29, 4), id="fall-back"),
        pytest.param(date(2023, 6, 1), 12, (2023, 5, 31, 15), (2023, 6, 1, 3), id="summer"),
        pytest.param(date(2023, 12, 1), 12, (2023, 11, 30, 16), (2023, 12, 1, 4), id="winter"),
    ],
)
def test_a_night_runs_from_18_to_06_kyiv_time(
    day: date, hours: int, start: tuple[int, int, int, int], end: tuple[int, int, int, int]
) -> None:
    lo, hi = night(day)
    assert (lo, hi) == (utc_ms(*start), utc_ms(*end))
    assert hi - lo == hours * HOUR
    assert local_label(lo).endswith("18:00") and local_label(hi).endswith("06:00")


def test_nights_of_a_period_are_those_ending_on_its_dates() -> None:
    found = nights(parse_bound("2023-03-25", end=False), parse_bound("2023-03-27", end=True))
    assert found.names == ("2023-03-25", "2023-03-26", "2023-03-27")
    assert ((found.ends - found.starts) // HOUR).tolist() == [12, 11, 12]


def test_days_across_clock_changes_are_23_and_25_hours() -> None:
    bins = calendar_bins(
        parse_bound("2023-03-25", end=False), parse_bound("2023-03-27", end=True), Bin.DAY
    )
    assert bins.names == ("2023-03-25", "2023-03-26", "2023-03-27")
    assert (np.diff(bins.edges) // HOUR).tolist() == [24, 23, 24]
    bins = calendar_bins(
        parse_bound("2023-10-29", end=False), parse_bound("2023-10-29", end=True), Bin.DAY
    )
    assert (np.diff(bins.edges) // HOUR).tolist() == [25]


def test_months_and_weeks_start_on_local_boundaries() -> None:
    bins = calendar_bins(
        parse_bound("2023-01-15", end=False), parse_bound("2023-04-02", end=True), Bin.MONTH
    )
    assert bins.names == ("2023-01", "2023-02", "2023-03", "2023-04")
    assert bins.edges[0] == parse_bound("2023-01-01", end=False)
    assert (np.diff(bins.edges) // HOUR).tolist() == [744, 672, 743, 720]
    weeks = calendar_bins(
        parse_bound("2023-03-22", end=False), parse_bound("2023-03-28", end=True), Bin.WEEK
    )
    assert weeks.names == ("2023-03-20", "2023-03-27")
    assert (np.diff(weeks.edges) // HOUR).tolist() == [167, 168]


def test_hours_of_day_repeat_and_skip_a_local_hour_at_clock_changes() -> None:
    autumn = hours_of_day(parse_bound("2023-10-29", end=False), parse_bound("2023-10-29", end=True))
    assert autumn.labels.tolist().count(3) == 2
    assert autumn.labels.size == 25
    spring = hours_of_day(parse_bound("2023-03-26", end=False), parse_bound("2023-03-26", end=True))
    assert 3 not in spring.labels.tolist()
    assert spring.labels.size == 23
