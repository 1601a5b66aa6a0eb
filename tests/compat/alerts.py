"""
Alerts made by hand for the format tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tryvoha.core.model import Alert, AlertLevel, AlertType, Threat

T0 = datetime(2025, 7, 3, 21, 22, 0, 123000, tzinfo=UTC)


def make_alert(
    id: int,
    region_id: str,
    type: AlertType = AlertType.AIR_RAID,
    level: AlertLevel = AlertLevel.ALERT,
    *,
    minutes: int = 0,
    finished_after: int | None = None,
    threat: Threat | None = None,
    note: str | None = None,
) -> Alert:
    started = T0 + timedelta(minutes=minutes)
    finished = None if finished_after is None else started + timedelta(minutes=finished_after)
    return Alert(
        id=id,
        region_id=region_id,
        type=type,
        level=level,
        started_at=started,
        updated_at=finished or started,
        source="duty",
        finished_at=finished,
        threat=threat,
        note=note,
    )
