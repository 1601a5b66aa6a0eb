"""
`POST /api/tracks` and the engine runner, in process: intake, per-report answers, alerts
through the real service, operators' alerts, restarts, and NATS intake.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.backends import require_service
from tests.conftest import auth, make_token
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.codec import format_time
from tryvoha.core.regions import RegionRegistry
from tryvoha.sim.engine_setup import shipped_config
from tryvoha.storage.memory import MemoryStore

KYIV = (50.45, 30.52)
CONFIG = shipped_config()


class Clock:
    """A clock the test moves by hand; the service and the engine both read it."""

    def __init__(self) -> None:
        self.now = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def start_app(
    registry: RegionRegistry, store: MemoryStore, clock: Clock, **settings: Any
) -> TestClient:
    app = create_app(
        Settings(**settings), store=store, bus=MemoryBus(), registry=registry, clock=clock
    )
    return TestClient(app)


@pytest.fixture
def client(registry: RegionRegistry, store: MemoryStore, clock: Clock) -> Iterator[TestClient]:
    with start_app(registry, store, clock) as test_client:
        yield test_client


def shahed(
    track_id: str, at: datetime, lat: float = KYIV[0], lon: float = KYIV[1], **extra: Any
) -> dict[str, Any]:
    return {
        "track_id": track_id,
        "class": "shahed",
        "lat": lat,
        "lon": lon,
        "time": format_time(at),
        "precision_m": 1000,
        "status": "active",
        "course_deg": 270.0,
        "speed_mps": 45.0,
        **extra,
    }


def post(client: TestClient, token: str, *reports: object) -> dict[str, Any]:
    response = client.post("/api/tracks", json={"reports": list(reports)}, headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/api/events", params={"limit": 1000}).json()["events"]
    return found


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.02)


def active(client: TestClient) -> dict[str, dict[str, Any]]:
    return {a["region_id"]: a for a in client.get("/api/alerts/active").json()["alerts"]}


def test_only_engine_tokens_may_post_tracks(
    client: TestClient, store: MemoryStore, clock: Clock
) -> None:
    body = {"reports": [shahed("T1", clock.now)]}
    assert client.post("/api/tracks", json=body).status_code == 401
    operator = make_token(store, "duty", Role.OPERATOR)
    forbidden = client.post("/api/tracks", json=body, headers=auth(operator))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden"
    engine = make_token(store, "radar", Role.ENGINE)
    assert client.post("/api/tracks", json=body, headers=auth(engine)).status_code == 200


def test_bad_reports_are_rejected_one_by_one_and_good_ones_applied(
    client: TestClient, store: MemoryStore, clock: Clock
) -> None:
    token = make_token(store, "radar", Role.ENGINE)
    alien: dict[str, Any] = {"class": "ufo"}  # "class" cannot be written as a keyword argument
    body = post(
        client,
        token,
        shahed("good", clock.now),
        shahed("north", clock.now, lat=95.0),
        shahed("alien", clock.now, **alien),
        shahed("early", clock.now + timedelta(minutes=5)),
        {"track_id": "bare"},
        "not an object",
    )
    assert body["accepted"] == 1
    assert body["rejected"] == 5
    results = body["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * 5
    assert [r["index"] for r in results] == list(range(6))
    assert results[0]["reasons"] == []
    assert results[1]["reasons"] == ["lat: 95 is outside [-90, 90]"]
    assert results[2]["reasons"][0].startswith("class: unknown threat class 'ufo'")
    assert results[3]["reasons"] == ["time: 300 s in the future (tolerance 10 s)"]
    assert {r.split(":")[0] for r in results[4]["reasons"]} == {
        "class",
        "lat",
        "lon",
        "precision_m",
        "time",
    }
    assert results[5]["track_id"] is None
    assert results[5]["reasons"] == ["a report must be a JSON object"]
    assert client.app.state.engine.engine.track_ids() == ["good"]  # type: ignore[attr-defined]


def test_a_malformed_body_is_a_422(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "radar", Role.ENGINE)
    for body in ({}, {"reports": "T1"}, {"reports": [], "extra": 1}):
        response = client.post("/api/tracks", json=body, headers=auth(token))
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"


def test_a_report_raises_engine_alerts_with_threat_info(
    client: TestClient, store: MemoryStore, clock: Clock
) -> None:
    token = make_token(store, "radar", Role.ENGINE)
    post(client, token, shahed("T1", clock.now))
    wait_for(lambda: "31" in active(client))
    kyiv = active(client)["31"]
    assert kyiv["source"] == "engine"
    assert kyiv["threat"]["class"] == "shahed"
    assert kyiv["threat"]["track_id"] == "T1"
    assert kyiv["threat"]["expected_arrival"] == format_time(clock.now)
    raised = [e for e in events(client) if e["kind"] == "alert.raised"]
    assert {e["actor"] for e in raised} == {"engine"}
    # Hromadas around Kyiv too, but nothing on the far side of the country.
    assert len(raised) > 1
    assert "3" not in {e["alert"]["region_id"] for e in raised}
    metrics = client.get("/metrics").text
    assert 'tryvoha_track_reports_total{result="accepted"} 1.0' in metrics


def test_the_engine_never_lifts_an_operators_alert(
    client: TestClient, store: MemoryStore, clock: Clock
) -> None:
    operator = make_token(store, "duty", Role.OPERATOR)
    engine = make_token(store, "radar", Role.ENGINE)
    assert (
        client.post("/api/alerts", json={"regions": ["31"]}, headers=auth(operator)).status_code
        == 201
    )
    post(client, engine, shahed("T1", clock.now))
    wait_for(lambda: len(active(client)) > 1)
    post(client, engine, shahed("T1", clock.now, status="destroyed"))
    clock.advance(600)
    wait_for(lambda: list(active(client)) == ["31"])
    kyiv = active(client)["31"]
    assert kyiv["source"] == "duty"
    lifted = {e["alert"]["region_id"] for e in events(client) if e["kind"] == "alert.lifted"}
    assert "31" not in lifted
    assert lifted


def test_an_alert_an_operator_lifts_stays_lifted_while_the_threat_is_there(
    client: TestClient, store: MemoryStore, clock: Clock
) -> None:
    operator = make_token(store, "duty", Role.OPERATOR)
    engine = make_token(store, "radar", Role.ENGINE)
    post(client, engine, shahed("T1", clock.now))
    wait_for(lambda: "31" in active(client))
    lift = client.post("/api/alerts/lift", json={"regions": ["31"]}, headers=auth(operator))
    assert lift.json()["results"][0]["outcome"] == "lifted"
    for _ in range(3):
        clock.advance(5)
        post(client, engine, shahed("T1", clock.now))
        time.sleep(0.3)
    assert "31" not in active(client)


def test_after_a_restart_stale_engine_alerts_are_lifted(
    registry: RegionRegistry, store: MemoryStore, clock: Clock
) -> None:
    with start_app(registry, store, clock) as first:
        token = make_token(store, "radar", Role.ENGINE)
        post(first, token, shahed("T1", clock.now))
        wait_for(lambda: "31" in active(first))
        before = set(active(first))
    with start_app(registry, store, clock) as second:
        # Still there: the new engine adopted them and holds them for fresh reports.
        assert set(active(second)) == before
        clock.advance(CONFIG.adopt_hold_s + 1)
        wait_for(lambda: not active(second))
        lifters = {e["actor"] for e in events(second) if e["kind"] == "alert.lifted"}
        assert lifters == {"engine"}


def test_after_a_restart_fresh_reports_keep_the_alerts_needed(
    registry: RegionRegistry, store: MemoryStore, clock: Clock
) -> None:
    with start_app(registry, store, clock) as first:
        token = make_token(store, "radar", Role.ENGINE)
        post(first, token, shahed("T1", clock.now))
        wait_for(lambda: "31" in active(first))
    with start_app(registry, store, clock) as second:
        clock.advance(CONFIG.adopt_hold_s - 10)
        post(second, token, shahed("T1", clock.now))
        clock.advance(20)
        second.app.state.engine._wake.set()  # type: ignore[attr-defined]
        time.sleep(0.5)
        assert "31" in active(second)


@pytest.mark.nats
def test_reports_on_nats_are_applied(
    registry: RegionRegistry, store: MemoryStore, clock: Clock
) -> None:
    require_service("NATS", "127.0.0.1", 4222)
    import nats

    async def publish(report: dict[str, Any]) -> dict[str, Any]:
        connection = await nats.connect("nats://127.0.0.1:4222")
        try:
            reply = await connection.request(
                "tryvoha.tracks", orjson.dumps({"reports": [report]}), timeout=5
            )
        finally:
            await connection.close()
        answer: dict[str, Any] = orjson.loads(reply.data)
        return answer

    with start_app(registry, store, clock, bus_url="nats://127.0.0.1:4222") as client:
        runner = client.app.state.engine  # type: ignore[attr-defined]
        wait_for(lambda: runner._nats is not None)
        answer = asyncio.run(publish(shahed("N1", clock.now)))
        assert answer["results"][0]["status"] == "accepted"
        bad = asyncio.run(publish(shahed("N2", clock.now, lat=-100)))
        assert bad["results"][0]["reasons"] == ["lat: -100 is outside [-90, 90]"]
        wait_for(lambda: "31" in active(client))
