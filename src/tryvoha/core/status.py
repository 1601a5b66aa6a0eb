"""
Region status per alert type, derived from the active alerts and the region tree.

DESIGN §2: a region is `active` when it or an ancestor has an alert of the type,
`partial` when only some descendant has one, `none` otherwise. The level shown is the most
severe of the alerts that make it active (`alert` beats `warning`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tryvoha.core.model import Alert, AlertLevel, AlertType, RegionStatus
from tryvoha.core.regions import RegionRegistry


@dataclass(frozen=True, slots=True)
class StatusView:
    status: RegionStatus
    level: AlertLevel | None
    covering: tuple[Alert, ...]
    """The alerts on the region itself or its ancestors, oldest first."""


_NONE = StatusView(RegionStatus.NONE, None, ())


def _stronger(a: AlertLevel | None, b: AlertLevel) -> AlertLevel:
    return AlertLevel.ALERT if AlertLevel.ALERT in (a, b) else AlertLevel.WARNING


def region_status(
    registry: RegionRegistry, alerts: Iterable[Alert], region_id: str, alert_type: AlertType
) -> StatusView:
    registry.get(region_id)
    lineage = {region_id, *registry.ancestors(region_id)}
    covering: list[Alert] = []
    partial_level: AlertLevel | None = None
    partial = False
    for alert in alerts:
        if alert.type is not alert_type:
            continue
        if alert.region_id in lineage:
            covering.append(alert)
        elif region_id in registry.ancestors(alert.region_id):
            partial = True
            partial_level = _stronger(partial_level, alert.level)
    if covering:
        covering.sort(key=lambda a: a.id)
        level: AlertLevel | None = None
        for alert in covering:
            level = _stronger(level, alert.level)
        return StatusView(RegionStatus.ACTIVE, level, tuple(covering))
    if partial:
        return StatusView(RegionStatus.PARTIAL, partial_level, ())
    return _NONE


def status_map(
    registry: RegionRegistry, alerts: Iterable[Alert], alert_type: AlertType
) -> dict[str, tuple[RegionStatus, AlertLevel]]:
    """
    The status of every region that is not `none`, in one pass over the active alerts.
    """
    result: dict[str, tuple[RegionStatus, AlertLevel]] = {}
    partial: dict[str, AlertLevel] = {}
    for alert in alerts:
        if alert.type is not alert_type:
            continue
        for rid in (alert.region_id, *registry.descendants(alert.region_id)):
            previous = result.get(rid)
            result[rid] = (
                RegionStatus.ACTIVE,
                _stronger(previous[1] if previous else None, alert.level),
            )
        for rid in registry.ancestors(alert.region_id):
            partial[rid] = _stronger(partial.get(rid), alert.level)
    for rid, level in partial.items():
        if rid not in result:
            result[rid] = (RegionStatus.PARTIAL, level)
    return result
