"""
Region status from the hierarchy (DESIGN §2).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tryvoha.core.model import Alert, AlertLevel, AlertType, RegionStatus
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.status import region_status, status_map

T0 = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)
AIR = AlertType.AIR_RAID


def alert(
    id: int, region: str, level: AlertLevel = AlertLevel.ALERT, type: AlertType = AIR
) -> Alert:
    return Alert(id, region, type, level, T0, T0, "duty")


def test_oblast_alert_covers_children(registry: RegionRegistry) -> None:
    raion = registry.children("14")[0]
    hromada = registry.children(raion.id)[0]
    alerts = [alert(1, "14")]
    for region in ("14", raion.id, hromada.id):
        view = region_status(registry, alerts, region, AIR)
        assert view.status is RegionStatus.ACTIVE
        assert view.covering == (alerts[0],)
    assert region_status(registry, alerts, "31", AIR).status is RegionStatus.NONE
    assert region_status(registry, alerts, "14", AlertType.NUCLEAR).status is RegionStatus.NONE


def test_child_alert_makes_ancestors_partial(registry: RegionRegistry) -> None:
    raion = registry.children("14")[0]
    hromada = registry.children(raion.id)[0]
    alerts = [alert(1, hromada.id, AlertLevel.WARNING)]
    assert region_status(registry, alerts, "14", AIR).status is RegionStatus.PARTIAL
    assert region_status(registry, alerts, raion.id, AIR).level is AlertLevel.WARNING
    sibling = registry.children(raion.id)[1]
    assert region_status(registry, alerts, sibling.id, AIR).status is RegionStatus.NONE


def test_red_beats_yellow(registry: RegionRegistry) -> None:
    raion = registry.children("14")[0]
    alerts = [alert(1, "14", AlertLevel.WARNING), alert(2, raion.id)]
    assert region_status(registry, alerts, raion.id, AIR).level is AlertLevel.ALERT
    assert region_status(registry, alerts, "14", AIR).level is AlertLevel.WARNING


def test_status_map_agrees_with_region_status(registry: RegionRegistry) -> None:
    raion = registry.children("22")[0]
    alerts = [
        alert(1, "14"),
        alert(2, raion.id, AlertLevel.WARNING),
        alert(3, "31", type=AlertType.NUCLEAR),
    ]
    mapped = status_map(registry, alerts, AIR)
    for region in registry:
        view = region_status(registry, alerts, region.id, AIR)
        expected = None if view.status is RegionStatus.NONE else (view.status, view.level)
        assert mapped.get(region.id) == expected, region.id
