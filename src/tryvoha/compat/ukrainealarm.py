"""
Alerts and regions in the shape of api.ukrainealarm.com v3 (ua-apis.md §2).

Region ids are the same numbers; oblast-level units are `State`, raions `District`, the
rest `Community`. Times are UTC with milliseconds and `Z`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tryvoha.compat.formats import iso_ms, timespan
from tryvoha.core.model import Alert, AlertType, Event, EventKind, Region, RegionLevel
from tryvoha.core.regions import RegionRegistry

ALERT_TYPES = {
    AlertType.AIR_RAID: "AIR",
    AlertType.ARTILLERY_SHELLING: "ARTILLERY",
    AlertType.URBAN_FIGHTS: "URBAN_FIGHTS",
    AlertType.CHEMICAL: "CHEMICAL",
    AlertType.NUCLEAR: "NUCLEAR",
}


def region_type(region: Region) -> str:
    if region.parent_id is None:
        return "State"
    if region.level is RegionLevel.RAION:
        return "District"
    return "Community"


def region_model(
    region: Region, active_alerts: list[dict[str, Any]], last_update: datetime
) -> dict[str, Any]:
    """An `AlertRegionModel`; `activeAlerts: []` means all clear."""
    return {
        "regionId": region.id,
        "regionType": region_type(region),
        "regionName": region.name_uk,
        "regionEngName": region.name_en,
        "lastUpdate": iso_ms(last_update),
        "activeAlerts": active_alerts,
    }


def active_alert(region: Region, alert: Alert) -> dict[str, Any]:
    return {
        "regionId": region.id,
        "regionType": region_type(region),
        "type": ALERT_TYPES[alert.type],
        "lastUpdate": iso_ms(alert.updated_at),
    }


def regions_with_alerts(alerts: Iterable[Alert], registry: RegionRegistry) -> list[dict[str, Any]]:
    """
    `GET /api/v3/alerts`: every region with an alert of its own, each listing those alerts.
    """
    by_region: dict[str, list[Alert]] = {}
    for alert in sorted(alerts, key=lambda a: a.id):
        by_region.setdefault(alert.region_id, []).append(alert)
    models = []
    for region_id, own in by_region.items():
        region = registry.find(region_id)
        if region is None:
            continue
        models.append(
            region_model(
                region,
                [active_alert(region, a) for a in own],
                max(a.updated_at for a in own),
            )
        )
    return models


def covering_model(
    region: Region, covering: Iterable[Alert], last_update: datetime
) -> dict[str, Any]:
    """
    `GET /api/v3/alerts/{regionId}`: the alerts that cover *region* (its own and its
    ancestors'), one per type, each reported under *region*'s id.

    Consumers that keep only entries whose `regionId` is the one they asked for still see
    an oblast-wide alert this way. Alerts on children are not listed: Home Assistant turns
    a sensor on for any entry, so a raion's alert would switch on its whole oblast.
    """
    newest: dict[AlertType, Alert] = {}
    for alert in covering:
        kept = newest.get(alert.type)
        if kept is None or alert.updated_at > kept.updated_at:
            newest[alert.type] = alert
    entries = [active_alert(region, a) for a in sorted(newest.values(), key=lambda a: a.id)]
    return region_model(region, entries, last_update)


def regions_tree(registry: RegionRegistry) -> dict[str, Any]:
    """`GET /api/v3/regions`: states, districts and communities, `regionChildIds` at every level."""

    def node(region: Region) -> dict[str, Any]:
        return {
            "regionId": region.id,
            "regionName": region.name_uk,
            "regionType": region_type(region),
            "regionChildIds": [node(child) for child in registry.children(region.id)],
        }

    return {"states": [node(r) for r in registry if r.parent_id is None]}


def alarm(alert: Alert, registry: RegionRegistry, now: datetime) -> dict[str, Any]:
    """
    One entry of region or date history. An alert still running ends *now* with
    `isContinue: true`, since clients parse `endDate` as a time.
    """
    region = registry.find(alert.region_id)
    end = alert.finished_at if alert.finished_at is not None else max(now, alert.started_at)
    return {
        "regionId": alert.region_id,
        "regionName": None if region is None else region.name_uk,
        "startDate": iso_ms(alert.started_at),
        "endDate": iso_ms(end),
        "duration": timespan(end - alert.started_at),
        "alertType": ALERT_TYPES[alert.type],
        "isContinue": alert.finished_at is None,
    }


def region_history(
    region: Region, alerts: Iterable[Alert], registry: RegionRegistry, now: datetime
) -> list[dict[str, Any]]:
    """`GET /api/v3/alerts/regionHistory`: a one-element list holding the region's alarms."""
    return [
        {
            "regionId": region.id,
            "regionName": region.name_uk,
            "alarms": [alarm(a, registry, now) for a in alerts],
        }
    ]


def webhook_model(
    event: Event, registry: RegionRegistry, others: Iterable[Alert]
) -> dict[str, Any] | None:
    """
    The `AlertRegionModel` POSTed to a webhook for *event*: its region with the alerts
    of its own after the change (`activeAlerts: []` is all clear). *others* are the
    region's alerts of the other types; None for a region the registry no longer has.
    """
    region = registry.find(event.region_id)
    if region is None:
        return None
    alerts = [a for a in others if a.region_id == region.id and a.type is not event.type]
    if event.kind is not EventKind.LIFTED:
        alerts.append(event.alert)
    entries = [active_alert(region, a) for a in sorted(alerts, key=lambda a: a.id)]
    return region_model(region, entries, event.at)
