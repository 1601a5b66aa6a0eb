"""
The time formats the compatible clients parse, checked with the clients' own parsers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alerts_in_ua.ua_date_parser import UaDateParser

from tryvoha.compat.formats import http_date, iso_ms, meta_time, parse_http_date, timespan

MOMENT = datetime(2025, 7, 3, 21, 22, 0, 123456, tzinfo=UTC)


def test_alert_times_have_milliseconds_and_z() -> None:
    assert iso_ms(MOMENT) == "2025-07-03T21:22:00.123Z"
    assert iso_ms(MOMENT.replace(microsecond=0)) == "2025-07-03T21:22:00.000Z"
    parsed = UaDateParser.parse_date(iso_ms(MOMENT))
    assert parsed is not None
    assert parsed.astimezone(UTC) == MOMENT.replace(microsecond=123000)


def test_meta_time_is_what_the_client_parses() -> None:
    kyiv_summer = timezone(timedelta(hours=3))
    text = meta_time(MOMENT.astimezone(kyiv_summer))
    assert text == "2025/07/03 21:22:00 +0000"
    parsed = UaDateParser.parse_date(text, "%Y/%m/%d %H:%M:%S %z")
    assert parsed is not None
    assert parsed.astimezone(UTC) == MOMENT.replace(microsecond=0)


def test_http_dates_are_imf_fixdates_and_read_back() -> None:
    assert http_date(MOMENT) == "Thu, 03 Jul 2025 21:22:00 GMT"
    assert parse_http_date("Thu, 03 Jul 2025 21:22:00 GMT") == MOMENT.replace(microsecond=0)


@pytest.mark.parametrize("text", ["", "yesterday", "Thu, 03 Jul 2025 21:22:00", "32/13/2025"])
def test_unreadable_http_dates_are_ignored(text: str) -> None:
    assert parse_http_date(text) is None


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(timedelta(0), "00:00:00", id="zero"),
        pytest.param(timedelta(minutes=31, seconds=31), "00:31:31", id="minutes"),
        pytest.param(timedelta(hours=23, minutes=59, seconds=59), "23:59:59", id="under-a-day"),
        pytest.param(timedelta(days=2, hours=3, seconds=4), "2.03:00:04", id="days"),
        pytest.param(timedelta(seconds=-5), "00:00:00", id="negative-clamped"),
    ],
)
def test_durations_are_dotnet_timespans(delta: timedelta, expected: str) -> None:
    assert timespan(delta) == expected
