"""
Alerts in the shape of alerts.in.ua's `/v1/alerts/active.json` and history (ua-apis.md §1).

The official client requires `id` and a `meta` object, and parses every time with
milliseconds and `Z`; the other fields are read with `.get`, so absent data is `null`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from tryvoha.compat.formats import iso_ms, meta_time
from tryvoha.core.model import Alert, AlertLevel, Region, RegionLevel, ThreatClass
from tryvoha.core.regions import RegionRegistry

DISCLAIMER = "Served by tryvoha, an open alert server speaking the alerts.in.ua API."

ALERT_LEVELS = {AlertLevel.ALERT: "red", AlertLevel.WARNING: "yellow"}

THREAT_TYPES = {
    ThreatClass.SHAHED: "drones",
    ThreatClass.JET_DRONE: "drones",
    ThreatClass.CRUISE_MISSILE: "cruise_missiles",
    ThreatClass.BALLISTIC_MISSILE: "ballistic_missiles",
    ThreatClass.AIRCRAFT: "tactic_aircraft_activity",
    ThreatClass.UNKNOWN: "unknown",
}


def location_type(region: Region) -> str:
    # alerts.in.ua calls the oblast-level cities (Kyiv, Sevastopol) "city", not "oblast".
    if region.level is RegionLevel.CITY:
        return "city"
    if region.level is RegionLevel.OBLAST:
        return "city" if region.name_uk.startswith("м. ") else "oblast"
    return region.level.value


def uid_value(region_id: str) -> int | str:
    """`location_oblast_uid` is a number in the live service's data."""
    return int(region_id) if region_id.isascii() and region_id.isdigit() else region_id


def _location(region_id: str, registry: RegionRegistry) -> dict[str, Any]:
    region = registry.find(region_id)
    if region is None:
        # An alert on a region a newer registry no longer has: still shown, by id.
        return {
            "location_title": None,
            "location_type": "unknown",
            "location_uid": region_id,
            "location_oblast": None,
            "location_oblast_uid": None,
        }
    oblast = registry.oblast_of(region_id)
    data: dict[str, Any] = {
        "location_title": region.name_uk,
        "location_type": location_type(region),
        "location_uid": region.id,
        "location_oblast": oblast.name_uk,
        "location_oblast_uid": uid_value(oblast.id),
    }
    for ancestor_id in registry.ancestors(region_id):
        ancestor = registry.get(ancestor_id)
        if ancestor.level is RegionLevel.RAION:
            data["location_raion"] = ancestor.name_uk
    return data


def alert_to_dict(alert: Alert, registry: RegionRegistry, *, threats: bool) -> dict[str, Any]:
    """One alert; history entries leave `threats` out, as the original does."""
    region = registry.find(alert.region_id)
    data: dict[str, Any] = {
        "id": alert.id,
        **_location(alert.region_id, registry),
        "started_at": iso_ms(alert.started_at),
        "finished_at": None if alert.finished_at is None else iso_ms(alert.finished_at),
        "updated_at": iso_ms(alert.updated_at),
        "alert_type": alert.type.value,
        "notes": alert.note,
        "country": None,
        "calculated": None,
        "alert_level": ALERT_LEVELS[alert.level],
        "location_title_en": None if region is None else region.name_en,
    }
    if threats:
        data["threats"] = [] if alert.threat is None else [_threat(alert)]
    return data


def _threat(alert: Alert) -> dict[str, Any]:
    assert alert.threat is not None
    return {
        "threat_type": THREAT_TYPES[alert.threat.threat_class],
        "level": ALERT_LEVELS[alert.level],
        "started_at": iso_ms(alert.updated_at),
        "source_message": alert.note,
    }


def render_alerts(
    alerts: Iterable[Alert],
    registry: RegionRegistry,
    last_updated_at: datetime,
    *,
    threats: bool = True,
) -> bytes:
    """The whole envelope: `alerts`, `meta` and `disclaimer`."""
    return orjson.dumps(
        {
            "alerts": [alert_to_dict(a, registry, threats=threats) for a in alerts],
            "meta": {"last_updated_at": meta_time(last_updated_at), "type": "full"},
            "disclaimer": DISCLAIMER,
        }
    )
