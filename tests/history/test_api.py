"""
The history API in process: statistics as JSON and CSV, the attacks register, pictures,
errors, and conditional GETs.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from matplotlib.image import imread

from tests.conftest import auth, make_token
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.attacks import import_attacks
from tryvoha.history.importer import import_sirens
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.weapons import WeaponTable
from tryvoha.storage.memory import MemoryStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RAID_START = datetime(2025, 7, 3, 21, 22, tzinfo=UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def repository(
    official_en: Path, attacks_csv: Path, weapons: WeaponTable, registry: RegionRegistry
) -> Iterator[HistoryRepository]:
    repository = HistoryRepository.in_memory()
    import_sirens(repository, official_en, known_regions=set(registry.ids()))
    import_attacks(repository, attacks_csv, weapons=weapons)
    yield repository
    repository.close()


class Clock:
    def __init__(self) -> None:
        self.now = RAID_START

    def __call__(self) -> datetime:
        return self.now


def make_client(
    repository: HistoryRepository, registry: RegionRegistry, store: MemoryStore, clock: Clock
) -> TestClient:
    app = create_app(Settings(), store=store, bus=MemoryBus(), registry=registry, clock=clock)
    app.state.history_repository = repository
    return TestClient(app)


@pytest.fixture(scope="module")
def client(repository: HistoryRepository, registry: RegionRegistry) -> Iterator[TestClient]:
    """One app for the questions that only read: its caches are part of what is tested."""
    with make_client(repository, registry, MemoryStore(), Clock()) as test_client:
        yield test_client


def test_region_stats_as_json(client: TestClient) -> None:
    response = client.get(
        "/api/stats/region/31", params={"since": "2023-01-01", "until": "2023-12-31"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["region"]["id"] == "31"
    assert body["period"]["since_local"] == "2023-01-01 00:00"
    assert body["period"]["until_local"] == "2024-01-01 00:00"
    assert {"count", "total_seconds", "longest_seconds", "median_seconds", "share"} <= body.keys()
    assert body["count"] > 100
    assert body["total_seconds"] > body["longest_seconds"] > 0
    assert [s["source"] for s in body["sources"]] == ["official"]


def test_region_stats_as_csv(client: TestClient) -> None:
    response = client.get("/api/stats/region/279", params={"format": "csv", "since": "2023-01-01"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, row, *rest = response.text.splitlines()
    assert header.split(",")[:4] == ["region_id", "count", "alerts", "total_seconds"]
    assert row.startswith("279,")
    assert rest == []


def test_every_answer_has_an_etag_and_honours_if_none_match(client: TestClient) -> None:
    for url in (
        "/api/stats/rankings?since=2023-01-01&until=2023-01-31",
        "/api/stats/rankings?since=2023-01-01&until=2023-01-31&format=csv",
        "/api/plots/hourly.png?region=31&since=2023-01-01&until=2023-01-31",
    ):
        first = client.get(url)
        assert first.status_code == 200
        etag = first.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url


def test_rankings_overlap_hourly_monthly_nights(client: TestClient) -> None:
    period = {"since": "2023-10-01", "until": "2023-10-31"}
    ranked = client.get("/api/stats/rankings", params={**period, "limit": 3}).json()
    assert len(ranked["rows"]) == 3
    totals = [r["total_seconds"] for r in ranked["rows"]]
    assert totals == sorted(totals, reverse=True)
    by_count = client.get("/api/stats/rankings", params={**period, "by": "count", "level": "raion"})
    assert by_count.json()["level_of_regions"] == "raion"
    overlap = client.get("/api/stats/overlap", params=period).json()
    assert overlap["units"] == 25
    assert len(overlap["rows"]) == 26
    assert sum(r["seconds"] for r in overlap["rows"]) == overlap["period"]["seconds"]
    chosen = client.get("/api/stats/overlap", params={**period, "regions": "31,14"}).json()
    assert chosen["regions"] == ["31", "14"]
    hourly = client.get("/api/stats/hourly", params={**period, "region": "31"}).json()
    assert [r["hour"] for r in hourly["rows"]] == list(range(24))
    monthly = client.get("/api/stats/monthly", params={**period, "region": "31", "bin": "week"})
    assert monthly.json()["rows"][0]["week"] == "2023-09-25"
    nights = client.get(
        "/api/stats/nights", params={**period, "region": "31", "order": "longest", "limit": 2}
    ).json()
    assert len(nights["rows"]) == 2
    assert nights["rows"][0]["seconds"] >= nights["rows"][1]["seconds"]
    assert nights["nights"] == 31


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/stats/region/31?since=yesterday", 422, "invalid_request"),
        ("/api/stats/region/31?since=2024-02-30", 422, "invalid_request"),
        ("/api/stats/region/31?since=2024-01-01T00:00:00", 422, "invalid_request"),
        ("/api/stats/region/31?since=2024-02-01&until=2024-01-01", 422, "invalid_request"),
        ("/api/stats/region/31?source=rumour", 422, "invalid_request"),
        ("/api/stats/region/nowhere", 404, "unknown_region"),
        ("/api/stats/hourly", 422, "invalid_request"),
        ("/api/attacks/nights/2025-13-01", 422, "invalid_request"),
        ("/api/attacks/during/999", 404, "not_found"),
        ("/api/plots/timeline.png", 422, "invalid_request"),
        ("/api/plots/monthly.png", 422, "invalid_request"),
        ("/api/plots/pie.png", 422, "invalid_request"),
    ],
)
def test_bad_questions_get_json_errors(
    client: TestClient, url: str, status: int, code: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == code
    assert response.json()["message"]


def test_attack_night_and_records(client: TestClient) -> None:
    body = client.get("/api/attacks/nights/2025-07-04").json()
    assert body["drones"]["launched"] == 539
    assert body["missiles"]["launched"] == 11
    csv = client.get("/api/attacks/nights/2025-07-04", params={"format": "csv"}).text
    assert "Shahed-136/131" in csv
    top = client.get("/api/attacks/records", params={"by": "drones_launched", "limit": 1}).json()
    assert top["rows"][0]["drones_launched"] >= 539


def test_what_was_launched_during_a_live_alert(
    repository: HistoryRepository, registry: RegionRegistry
) -> None:
    store, clock = MemoryStore(), Clock()
    with make_client(repository, registry, store, clock) as client:
        what_was_launched(client, store, clock)


def what_was_launched(client: TestClient, store: MemoryStore, clock: Clock) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    raised = client.post("/api/alerts", json={"regions": ["31"]}, headers=auth(token)).json()
    alert_id = raised["results"][0]["alert"]["id"]
    clock.now = RAID_START + timedelta(minutes=43)
    client.post("/api/alerts/lift", json={"regions": ["31"]}, headers=auth(token))
    body = client.get(f"/api/attacks/during/{alert_id}").json()
    assert body["alert"]["region_id"] == "31"
    assert sorted(r["model"] for r in body["rows"]) == ["Shahed-136/131", "X-47 Kinzhal"]
    by_interval = client.get(
        "/api/attacks/during",
        params={"since": "2025-07-03T21:22:00Z", "until": "2025-07-03T22:05:00Z"},
    ).json()
    assert by_interval["rows"] == body["rows"]
    # The live alert shows in the statistics too, after the official files end.
    live = client.get("/api/stats/region/31", params={"since": "2025-07-03", "until": "2025-07-04"})
    assert live.json()["total_seconds"] == 43 * 60
    assert "live" in [s["source"] for s in live.json()["sources"]]


@pytest.mark.parametrize(
    "query",
    [
        "timeline.png?date=2023-10-29&lang=en",
        "monthly.png?region=31&since=2022-03-01&until=2024-04-22",
        "hourly.png?region=279&since=2023-01-01&until=2023-12-31&lang=en",
        "choropleth.png?since=2023-01-01&until=2023-12-31",
        "choropleth.png?since=2023-01-01&until=2023-12-31&level=raion&lang=en",
    ],
)
def test_plots_are_png_of_sensible_size(client: TestClient, query: str) -> None:
    response = client.get(f"/api/plots/{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    width, height = png_size(response.content)
    assert 600 <= width <= 2000 and 350 <= height <= 2000
    assert 5_000 < len(response.content) < 400_000
    pixels = imread(io.BytesIO(response.content))
    assert pixels.shape[:2] == (height, width)
    # Not blank: the picture holds more than a few colours.
    assert len({tuple(p) for p in pixels[::7, ::7].reshape(-1, pixels.shape[2]).tolist()}) > 5
