"""
The domain's value types: regions, alerts, events.

Everything here is a frozen, slotted dataclass or a `StrEnum` whose values are the wire
values. Times are aware UTC `datetime`s; nothing in this module reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class RegionLevel(StrEnum):
    OBLAST = "oblast"
    RAION = "raion"
    HROMADA = "hromada"
    CITY = "city"


class AlertType(StrEnum):
    AIR_RAID = "air_raid"
    ARTILLERY_SHELLING = "artillery_shelling"
    URBAN_FIGHTS = "urban_fights"
    CHEMICAL = "chemical"
    NUCLEAR = "nuclear"


class AlertLevel(StrEnum):
    """
    `alert` is red (take shelter now), `warning` is yellow (elevated danger, a pre-alert).
    """

    ALERT = "alert"
    WARNING = "warning"


class RegionStatus(StrEnum):
    """
    Status of one region for one alert type (DESIGN §2).

    `active`: the region or an ancestor has an alert; `partial`: some descendant has one.
    """

    ACTIVE = "active"
    PARTIAL = "partial"
    NONE = "none"


class EventKind(StrEnum):
    RAISED = "alert.raised"
    UPDATED = "alert.updated"
    LIFTED = "alert.lifted"


class ThreatClass(StrEnum):
    SHAHED = "shahed"
    JET_DRONE = "jet_drone"
    CRUISE_MISSILE = "cruise_missile"
    BALLISTIC_MISSILE = "ballistic_missile"
    AIRCRAFT = "aircraft"
    UNKNOWN = "unknown"


ENGINE_SOURCE = "engine"
"""The `source` of alerts raised by the warning engine; operators' alerts carry their token name."""


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    level: RegionLevel
    parent_id: str | None
    name_uk: str
    name_en: str
    katottg: str | None = None


@dataclass(frozen=True, slots=True)
class Threat:
    """
    What the warning engine expects: the threat's class and when it can arrive.
    """

    threat_class: ThreatClass
    expected_arrival: datetime | None = None
    track_id: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """
    One alert on one region for one type; `id` is the sequence number of the event that
    raised it, so ids are unique, increasing and never reused.
    """

    id: int
    region_id: str
    type: AlertType
    level: AlertLevel
    started_at: datetime
    updated_at: datetime
    source: str
    finished_at: datetime | None = None
    threat: Threat | None = None
    note: str | None = None

    @property
    def is_active(self) -> bool:
        return self.finished_at is None

    @property
    def key(self) -> AlertKey:
        return AlertKey(self.region_id, self.type)


@dataclass(frozen=True, slots=True, order=True)
class AlertKey:
    region_id: str
    type: AlertType


@dataclass(frozen=True, slots=True)
class Event:
    """
    One change in the durable, gap-free log.

    `alert` is the alert as it stands after the change (finished for a lift). `actor` is the
    name of the token that caused it: the audit trail.
    """

    seq: int
    kind: EventKind
    at: datetime
    actor: str
    alert: Alert
    changes: tuple[str, ...] = field(default=())

    @property
    def region_id(self) -> str:
        return self.alert.region_id

    @property
    def type(self) -> AlertType:
        return self.alert.type
