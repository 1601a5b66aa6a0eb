"""
CAP messages built from events: schema-valid, and the docs/cap.md §8 checklist, item by item.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta
from importlib import resources

import pytest
from lxml import etree
from shapely.geometry import Point, Polygon

from tests.cap.chains import full_chain, raised
from tryvoha.cap_signing import GOOGLE_SCHEMA, OASIS_SCHEMA, schema_problems
from tryvoha.cli_cap import check_message
from tryvoha.core.cap import (
    LIFETIME,
    NS,
    Category,
    Certainty,
    Issue,
    MsgType,
    Publisher,
    ResponseType,
    Severity,
    Urgency,
    build_message,
    parse,
    place_of,
    render,
)
from tryvoha.core.model import AlertLevel, AlertType
from tryvoha.core.regions import RegionRegistry

PUBLISHER = Publisher("alerts.example.org", "https://alerts.example.org")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CASES = [
    pytest.param(alert_type, level, id=f"{alert_type.value}-{level.value}")
    for alert_type in AlertType
    for level in AlertLevel
]


def chain_messages(
    registry: RegionRegistry,
    alert_type: AlertType = AlertType.AIR_RAID,
    level: AlertLevel = AlertLevel.ALERT,
    region_id: str = "14",
) -> list[tuple[Issue, bytes]]:
    """Alert, its renewal, Update, two renewals, Cancel: as issued, oldest first."""
    chain = full_chain(alert_type, level, region_id)
    place = place_of(registry, region_id)
    issues = [
        Issue(chain[0]),
        Issue(chain[0], 1),
        Issue(chain[1]),
        Issue(chain[1], 1),
        Issue(chain[1], 2),
        Issue(chain[2]),
    ]
    return [(i, render(build_message(chain, i, place, PUBLISHER))) for i in issues]


def cap(element: etree._Element, path: str) -> list[etree._Element]:
    found: list[etree._Element] = element.findall(path, namespaces={"c": NS})
    return found


def text(element: etree._Element, path: str) -> str:
    found = element.find(path, namespaces={"c": NS})
    assert found is not None, path
    return found.text or ""


@pytest.fixture(scope="module")
def kyiv_oblast(registry: RegionRegistry) -> list[tuple[Issue, bytes]]:
    return chain_messages(registry)


def test_the_bundled_schemas_are_the_published_ones() -> None:
    """The package ships OASIS's and Google's schemas unmodified (their licences demand it)."""
    folder = resources.files("tryvoha").joinpath("data", "cap")
    digests = {
        name: hashlib.sha256(folder.joinpath(name).read_bytes()).hexdigest()
        for name in (OASIS_SCHEMA, GOOGLE_SCHEMA)
    }
    assert digests == {
        OASIS_SCHEMA: "f6c6ed7537a463968b7b36110f7e8bba1f86ad2257a8b84619d7dce530e57401",
        GOOGLE_SCHEMA: "c02583e2b619657120d31a76abcfba9b97d4535d0444ba326fa70edf2afb5f48",
    }


@pytest.mark.parametrize(("alert_type", "level"), CASES)
def test_every_message_of_every_type_and_level_is_valid(
    registry: RegionRegistry, alert_type: AlertType, level: AlertLevel
) -> None:
    """§8 items 1-14 as `cap verify` judges them: no error and no warning, for the chain."""
    messages = chain_messages(registry, alert_type, level)
    assert [i.msg_type for i, _ in messages] == [
        MsgType.ALERT,
        MsgType.UPDATE,
        MsgType.UPDATE,
        MsgType.UPDATE,
        MsgType.UPDATE,
        MsgType.CANCEL,
    ]
    for _issue, body in messages:
        root = etree.fromstring(body)
        assert schema_problems(root, OASIS_SCHEMA) == []
        assert schema_problems(root, GOOGLE_SCHEMA) == []
        assert check_message(body) == []


def test_item_1_root_namespace_and_encoding(kyiv_oblast: list[tuple[Issue, bytes]]) -> None:
    for _issue, body in kyiv_oblast:
        assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        body.decode("utf-8")
        assert etree.fromstring(body).tag == f"{{{NS}}}alert"


def test_item_2_identifiers_are_clean_and_unique(kyiv_oblast: list[tuple[Issue, bytes]]) -> None:
    identifiers = []
    for _issue, body in kyiv_oblast:
        root = etree.fromstring(body)
        identifier, sender = text(root, "c:identifier"), text(root, "c:sender")
        assert identifier and sender
        assert not re.search(r"[\s,<&]", identifier + sender)
        assert identifier.startswith(sender + ":")
        identifiers.append(identifier)
    assert len(set(identifiers)) == len(identifiers)


def test_item_3_times_are_utc_with_offset_and_whole_seconds(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    for _issue, body in kyiv_oblast:
        root = etree.fromstring(body)
        times = [
            e.text or "" for e in root.iter(*(f"{{{NS}}}{n}" for n in ("sent", "onset", "expires")))
        ]
        assert len(times) == 5  # sent, and onset + expires in both languages
        for value in times:
            assert TIME.match(value), value
            assert value.endswith("-00:00")


def test_items_4_and_9_enums_follow_the_air_raid_profile(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    """Alert level: Immediate, Extreme, Observed, Shelter; the end: Past, AllClear."""
    for issue, body in kyiv_oblast:
        message = parse(body)
        assert (message.status.value, message.scope.value) == ("Actual", "Public")
        for info in message.infos:
            assert info.categories == (Category.SECURITY,)
            if issue.msg_type is MsgType.CANCEL:
                assert info.response_types == (ResponseType.ALL_CLEAR,)
                assert info.urgency is Urgency.PAST
                continue
            assert info.urgency is Urgency.IMMEDIATE
            if issue.event.alert.level is AlertLevel.ALERT:
                expected = (Severity.EXTREME, Certainty.OBSERVED, (ResponseType.SHELTER,))
            else:
                expected = (Severity.SEVERE, Certainty.LIKELY, (ResponseType.PREPARE,))
            assert (info.severity, info.certainty, info.response_types) == expected


def test_chemical_and_nuclear_threats_are_cbrne(registry: RegionRegistry) -> None:
    for alert_type in (AlertType.CHEMICAL, AlertType.NUCLEAR):
        _issue, body = chain_messages(registry, alert_type)[0]
        assert {info.categories for info in parse(body).infos} == {(Category.CBRNE,)}


def test_item_5_public_scope_without_restriction(kyiv_oblast: list[tuple[Issue, bytes]]) -> None:
    for _issue, body in kyiv_oblast:
        root = etree.fromstring(body)
        assert text(root, "c:scope") == "Public"
        assert cap(root, "c:restriction") == [] and cap(root, "c:addresses") == []
        assert cap(root, "c:info/c:resource") == []  # so item 12 has nothing to check


def test_item_6_references_name_the_earlier_messages(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    messages = [parse(body) for _issue, body in kyiv_oblast]
    assert messages[0].references == ()
    for position, message in enumerate(messages[1:], 1):
        earlier = {m.identifier: m for m in messages[:position]}
        assert message.references, message.msg_type
        for reference in message.references:
            assert reference.identifier in earlier
            assert reference == earlier[reference.identifier].reference()
            assert reference.sent <= message.sent
            assert reference.identifier != message.identifier
        still_in_force = {
            m.identifier
            for m in earlier.values()
            if m.infos[0].expires and m.infos[0].expires > message.sent
        }
        assert still_in_force <= {r.identifier for r in message.references}
        # Every message of the chain names the same incident: the first Alert.
        assert message.incidents == (messages[0].identifier,)


def test_items_7_and_8_one_complete_info_per_language(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    for _issue, body in kyiv_oblast:
        message = parse(body)
        assert [i.language for i in message.infos] == ["uk", "en"]
        uk, en = message.infos
        for info in message.infos:
            for field in ("expires", "sender_name", "headline", "description", "instruction"):
                assert getattr(info, field), field
            assert info.web and info.contact and info.areas
            assert info.headline is not None and len(info.headline) <= 140
            assert len({info.headline, info.description, info.instruction}) == 3
        assert (uk.categories, uk.event_codes) == (en.categories, en.event_codes)
        for field in ("event", "headline", "description", "instruction", "sender_name"):
            assert getattr(uk, field) != getattr(en, field), field
        assert re.search("[а-яіїєґ]", uk.description or "")
        assert not re.search("[а-яіїєґ]", en.headline or "")


def test_item_9_expires_after_sent(kyiv_oblast: list[tuple[Issue, bytes]]) -> None:
    for issue, body in kyiv_oblast:
        message = parse(body)
        for info in message.infos:
            assert info.expires is not None and message.sent < info.expires
            assert info.onset is not None and info.onset <= message.sent
            if issue.msg_type is not MsgType.CANCEL:
                assert info.expires - message.sent == LIFETIME


def test_items_10_and_11_area_polygons_and_geocodes(
    kyiv_oblast: list[tuple[Issue, bytes]], registry: RegionRegistry
) -> None:
    region = registry.get("14")
    for _issue, body in kyiv_oblast:
        for info in parse(body).infos:
            (area,) = info.areas
            assert area.desc.startswith(region.name_uk if info.language == "uk" else region.name_en)
            assert dict(area.geocodes) == {"KATOTTG": region.katottg, "alerts.in.ua-UID": "14"}
            assert len(area.polygons) >= 2  # an exclave and the oblast cut around Kyiv
            for polygon in area.polygons:
                assert len(polygon) >= 4 and polygon[0] == polygon[-1]
                assert Polygon([(lon, lat) for lat, lon in polygon]).is_valid
            for value_name, value in (*info.parameters, *info.event_codes):
                assert value_name and value
            parameters = dict(info.parameters)
            assert parameters["tryvoha-level"] in ("alert", "warning")
            assert parameters["tryvoha-seq"].isdigit()


def test_item_13_web_is_absolute_and_text_has_no_markup(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    for _issue, body in kyiv_oblast:
        for info in parse(body).infos:
            assert info.web == "https://alerts.example.org/?region=14"
            for value in (info.headline, info.description, info.instruction):
                assert value is not None and not re.search(r"<[a-z/]|&\w+;", value)


def test_an_update_says_what_changed_and_carries_the_threat(
    kyiv_oblast: list[tuple[Issue, bytes]],
) -> None:
    update = parse(kyiv_oblast[2][1])
    uk, en = update.infos
    assert "Група БпЛА з півночі" in (uk.description or "")
    assert "Shahed-type attack drones" in (en.description or "")
    assert "changed: level, note, threat details" in (en.description or "")
    assert dict(en.parameters)["tryvoha-threat"] == "shahed"
    renewal = parse(kyiv_oblast[3][1])
    assert (renewal.infos[1].headline or "").startswith("Still in force:")
    assert dict(renewal.infos[1].parameters)["tryvoha-renewal"] == "1"


def test_a_region_without_a_polygon_is_described_by_geocodes(registry: RegionRegistry) -> None:
    bare = next(r for r in registry if registry.geometry(r.id) is None)
    _issue, body = chain_messages(registry, region_id=bare.id)[0]
    (area,) = parse(body).infos[0].areas
    assert area.polygons == ()
    assert ("alerts.in.ua-UID", bare.id) in area.geocodes
    assert check_message(body) == []


def test_a_long_name_keeps_the_headline_short(registry: RegionRegistry) -> None:
    longest = max(registry, key=lambda r: len(r.name_uk))
    for _issue, body in chain_messages(registry, region_id=longest.id)[:1]:
        assert all(len(info.headline or "") <= 140 for info in parse(body).infos)


def test_an_operator_note_is_text_not_markup(registry: RegionRegistry) -> None:
    first = raised(1, "31")
    event = replace(first, alert=replace(first.alert, note="<b>Увага</b> & \x07"))
    body = render(build_message([event], Issue(event), place_of(registry, "31"), PUBLISHER))
    assert b"&lt;b&gt;" in body and b"\x07" not in body
    assert [p.item for p in check_message(body)] == [13, 13]  # a warning per language


def test_kyiv_city_is_not_inside_the_kyiv_oblast_polygons(registry: RegionRegistry) -> None:
    """CAP polygons have no holes: the oblast is cut around the city instead of covering it."""
    _issue, body = chain_messages(registry)[0]
    polygons = [
        Polygon([(lon, lat) for lat, lon in p]) for p in parse(body).infos[0].areas[0].polygons
    ]
    maidan = Point(30.5234, 50.4501)
    assert not any(p.contains(maidan) for p in polygons)
    bila_tserkva = Point(30.1100, 49.7990)
    assert any(p.contains(bila_tserkva) for p in polygons)


def test_a_message_is_a_pure_function_of_its_events(registry: RegionRegistry) -> None:
    first = chain_messages(registry)
    again = chain_messages(registry)
    assert [b for _i, b in first] == [b for _i, b in again]
    # Later events do not change an earlier message.
    chain = full_chain()
    place = place_of(registry, "14")
    short = build_message(chain[:1], Issue(chain[0]), place, PUBLISHER)
    assert render(short) == first[0][1]


def test_message_size_stays_small(kyiv_oblast: list[tuple[Issue, bytes]]) -> None:
    assert max(len(body) for _issue, body in kyiv_oblast) < 20_000


def test_parse_reads_back_what_was_built(registry: RegionRegistry) -> None:
    chain = full_chain()
    message = build_message(chain, Issue(chain[1], 2), place_of(registry, "14"), PUBLISHER)
    assert parse(render(message)) == message
    assert message.sent == Issue(chain[1], 2).sent
    assert Issue(chain[1], 2).at - chain[1].at == timedelta(hours=6)
