"""
alerts.in.ua alert bodies, read back with the official client's own model classes.
"""

from __future__ import annotations

from datetime import UTC

import orjson
from alerts_in_ua.alerts import Alerts

from tests.compat.alerts import T0, make_alert
from tryvoha.compat.alerts_in_ua import alert_to_dict, location_type, render_alerts
from tryvoha.core.model import AlertLevel, AlertType, Threat, ThreatClass
from tryvoha.core.regions import RegionRegistry


def test_the_client_reads_every_field(registry: RegionRegistry) -> None:
    alerts = [
        make_alert(7, "16"),
        make_alert(
            8,
            "351",
            AlertType.ARTILLERY_SHELLING,
            AlertLevel.WARNING,
            threat=Threat(ThreatClass.SHAHED),
            note="east",
        ),
    ]
    body = orjson.loads(render_alerts(alerts, registry, T0))
    parsed = Alerts(body)
    assert [a.id for a in parsed] == [7, 8]
    assert parsed.get_last_updated_at().astimezone(UTC) == T0.replace(microsecond=0)
    luhansk, nikopol = parsed.alerts
    assert luhansk.location_type == "oblast"
    assert luhansk.location_uid == "16"
    assert luhansk.location_oblast_uid == 16
    assert luhansk.is_red()
    assert luhansk.started_at.astimezone(UTC) == T0
    assert luhansk.finished_at is None
    assert nikopol.location_type == "hromada"
    assert nikopol.location_oblast == "Дніпропетровська область"
    assert nikopol.location_raion == "Нікопольський район"
    assert nikopol.location_title_en == "Nikopol city and Nikopolska hromada"
    assert nikopol.is_yellow()
    assert nikopol.notes == "east"
    assert [t.threat_type for t in nikopol.threats] == ["drones"]
    assert nikopol.threats[0].is_yellow()
    assert len(parsed.get_artillery_shelling_alerts()) == 1


def test_history_alerts_have_an_end_and_no_threats(registry: RegionRegistry) -> None:
    alert = make_alert(3, "47", finished_after=31)
    data = alert_to_dict(alert, registry, threats=False)
    assert "threats" not in data
    assert data["finished_at"] == "2025-07-03T21:53:00.123Z"
    assert data["location_type"] == "raion"
    assert "location_raion" not in data


def test_location_types(registry: RegionRegistry) -> None:
    assert location_type(registry.get("14")) == "oblast"
    assert location_type(registry.get("31")) == "city"
    assert location_type(registry.get("30")) == "city"
    assert location_type(registry.get("110")) == "raion"
    assert location_type(registry.get("1102")) == "hromada"


def test_an_alert_on_a_region_no_longer_known_is_still_listed(registry: RegionRegistry) -> None:
    data = alert_to_dict(make_alert(1, "gone"), registry, threats=True)
    assert data["location_uid"] == "gone"
    assert data["location_type"] == "unknown"
    assert data["location_title"] is None
