"""
Reading shelters from GeoJSON: names, ids, and what is rejected and why.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.web.conftest import KYIV_CENTRE
from tryvoha.shelters.geojson import ShelterFileError, read_shelters


def collection(*features: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": list(features)})


def point(lon: Any, lat: Any, fid: str | None = None, **tags: Any) -> dict[str, Any]:
    feature: dict[str, Any] = {
        "type": "Feature",
        "properties": tags,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    if fid is not None:
        feature["id"] = fid
    return feature


def test_reads_the_kyiv_fixture() -> None:
    result = read_shelters(KYIV_CENTRE.read_bytes())
    names = {s.name_uk: s for s in result.shelters}
    assert len(result.shelters) == 12
    khreshchatyk = names["Хрещатик"]
    assert khreshchatyk.name_en == "Khreschatyk"
    assert khreshchatyk.id == "node/9151108492"
    assert khreshchatyk.kind == "subway"
    assert (khreshchatyk.lat, khreshchatyk.lon) == pytest.approx((50.4471874, 30.5229459))
    # Lvivska Brama is still being built: nobody can shelter there yet.
    assert [r.reason for r in result.rejected] == ["not in use (construction=station)"]
    assert "Львівська брама" in result.rejected[0].feature


def test_names_fall_back_from_uk_to_name_and_from_en_to_uk() -> None:
    result = read_shelters(
        collection(
            point(30.5, 50.4, "a", name="Укриття 1"),
            point(30.6, 50.5, "b", **{"name": "x", "name:uk": "Сховище", "name:en": "Bunker"}),
            point(30.7, 50.6, "c", **{"name:en": "Only English"}),
        )
    )
    by_id = {s.id: (s.name_uk, s.name_en) for s in result.shelters}
    assert by_id == {"a": ("Укриття 1", "Укриття 1"), "b": ("Сховище", "Bunker")}
    assert [r.reason for r in result.rejected] == ["no name"]


def test_ids_come_from_the_feature_then_properties_then_name_and_place() -> None:
    result = read_shelters(
        collection(
            point(30.5, 50.4, "node/1", name="A"),
            point(30.5, 50.4, None, name="B", **{"@id": "node/2"}),
            point(30.5, 50.4, None, name="C", id=3),
            point(30.5, 50.4, None, name="D"),
        )
    )
    ids = [s.id for s in result.shelters]
    assert ids[:3] == ["node/1", "node/2", "3"]
    assert ids[3].startswith("point/")
    again = read_shelters(collection(point(30.5, 50.4, None, name="D")))
    assert again.shelters[0].id == ids[3]


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        pytest.param({"type": "Feature"}, "not a Point", id="no-geometry"),
        pytest.param(
            {
                "type": "Feature",
                "properties": {"name": "Area"},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]},
            },
            "not a Point",
            id="polygon",
        ),
        pytest.param(point(200, 50, "x", name="A"), "invalid coordinates", id="lon-out-of-range"),
        pytest.param(point(30, -91, "x", name="A"), "invalid coordinates", id="lat-out-of-range"),
        pytest.param(point("30", 50, "x", name="A"), "invalid coordinates", id="text-coordinates"),
        pytest.param(point(True, 50, "x", name="A"), "invalid coordinates", id="bool-coordinates"),
        pytest.param(point(30, 50, "x"), "no name", id="nameless"),
        pytest.param(
            point(30, 50, "x", name="A", disused="yes"), "not in use (disused=yes)", id="disused"
        ),
        pytest.param(
            point(30, 50, "x", name="A", railway="construction"),
            "not in use (railway=construction)",
            id="railway-construction",
        ),
        pytest.param(
            point(30, 50, "x", name="Зупинка", amenity="shelter", shelter_type="public_transport"),
            "not a protective shelter (shelter_type=public_transport)",
            id="bus-stop",
        ),
        pytest.param(
            point(30, 50, "x", name="Альтанка", shelter_type="gazebo"),
            "not a protective shelter (shelter_type=gazebo)",
            id="gazebo",
        ),
        pytest.param("not a feature", "not a GeoJSON Feature", id="string"),
    ],
)
def test_rejects_with_a_reason(feature: Any, reason: str) -> None:
    result = read_shelters(collection(feature))
    assert result.shelters == []
    assert [r.reason for r in result.rejected] == [reason]


def test_keeps_usable_kinds() -> None:
    result = read_shelters(
        collection(
            point(30, 50, "a", name="Сховище", amenity="shelter", shelter_type="bomb_shelter"),
            point(30, 50, "b", name="ДОТ", military="bunker"),
            point(30, 50, "c", name="Укриття", disused="no"),
        )
    )
    assert [(s.id, s.kind) for s in result.shelters] == [
        ("a", "bomb_shelter"),
        ("b", "bunker"),
        ("c", "shelter"),
    ]


def test_a_repeated_id_is_rejected_after_the_first() -> None:
    result = read_shelters(
        collection(point(30, 50, "a", name="First"), point(31, 51, "a", name="Second"))
    )
    assert [s.name_uk for s in result.shelters] == ["First"]
    assert [r.reason for r in result.rejected] == ["duplicate id"]
    assert result.rejected[0].feature == "a «Second»"


def test_rejections_are_grouped_by_reason_most_frequent_first() -> None:
    result = read_shelters(
        collection(point(30, 50, "a"), point(30, 50, "b"), point(300, 50, "c", name="C"))
    )
    assert result.rejected_by_reason() == {"no name": ["a", "b"], "invalid coordinates": ["c «C»"]}


@pytest.mark.parametrize(
    "data",
    [b"{not json", b"[]", b'{"type": "Feature"}', b'{"type": "FeatureCollection"}'],
)
def test_unreadable_files_raise(data: bytes) -> None:
    with pytest.raises(ShelterFileError):
        read_shelters(data)
