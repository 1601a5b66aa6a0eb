"""
The wire shape of alerts and events round-trips exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryvoha.core.codec import (
    event_from_dict,
    event_to_dict,
    format_time,
    parse_time,
    truncate_to_ms,
)
from tryvoha.core.model import Alert, AlertLevel, AlertType, Event, EventKind, Threat, ThreatClass

times = st.datetimes(
    # Hypothesis takes naive bounds and attaches the zone itself.
    min_value=datetime(2022, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(truncate_to_ms)

threats = st.none() | st.builds(
    Threat, st.sampled_from(list(ThreatClass)), st.none() | times, st.none() | st.text(max_size=10)
)

alerts = st.builds(
    Alert,
    id=st.integers(1, 10**9),
    region_id=st.text("0123456789", min_size=1, max_size=5),
    type=st.sampled_from(list(AlertType)),
    level=st.sampled_from(list(AlertLevel)),
    started_at=times,
    updated_at=times,
    source=st.text(min_size=1, max_size=20),
    finished_at=st.none() | times,
    threat=threats,
    note=st.none() | st.text(max_size=50),
)

events = st.builds(
    Event,
    seq=st.integers(1, 10**9),
    kind=st.sampled_from(list(EventKind)),
    at=times,
    actor=st.text(min_size=1, max_size=20),
    alert=alerts,
    changes=st.lists(st.sampled_from(["level", "note", "threat", "source"]), unique=True).map(
        tuple
    ),
)


@given(events)
def test_event_round_trip(event: Event) -> None:
    assert event_from_dict(event_to_dict(event)) == event


def test_time_format_has_milliseconds_and_z() -> None:
    value = datetime(2025, 7, 3, 21, 22, 0, 123456, tzinfo=UTC)
    assert format_time(value) == "2025-07-03T21:22:00.123Z"
    kyiv = value.astimezone(timezone(timedelta(hours=3)))
    assert format_time(kyiv) == "2025-07-03T21:22:00.123Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-03T21:22:00Z", datetime(2025, 7, 3, 21, 22, tzinfo=UTC)),
        ("2025-07-04T00:22:00+03:00", datetime(2025, 7, 3, 21, 22, tzinfo=UTC)),
        ("2025-07-03T21:22:00.5z", datetime(2025, 7, 3, 21, 22, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["2025-07-03T21:22:00", "yesterday", ""])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)
