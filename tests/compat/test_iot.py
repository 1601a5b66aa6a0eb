"""
The compact IoT strings: fixed oblast order, one character per UID, v1 and v2 codes.
"""

from __future__ import annotations

from alerts_in_ua.air_raid_alert_oblast_statuses import AirRaidAlertOblastStatuses

from tests.compat.alerts import make_alert
from tryvoha.compat import iot
from tryvoha.core.model import AlertLevel, AlertType
from tryvoha.core.regions import RegionRegistry


def test_oblast_order_is_the_clients_order(registry: RegionRegistry) -> None:
    titles = [registry.get(uid).name_uk for uid in iot.OBLAST_ORDER]
    assert titles == AirRaidAlertOblastStatuses.LOCATIONS
    assert len(set(iot.OBLAST_ORDER)) == 27


def test_by_oblast_marks_whole_and_partial_oblasts(registry: RegionRegistry) -> None:
    alerts = [
        make_alert(1, "16"),
        make_alert(2, "47"),
        make_alert(3, "31", level=AlertLevel.WARNING),
        make_alert(4, "22", AlertType.ARTILLERY_SHELLING),
    ]
    statuses = iot.air_raid_statuses(registry, alerts)
    v1 = iot.by_oblast(statuses, with_level=False)
    v2 = iot.by_oblast(statuses, with_level=True)
    assert len(v1) == len(v2) == 27
    position = {uid: n for n, uid in enumerate(iot.OBLAST_ORDER)}
    assert v1[position["16"]] == "A"
    assert v2[position["16"]] == "R"
    assert v1[position["9"]] == v2[position["9"]] == "P"
    assert v1[position["31"]] == "A"
    assert v2[position["31"]] == "Y"
    assert v1[position["22"]] == "N"
    assert v1.count("N") == 24


def test_by_uid_has_a_character_for_every_uid(registry: RegionRegistry) -> None:
    statuses = iot.air_raid_statuses(registry, [make_alert(1, "9"), make_alert(2, "1801")])
    text = iot.by_uid(registry, statuses, with_level=True)
    assert len(text) >= iot.MIN_UID_STRING_LENGTH
    assert text[:3] == "   "
    assert text[9] == "R"
    assert text[47] == "R"
    assert text[351] == "R"
    assert text[16] == "P"
    assert text[1801] == "R"
    assert text[1802] == "N"
    assert text[6] == " "
    numeric = {int(r.id) for r in registry if iot.is_uid(r.id)}
    assert {n for n, char in enumerate(text) if char != " "} == numeric


def test_regions_without_a_uid_are_left_out() -> None:
    assert iot.is_uid("1804")
    assert not iot.is_uid("UA01020000000022387")
    assert not iot.is_uid("016")
    assert not iot.is_uid("")
    assert not iot.is_uid("١٢")
