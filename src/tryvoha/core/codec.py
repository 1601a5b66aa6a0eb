"""
Plain-dict forms of alerts and events: the one wire and storage shape of the native API.

Times are UTC with milliseconds and `Z` (`2025-07-03T21:22:00.123Z`); the service rounds
its clock to milliseconds so that a value survives a round trip exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tryvoha.core.model import (
    Alert,
    AlertLevel,
    AlertType,
    Event,
    EventKind,
    Threat,
    ThreatClass,
)


def format_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """
    Parse an ISO 8601 time; a value without an offset is rejected, not guessed.
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return value.astimezone(UTC)


def truncate_to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _opt_time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def threat_to_dict(threat: Threat | None) -> dict[str, Any] | None:
    if threat is None:
        return None
    return {
        "class": threat.threat_class.value,
        "expected_arrival": _opt_time(threat.expected_arrival),
        "track_id": threat.track_id,
    }


def threat_from_dict(data: dict[str, Any] | None) -> Threat | None:
    if data is None:
        return None
    arrival = data.get("expected_arrival")
    return Threat(
        threat_class=ThreatClass(data["class"]),
        expected_arrival=parse_time(arrival) if arrival else None,
        track_id=data.get("track_id"),
    )


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "region_id": alert.region_id,
        "type": alert.type.value,
        "level": alert.level.value,
        "started_at": format_time(alert.started_at),
        "updated_at": format_time(alert.updated_at),
        "finished_at": _opt_time(alert.finished_at),
        "source": alert.source,
        "threat": threat_to_dict(alert.threat),
        "note": alert.note,
    }


def alert_from_dict(data: dict[str, Any]) -> Alert:
    finished = data.get("finished_at")
    return Alert(
        id=int(data["id"]),
        region_id=str(data["region_id"]),
        type=AlertType(data["type"]),
        level=AlertLevel(data["level"]),
        started_at=parse_time(data["started_at"]),
        updated_at=parse_time(data["updated_at"]),
        source=str(data["source"]),
        finished_at=parse_time(finished) if finished else None,
        threat=threat_from_dict(data.get("threat")),
        note=data.get("note"),
    )


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "kind": event.kind.value,
        "at": format_time(event.at),
        "actor": event.actor,
        "changes": list(event.changes),
        "alert": alert_to_dict(event.alert),
    }


def event_from_dict(data: dict[str, Any]) -> Event:
    return Event(
        seq=int(data["seq"]),
        kind=EventKind(data["kind"]),
        at=parse_time(data["at"]),
        actor=str(data["actor"]),
        alert=alert_from_dict(data["alert"]),
        changes=tuple(data.get("changes", ())),
    )
