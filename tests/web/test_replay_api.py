"""
`GET /api/replay`: the alert intervals of a window, from the log and imported history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.conftest import auth, make_token
from tests.web.clock import SettableClock
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.schema import history_alerts, history_imports
from tryvoha.storage.factory import open_store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore

NIGHT = {"since": "2025-07-03T15:00:00Z", "until": "2025-07-04T06:00:00Z"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(at("2025-07-03T19:00:00Z"))


@pytest.fixture
def night(registry: RegionRegistry, clock: SettableClock) -> Iterator[TestClient]:
    """
    Kyiv Oblast under alert 19:00–21:00 UTC, Poltava Oblast warned from 20:00 and still on.
    """
    store = MemoryStore()
    token = make_token(store, "duty", Role.OPERATOR)
    app = create_app(Settings(), store=store, bus=MemoryBus(), registry=registry, clock=clock)
    with TestClient(app) as client:
        steps: list[tuple[str, str, dict[str, object]]] = [
            ("2025-07-03T19:00:00Z", "/api/alerts", {"regions": ["14"]}),
            ("2025-07-03T20:00:00Z", "/api/alerts", {"regions": ["19"], "level": "warning"}),
            ("2025-07-03T21:00:00Z", "/api/alerts/lift", {"regions": ["14"]}),
        ]
        for when, path, body in steps:
            clock.set(at(when))
            response = client.post(path, json={"type": "air_raid", **body}, headers=auth(token))
            assert response.status_code < 300, response.text
        yield client


def intervals(data: dict[str, object]) -> dict[str, tuple[str, str | None, str]]:
    found = data["intervals"]
    assert isinstance(found, list)
    return {i["region_id"]: (i["started_at"], i["finished_at"], i["level"]) for i in found}


def test_the_night_window_has_both_alerts(night: TestClient) -> None:
    data = night.get("/api/replay", params=NIGHT).json()
    assert data["since"] == "2025-07-03T15:00:00.000Z"
    assert data["until"] == "2025-07-04T06:00:00.000Z"
    assert data["truncated"] is False
    assert intervals(data) == {
        "14": ("2025-07-03T19:00:00.000Z", "2025-07-03T21:00:00.000Z", "alert"),
        "19": ("2025-07-03T20:00:00.000Z", None, "warning"),
    }
    assert {i["source"] for i in data["intervals"]} == {"live"}
    assert data["log"]["first_at"] == "2025-07-03T19:00:00.000Z"
    assert data["log"]["last_at"] == "2025-07-03T21:00:00.000Z"
    assert data["log"]["last_seq"] == 3


def test_only_intervals_overlapping_the_window(night: TestClient) -> None:
    late = night.get(
        "/api/replay", params={"since": "2025-07-03T21:30:00Z", "until": "2025-07-03T22:00:00Z"}
    ).json()
    assert set(intervals(late)) == {"19"}
    before = night.get(
        "/api/replay", params={"since": "2025-07-03T10:00:00Z", "until": "2025-07-03T18:59:00Z"}
    ).json()
    assert before["intervals"] == []


def test_without_a_window_the_log_span_is_replayed(night: TestClient) -> None:
    data = night.get("/api/replay").json()
    assert data["since"] == "2025-07-03T18:59:00.000Z"
    assert data["until"] == "2025-07-03T21:01:00.000Z"
    assert set(intervals(data)) == {"14", "19"}


def test_a_long_log_gives_its_last_day(night: TestClient, clock: SettableClock) -> None:
    token = make_token(night.app.state.service.store, "later", Role.OPERATOR)  # type: ignore[attr-defined]
    clock.set(at("2025-07-06T12:00:00Z"))
    night.post("/api/alerts", json={"regions": ["22"]}, headers=auth(token))
    data = night.get("/api/replay").json()
    assert data["until"] == "2025-07-06T12:01:00.000Z"
    assert data["since"] == "2025-07-05T11:59:00.000Z"
    assert set(intervals(data)) == {"19", "22"}


def test_one_end_given_makes_a_day(night: TestClient) -> None:
    data = night.get("/api/replay", params={"since": "2025-07-03T18:00:00Z"}).json()
    assert data["until"] == "2025-07-04T18:00:00.000Z"
    data = night.get("/api/replay", params={"until": "2025-07-04T18:00:00Z"}).json()
    assert data["since"] == "2025-07-03T18:00:00.000Z"


def test_the_type_filter(night: TestClient) -> None:
    data = night.get("/api/replay", params={**NIGHT, "type": "artillery_shelling"}).json()
    assert data["intervals"] == []
    assert data["type"] == "artillery_shelling"


def test_an_empty_log(client: TestClient) -> None:
    data = client.get("/api/replay").json()
    assert data["log"] is None
    assert data["intervals"] == []
    span = at(data["until"]) - at(data["since"])
    assert span == timedelta(hours=24)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        pytest.param({"since": "yesterday"}, "since", id="bad-since"),
        pytest.param({"until": "2025-07-04T06:00:00"}, "until", id="no-offset"),
        pytest.param(
            {"since": "2025-07-04T06:00:00Z", "until": "2025-07-04T05:00:00Z"},
            "later",
            id="backwards",
        ),
        pytest.param(
            {"since": "2025-01-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"},
            "31 days",
            id="too-long",
        ),
        pytest.param({"type": "meteor"}, "type", id="bad-type"),
    ],
)
def test_bad_windows_are_422(client: TestClient, params: dict[str, str], words: str) -> None:
    response = client.get("/api/replay", params=params)
    assert response.status_code == 422
    assert words in response.json()["message"]


def test_imported_history_is_replayed_too(registry: RegionRegistry, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'history.db'}")
    assert isinstance(store, SQLiteStore)

    def ms(text: str) -> int:
        return int(at(text).timestamp() * 1000)

    with store.engine.begin() as connection:
        connection.execute(
            insert(history_imports).values(
                id=1,
                kind="alerts",
                source="official",
                file_name="official.csv",
                imported_ms=0,
                rows_read=2,
                imported=2,
                duplicates=0,
                revised=0,
                rejected=0,
            )
        )
        connection.execute(
            insert(history_alerts),
            [
                {
                    "source": "official",
                    "region_id": "14",
                    "type": "air_raid",
                    "import_id": 1,
                    "started_ms": ms("2025-07-03T22:05:00Z"),
                    "finished_ms": ms("2025-07-04T01:10:00Z"),
                },
                {
                    "source": "official",
                    "region_id": "31",
                    "type": "air_raid",
                    "import_id": 1,
                    "started_ms": ms("2025-07-02T22:05:00Z"),
                    "finished_ms": ms("2025-07-03T01:10:00Z"),
                },
            ],
        )
    app = create_app(Settings(), store=store, bus=MemoryBus(), registry=registry)
    with TestClient(app) as client:
        data = client.get("/api/replay", params=NIGHT).json()
    store.close()
    assert data["intervals"] == [
        {
            "region_id": "14",
            "type": "air_raid",
            "level": "alert",
            "started_at": "2025-07-03T22:05:00.000Z",
            "finished_at": "2025-07-04T01:10:00.000Z",
            "source": "official",
        }
    ]
    assert data["log"] is None
