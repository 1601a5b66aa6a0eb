"""
The time formats the compatible APIs' clients parse, byte for byte.

alerts.in.ua's Python client parses alert times with `%Y-%m-%dT%H:%M:%S.%fZ` and
`meta.last_updated_at` with `%Y/%m/%d %H:%M:%S %z`; anything else raises in the client.
HTTP validators are IMF-fixdates (RFC 9110 §5.6.7), compared at whole seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from tryvoha.core.codec import format_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(value: datetime) -> str:
    """`2025-07-03T21:22:00.123Z`: what both APIs use for alert times."""
    return format_time(value)


def meta_time(value: datetime) -> str:
    """`2025/07/03 21:22:00 +0000`: alerts.in.ua's `meta.last_updated_at`."""
    return value.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S +0000")


def http_date(value: datetime) -> str:
    """`Thu, 03 Jul 2025 21:22:00 GMT`."""
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def parse_http_date(text: str) -> datetime | None:
    """The instant of an HTTP date, or None when it is not one (then it is ignored)."""
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def whole_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def timespan(delta: timedelta) -> str:
    """
    A .NET `TimeSpan` as ukrainealarm renders durations: `hh:mm:ss`, `d.hh:mm:ss` past a day.
    """
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}.{clock}" if days else clock
