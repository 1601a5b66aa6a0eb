"""
`GET /api/shelters/nearest` and `GET /api/shelters`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import KHRESHCHATYK_POINT, MAIDAN_POINT
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.cli import main
from tryvoha.config import Settings
from tryvoha.core.regions import RegionRegistry
from tryvoha.shelters.model import Shelter
from tryvoha.storage.factory import open_store


@pytest.fixture
def stocked(client: TestClient, kyiv_centre: list[Shelter]) -> TestClient:
    client.app.state.shelters.save(kyiv_centre, "kyiv.geojson")  # type: ignore[attr-defined]
    return client


def nearest(client: TestClient, **params: object) -> dict[str, object]:
    response = client.get("/api/shelters/nearest", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_nearest_to_khreshchatyk_is_khreshchatyk(stocked: TestClient) -> None:
    lat, lon = KHRESHCHATYK_POINT
    data = nearest(stocked, lat=lat, lon=lon, n=3)
    assert data["lat"] == lat
    shelters = data["shelters"]
    assert isinstance(shelters, list)
    first = shelters[0]
    assert first == {
        "id": "node/9151108492",
        "name_uk": "Хрещатик",
        "name_en": "Khreschatyk",
        "lat": pytest.approx(50.4471874),
        "lon": pytest.approx(30.5229459),
        "kind": "subway",
        "distance_m": 51,
        "walking_minutes": 1,
    }
    assert [s["name_uk"] for s in shelters] == ["Хрещатик", "Майдан Незалежності", "Театральна"]


def test_nearest_to_maidan_is_maidan_nezalezhnosti(stocked: TestClient) -> None:
    lat, lon = MAIDAN_POINT
    shelters = nearest(stocked, lat=lat, lon=lon)["shelters"]
    assert isinstance(shelters, list)
    assert len(shelters) == 3
    assert shelters[0]["name_uk"] == "Майдан Незалежності"
    assert shelters[0]["distance_m"] == 76
    assert shelters[1]["name_uk"] == "Хрещатик"
    assert shelters[1]["walking_minutes"] == 4


def test_max_m_leaves_out_far_shelters(stocked: TestClient) -> None:
    lat, lon = MAIDAN_POINT
    near = nearest(stocked, lat=lat, lon=lon, n=50, max_m=500)["shelters"]
    assert isinstance(near, list)
    assert [s["name_en"] for s in near] == ["Independence Square", "Khreschatyk"]
    assert nearest(stocked, lat=49.84, lon=24.03, max_m=20000)["shelters"] == []


def test_no_shelters_is_an_empty_list(client: TestClient) -> None:
    assert nearest(client, lat=50.45, lon=30.52)["shelters"] == []


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"lat": 91, "lon": 30}, id="lat-too-big"),
        pytest.param({"lat": 50, "lon": -181}, id="lon-too-small"),
        pytest.param({"lat": "north", "lon": 30}, id="lat-text"),
        pytest.param({"lat": "nan", "lon": 30}, id="lat-nan"),
        pytest.param({"lat": 50, "lon": "inf"}, id="lon-inf"),
        pytest.param({"lon": 30}, id="lat-missing"),
        pytest.param({"lat": 50, "lon": 30, "n": 0}, id="n-zero"),
        pytest.param({"lat": 50, "lon": 30, "n": 51}, id="n-too-big"),
        pytest.param({"lat": 50, "lon": 30, "max_m": 0}, id="max-m-zero"),
    ],
)
def test_bad_parameters_are_422(stocked: TestClient, params: dict[str, object]) -> None:
    response = stocked.get("/api/shelters/nearest", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["message"]


def test_list_pages_through_every_shelter(stocked: TestClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        data = stocked.get("/api/shelters", params=params).json()
        assert data["total"] == 12
        seen += [s["id"] for s in data["shelters"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 12 == len(set(seen))
    assert seen == sorted(seen)


def test_list_by_bounding_box(stocked: TestClient) -> None:
    data = stocked.get("/api/shelters", params={"bbox": "30.515,50.44,30.53,50.45"}).json()
    assert {s["name_en"] for s in data["shelters"]} == {
        "Independence Square",
        "Khreschatyk",
        "Teatralna",
    }
    assert data["next_cursor"] is None


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "30,50,29,51", "30,nan,31,51"])
def test_a_bad_box_is_422(stocked: TestClient, bbox: str) -> None:
    response = stocked.get("/api/shelters", params={"bbox": bbox})
    assert response.status_code == 422
    assert "bbox" in response.json()["message"]


def test_the_list_has_an_etag(stocked: TestClient) -> None:
    first = stocked.get("/api/shelters")
    assert first.headers["etag"]
    again = stocked.get("/api/shelters", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_the_server_sees_a_command_line_import(
    tmp_path: Path, registry: RegionRegistry, kyiv_metro_file: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    store = open_store(url)
    app = create_app(Settings(database_url=url), store=store, bus=MemoryBus(), registry=registry)
    with TestClient(app) as client:
        lat, lon = MAIDAN_POINT
        assert nearest(client, lat=lat, lon=lon)["shelters"] == []
        assert main(["shelters", "import", str(kyiv_metro_file), "--database-url", url]) == 0
        shelters = nearest(client, lat=lat, lon=lon)["shelters"]
        assert isinstance(shelters, list)
        assert shelters[0]["name_uk"] == "Майдан Незалежності"
        khreshchatyk = nearest(client, lat=KHRESHCHATYK_POINT[0], lon=KHRESHCHATYK_POINT[1])
        first = khreshchatyk["shelters"]
        assert isinstance(first, list)
        assert first[0]["name_uk"] == "Хрещатик"
    store.close()
