"""
ukrainealarm v3 bodies: region models, the covering rule, the tree, history entries.
"""

from __future__ import annotations

from datetime import timedelta

from tests.compat.alerts import T0, make_alert
from tryvoha.compat import ukrainealarm as ua
from tryvoha.core.model import AlertType
from tryvoha.core.regions import RegionRegistry


def test_region_types(registry: RegionRegistry) -> None:
    assert ua.region_type(registry.get("5")) == "State"
    assert ua.region_type(registry.get("31")) == "State"
    assert ua.region_type(registry.get("110")) == "District"
    assert ua.region_type(registry.get("1102")) == "Community"


def test_all_alerts_are_grouped_by_their_own_region(registry: RegionRegistry) -> None:
    alerts = [
        make_alert(1, "16"),
        make_alert(2, "47", minutes=1),
        make_alert(3, "47", AlertType.ARTILLERY_SHELLING, minutes=2),
    ]
    models = ua.regions_with_alerts(alerts, registry)
    assert [m["regionId"] for m in models] == ["16", "47"]
    assert [a["type"] for a in models[1]["activeAlerts"]] == ["AIR", "ARTILLERY"]
    assert models[1]["regionType"] == "District"
    assert models[1]["lastUpdate"] == "2025-07-03T21:24:00.123Z"
    assert models[0]["regionEngName"] == "Luhansk Oblast"


def test_covering_alerts_are_reported_under_the_asked_region(registry: RegionRegistry) -> None:
    hromada = registry.get("351")
    covering = [
        make_alert(1, "9"),
        make_alert(2, "47", minutes=5),
        make_alert(3, "351", AlertType.CHEMICAL),
    ]
    model = ua.covering_model(hromada, covering, T0 + timedelta(minutes=5))
    assert model["regionId"] == "351"
    assert model["regionType"] == "Community"
    assert [(a["regionId"], a["type"]) for a in model["activeAlerts"]] == [
        ("351", "AIR"),
        ("351", "CHEMICAL"),
    ]
    assert model["activeAlerts"][0]["lastUpdate"] == "2025-07-03T21:27:00.123Z"


def test_a_clear_region_has_an_empty_alert_list(registry: RegionRegistry) -> None:
    model = ua.covering_model(registry.get("5"), [], T0)
    assert model["activeAlerts"] == []
    assert model["lastUpdate"] == "2025-07-03T21:22:00.123Z"


def test_the_tree_reaches_every_region_once(registry: RegionRegistry) -> None:
    tree = ua.regions_tree(registry)
    seen: list[str] = []

    def walk(node: dict[str, object], depth: int) -> None:
        assert set(node) == {"regionId", "regionName", "regionType", "regionChildIds"}
        assert node["regionType"] == ["State", "District", "Community"][min(depth, 2)]
        seen.append(str(node["regionId"]))
        children = node["regionChildIds"]
        assert isinstance(children, list)
        for child in children:
            walk(child, depth + 1)

    for state in tree["states"]:
        walk(state, 0)
    assert len(tree["states"]) == 27
    assert sorted(seen) == sorted(r.id for r in registry)


def test_history_entries_end_now_while_running(registry: RegionRegistry) -> None:
    finished = ua.alarm(make_alert(1, "16", finished_after=31), registry, T0 + timedelta(days=1))
    assert finished["endDate"] == "2025-07-03T21:53:00.123Z"
    assert finished["duration"] == "00:31:00"
    assert finished["isContinue"] is False
    assert finished["alertType"] == "AIR"
    running = ua.alarm(make_alert(2, "16"), registry, T0 + timedelta(days=1, hours=2))
    assert running["isContinue"] is True
    assert running["duration"] == "1.02:00:00"
    assert running["regionName"] == "Луганська область"
