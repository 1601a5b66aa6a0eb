"""
The native HTTP API, in process: commands, reads, auth, errors, caching.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import auth, make_token
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.memory import MemoryStore


def raise_(client: TestClient, token: str, *regions: str, **extra: object) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/alerts",
        json={"regions": list(regions), "type": "air_raid", **extra},
        headers=auth(token),
    )
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def lift(client: TestClient, token: str, *regions: str) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/alerts/lift", json={"regions": list(regions), "type": "air_raid"}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_raise_then_active_then_lift(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    body = raise_(client, token, "14", "31")
    assert [r["outcome"] for r in body["results"]] == ["raised", "raised"]
    assert body["events"] == [1, 2]
    active = client.get("/api/alerts/active").json()
    assert active["last_seq"] == 2
    assert {a["region_id"] for a in active["alerts"]} == {"14", "31"}
    assert active["alerts"][0]["source"] == "duty"
    assert active["alerts"][0]["started_at"].endswith("Z")
    lifted = lift(client, token, "14")
    assert lifted["results"][0]["outcome"] == "lifted"
    assert [a["region_id"] for a in client.get("/api/alerts/active").json()["alerts"]] == ["31"]


def test_raise_answers_201_and_no_op_200(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    first = client.post("/api/alerts", json={"regions": ["14"]}, headers=auth(token))
    again = client.post("/api/alerts", json={"regions": ["14"]}, headers=auth(token))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["results"][0]["outcome"] == "already_raised"
    assert again.json()["events"] == []
    nothing = client.post("/api/alerts/lift", json={"regions": ["31"]}, headers=auth(token))
    assert nothing.json()["results"][0]["outcome"] == "not_raised"


def test_unknown_region_changes_nothing(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    response = client.post("/api/alerts", json={"regions": ["14", "99999"]}, headers=auth(token))
    assert response.status_code == 422
    assert response.json() == {"error": "unknown_region", "message": "unknown region: '99999'"}
    assert client.get("/api/alerts/active").json()["alerts"] == []
    assert store.last_seq() == 0


def test_event_log_records_actor(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "kyiv-duty", Role.OPERATOR)
    raise_(client, token, "31")
    lift(client, token, "31")
    events = client.get("/api/events", params={"after": 0}).json()
    assert [e["kind"] for e in events["events"]] == ["alert.raised", "alert.lifted"]
    assert {e["actor"] for e in events["events"]} == {"kyiv-duty"}
    assert [e["seq"] for e in client.get("/api/events", params={"after": 1}).json()["events"]] == [
        2
    ]


def test_status_hierarchy(client: TestClient, store: MemoryStore, registry: RegionRegistry) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    raion = registry.children("14")[0]
    raise_(client, token, raion.id)
    oblast = client.get("/api/regions/14/status", params={"type": "air_raid"}).json()
    assert oblast["statuses"][0]["status"] == "partial"
    raise_(client, token, "14", level="warning")
    child = client.get(f"/api/regions/{raion.id}/status", params={"type": "air_raid"}).json()
    assert child["statuses"][0]["status"] == "active"
    assert child["statuses"][0]["level"] == "alert"
    assert len(child["statuses"][0]["alerts"]) == 2
    lift(client, token, "14")
    child = client.get(f"/api/regions/{raion.id}/status", params={"type": "air_raid"}).json()
    assert child["statuses"][0]["status"] == "active"


def test_history_pages_cover_everything_once(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    for _ in range(7):
        raise_(client, token, "14")
        lift(client, token, "14")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"region": "14", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/alerts", params=params).json()
        seen.extend(a["id"] for a in page["alerts"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 7
    assert all(a["finished_at"] for a in client.get("/api/alerts").json()["alerts"])


def test_history_rejects_bad_times(client: TestClient) -> None:
    response = client.get("/api/alerts", params={"since": "yesterday"})
    assert response.status_code == 422
    assert "since" in response.json()["message"]
    naive = client.get("/api/alerts", params={"since": "2025-07-03T21:00:00"})
    assert naive.status_code == 422


def test_idempotency_key_replays(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    headers = {**auth(token), "Idempotency-Key": "raise-14-001"}
    first = client.post("/api/alerts", json={"regions": ["14"]}, headers=headers)
    lift(client, token, "14")
    second = client.post("/api/alerts", json={"regions": ["14"]}, headers=headers)
    assert second.status_code == first.status_code == 201
    assert second.content == first.content
    assert second.headers["Idempotency-Replayed"] == "true"
    assert store.last_seq() == 2
    other = client.post("/api/alerts", json={"regions": ["31"]}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"


def test_auth_errors(client: TestClient, store: MemoryStore) -> None:
    body = {"regions": ["14"]}
    missing = client.post("/api/alerts", json=body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"] == "unauthorized"
    wrong = client.post("/api/alerts", json=body, headers=auth("tv_not-a-token"))
    assert wrong.status_code == 401
    reader = make_token(store, "reader", Role.READER)
    forbidden = client.post("/api/alerts", json=body, headers=auth(reader))
    assert forbidden.status_code == 403
    assert "reader" in forbidden.json()["message"]


def test_operator_scope(client: TestClient, store: MemoryStore, registry: RegionRegistry) -> None:
    token = make_token(store, "kyiv-oblast", Role.OPERATOR, ("14",))
    raion = registry.children("14")[0]
    raise_(client, token, "14", raion.id)
    outside = client.post("/api/alerts", json={"regions": ["14", "31"]}, headers=auth(token))
    assert outside.status_code == 403
    assert "'31'" in outside.json()["message"]
    assert {a["region_id"] for a in client.get("/api/alerts/active").json()["alerts"]} == {
        "14",
        raion.id,
    }


def test_a_token_in_the_query_reads_but_never_writes(
    registry: RegionRegistry, store: MemoryStore
) -> None:
    app = create_app(Settings(public_read=False), store=store, bus=MemoryBus(), registry=registry)
    reader = make_token(store, "map", Role.READER)
    operator = make_token(store, "duty", Role.OPERATOR)
    with TestClient(app) as private:
        assert private.get("/api/alerts/active").status_code == 401
        assert private.get(f"/api/alerts/active?access_token={reader}").status_code == 200
        assert private.get("/api/alerts/active?access_token=tv_nope").status_code == 401
        write = private.post(f"/api/alerts?access_token={operator}", json={"regions": ["14"]})
        assert write.status_code == 401
        assert store.last_seq() == 0


def test_revocation_is_immediate(client: TestClient, store: MemoryStore) -> None:
    from datetime import UTC, datetime

    token = make_token(store, "duty", Role.OPERATOR)
    raise_(client, token, "14")
    store.revoke_token("duty", datetime.now(UTC))
    response = client.post("/api/alerts/lift", json={"regions": ["14"]}, headers=auth(token))
    assert response.status_code == 401


def test_engine_source_and_no_lift_of_operator(client: TestClient, store: MemoryStore) -> None:
    operator = make_token(store, "duty", Role.OPERATOR)
    engine = make_token(store, "warning-engine", Role.ENGINE)
    raise_(client, operator, "31")
    threat = {"class": "shahed", "expected_arrival": "2030-01-01T00:00:00Z"}
    body = raise_(client, engine, "14", threat=threat)
    assert body["results"][0]["alert"]["source"] == "engine"
    assert body["results"][0]["alert"]["threat"]["class"] == "shahed"
    kept = lift(client, engine, "31", "14")
    assert [r["outcome"] for r in kept["results"]] == ["kept_operator_alert", "lifted"]


def test_malformed_bodies(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    cases = [
        ({"regions": []}, "regions"),
        ({"regions": ["14"], "type": "meteor"}, "type"),
        ({"regions": ["14"], "level": "orange"}, "level"),
        ({"regions": "14"}, "regions"),
        ({"regions": ["14"], "extra": 1}, "extra"),
        ({}, "regions"),
    ]
    for body, field in cases:
        response = client.post("/api/alerts", json=body, headers=auth(token))
        assert response.status_code == 422, body
        assert field in response.json()["message"], response.json()
    garbage = client.post(
        "/api/alerts",
        content=b"{not json",
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert garbage.status_code == 422
    assert store.last_seq() == 0


def test_oversized_body_is_refused(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    big = b'{"regions": ["14"], "note": "' + b"x" * 300_000 + b'"}'
    response = client.post(
        "/api/alerts", content=big, headers={**auth(token), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    wrong = client.delete("/api/alerts/active")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_etags_and_304(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    for path in ("/api/alerts/active", "/api/regions/14", "/api/events", "/api/regions"):
        first = client.get(path)
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
    etag = client.get("/api/alerts/active").headers["ETag"]
    raise_(client, token, "14")
    changed = client.get("/api/alerts/active", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_regions_endpoints(client: TestClient) -> None:
    kyiv = client.get("/api/regions/31").json()
    assert kyiv["name_uk"] == "м. Київ"
    assert kyiv["level"] == "oblast"
    assert client.get("/api/regions/14", params={"geometry": "true"}).json()["geometry"][
        "type"
    ] in (
        "Polygon",
        "MultiPolygon",
    )
    assert client.get("/api/regions/nope").status_code == 404
    at = client.get("/api/regions/at", params={"lat": 49.9935, "lon": 36.2304}).json()
    assert at["oblast"]["id"] == "22"
    assert client.get("/api/regions/at", params={"lat": 95, "lon": 30}).status_code == 422
    oblasts = client.get("/api/regions", params={"level": "oblast"}).json()["regions"]
    assert len(oblasts) == 27
    found = client.get("/api/regions", params={"q": "Київська область"}).json()["regions"]
    assert found[0]["id"] == "14"


def test_health_and_metrics(client: TestClient, store: MemoryStore) -> None:
    token = make_token(store, "duty", Role.OPERATOR)
    raise_(client, token, "14")
    assert client.get("/healthz").json() == {"status": "ok", "last_seq": 1, "active_alerts": 1}
    metrics = client.get("/metrics").text
    assert "tryvoha_last_seq 1.0" in metrics
    assert 'tryvoha_events_total{kind="alert.raised"} 1.0' in metrics


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/alerts" in spec["paths"]
    assert "422" in spec["paths"]["/api/alerts"]["post"]["responses"]
