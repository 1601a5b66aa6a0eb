"""
Wire models of the native API. Core types never leave through these by accident: routes
build the dicts with `tryvoha.core.codec` and these models document and validate them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tryvoha.core.model import AlertLevel, AlertType, RegionLevel, RegionStatus, ThreatClass

RegionIds = list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreatIn(_Strict):
    threat_class: ThreatClass = Field(alias="class")
    expected_arrival: str | None = Field(default=None, max_length=40)
    track_id: str | None = Field(default=None, max_length=100)


class RaiseIn(_Strict):
    regions: RegionIds = Field(min_length=1, max_length=2000)
    type: AlertType = AlertType.AIR_RAID
    level: AlertLevel = AlertLevel.ALERT
    note: str | None = Field(default=None, max_length=1000)
    threat: ThreatIn | None = None


class LiftIn(_Strict):
    regions: RegionIds = Field(min_length=1, max_length=2000)
    type: AlertType = AlertType.AIR_RAID


class ThreatOut(BaseModel):
    threat_class: ThreatClass = Field(alias="class")
    expected_arrival: str | None
    track_id: str | None


class AlertOut(BaseModel):
    id: int
    region_id: str
    type: AlertType
    level: AlertLevel
    started_at: str
    updated_at: str
    finished_at: str | None
    source: str
    threat: ThreatOut | None
    note: str | None


class ActiveAlertsOut(BaseModel):
    last_seq: int
    alerts: list[AlertOut]


class HistoryOut(BaseModel):
    alerts: list[AlertOut]
    next_cursor: str | None


class CommandResultItem(BaseModel):
    region_id: str
    outcome: str = Field(description="raised, updated, lifted, already_raised, not_raised, …")
    seq: int | None
    alert: AlertOut | None


class CommandOut(BaseModel):
    type: AlertType
    results: list[CommandResultItem]
    events: list[int]


class EventOut(BaseModel):
    seq: int
    kind: str
    at: str
    actor: str
    changes: list[str]
    alert: AlertOut


class EventsOut(BaseModel):
    events: list[EventOut]
    last_seq: int


class RegionOut(BaseModel):
    id: str
    level: RegionLevel
    parent_id: str | None
    name_uk: str
    name_en: str
    katottg: str | None
    geometry: dict[str, Any] | None = None


class RegionsOut(BaseModel):
    regions: list[RegionOut]


class LocationOut(BaseModel):
    lat: float
    lon: float
    hromada: RegionOut | None
    raion: RegionOut | None
    oblast: RegionOut | None


class TypeStatus(BaseModel):
    type: AlertType
    status: RegionStatus
    level: AlertLevel | None
    alerts: list[AlertOut]


class RegionStatusOut(BaseModel):
    region: RegionOut
    statuses: list[TypeStatus]


class Health(BaseModel):
    status: str
    last_seq: int
    active_alerts: int
