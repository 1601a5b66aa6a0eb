"""
`/api/webhooks` through the app: auth, validation, delivery end to end, dead letters,
and cursors that survive a restart on the same SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.delivery.delivery_support import T0, Receiver, VirtualClock, small_registry
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.delivery.signing import verify_signature
from tryvoha.storage.base import Store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import create_token


@pytest.fixture(autouse=True)
def _allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYVOHA_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.fixture(name="receiver")
def _receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(name="store")
def _store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(name="tokens")
def _tokens(store: Store) -> dict[str, str]:
    roles = {
        "admin": Role.ADMIN,
        "duty": Role.OPERATOR,
        "reader": Role.READER,
        "neighbour": Role.READER,
    }
    return {name: create_token(store, name=name, role=role) for name, role in roles.items()}


def make_app(
    store: Store | None = None, clock: VirtualClock | None = None, **settings: str
) -> FastAPI:
    kwargs = {"clock": clock} if clock is not None else {}
    app = create_app(
        Settings(**settings),  # type: ignore[arg-type]
        store=store,
        bus=MemoryBus(),
        registry=small_registry(),
        **kwargs,
    )
    if clock is not None:
        app.state.webhook_timing = clock.timing()
    return app


@pytest.fixture(name="client")
def _client(store: MemoryStore) -> Iterator[TestClient]:
    with TestClient(make_app(store)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def subscribe(client: TestClient, token: str, url: str, **extra: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/webhooks", json={"url": url, **extra}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def raise_alert(client: TestClient, token: str, *regions: str) -> list[int]:
    response = client.post("/api/alerts", json={"regions": list(regions)}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()["events"]  # type: ignore[no-any-return]


# -- auth and ownership ----------------------------------------------------------------------


def test_operators_and_anonymous_callers_may_not_manage_webhooks(
    client: TestClient, tokens: dict[str, str], receiver: Receiver
) -> None:
    body = {"url": receiver.url}
    assert client.post("/api/webhooks", json=body).status_code == 401
    assert client.get("/api/webhooks").status_code == 401
    refused = client.post("/api/webhooks", json=body, headers=bearer(tokens["duty"]))
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert client.get("/api/webhooks", headers=bearer(tokens["duty"])).status_code == 403


def test_readers_see_their_own_and_admins_see_all(
    client: TestClient, tokens: dict[str, str], receiver: Receiver
) -> None:
    mine = subscribe(client, tokens["reader"], receiver.url, regions=["3"], types=["air_raid"])
    assert mine["secret"].startswith("whsec_") and len(mine["secret"]) > 30
    assert mine["owner"] == "reader" and mine["regions"] == ["3"] and mine["types"] == ["air_raid"]
    assert mine["delivery"]["cursor"] == 0 and mine["delivery"]["dead_letters"] == 0
    theirs = subscribe(client, tokens["neighbour"], receiver.url, secret="s" * 32)
    assert theirs["secret"] == "s" * 32

    own = client.get("/api/webhooks", headers=bearer(tokens["reader"])).json()["webhooks"]
    assert [w["id"] for w in own] == [mine["id"]]
    assert "secret" not in own[0]
    everyone = client.get("/api/webhooks", headers=bearer(tokens["admin"])).json()["webhooks"]
    assert {w["id"] for w in everyone} == {mine["id"], theirs["id"]}

    one = client.get(f"/api/webhooks/{mine['id']}", headers=bearer(tokens["reader"]))
    assert one.status_code == 200 and "secret" not in one.json()
    foreign = client.get(f"/api/webhooks/{theirs['id']}", headers=bearer(tokens["reader"]))
    assert foreign.status_code == 404 and foreign.json()["error"] == "not_found"
    assert (
        client.get(f"/api/webhooks/{theirs['id']}", headers=bearer(tokens["admin"])).status_code
        == 200
    )

    gone = client.delete(f"/api/webhooks/{theirs['id']}", headers=bearer(tokens["reader"]))
    assert gone.status_code == 404
    assert (
        client.delete(f"/api/webhooks/{mine['id']}", headers=bearer(tokens["reader"])).status_code
        == 204
    )
    assert (
        client.get(f"/api/webhooks/{mine['id']}", headers=bearer(tokens["reader"])).status_code
        == 404
    )
    assert (
        client.delete(f"/api/webhooks/{mine['id']}", headers=bearer(tokens["reader"])).status_code
        == 404
    )
    missing = client.get("/api/webhooks/wh_nope/dead-letters", headers=bearer(tokens["admin"]))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"regions": ["999"]}, 422, "unknown_region", id="unknown-region"),
        pytest.param({"types": ["tornado"]}, 422, "unknown_type", id="unknown-type"),
        pytest.param({"url": "ftp://127.0.0.1/x"}, 422, "refused_url", id="scheme"),
        pytest.param({"url": "http://169.254.169.254/"}, 422, "refused_url", id="metadata"),
        pytest.param({"url": "http://[fe80::1]:8080/"}, 422, "refused_url", id="link-local"),
        pytest.param({"secret": "short"}, 422, "invalid_secret", id="short-secret"),
        pytest.param({"url": None}, 422, "invalid_request", id="no-url"),
    ],
)
def test_bad_subscriptions_are_refused_with_a_reason(
    client: TestClient,
    tokens: dict[str, str],
    receiver: Receiver,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    payload = {"url": receiver.url, **body}
    response = client.post("/api/webhooks", json=payload, headers=bearer(tokens["reader"]))
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]


def test_loopback_is_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, store: MemoryStore, tokens: dict[str, str], receiver: Receiver
) -> None:
    monkeypatch.delenv("TRYVOHA_WEBHOOK_ALLOW_PRIVATE")
    with TestClient(make_app(store)) as client:
        response = client.post(
            "/api/webhooks", json={"url": receiver.url}, headers=bearer(tokens["reader"])
        )
    assert response.status_code == 422
    assert "loopback or private" in response.json()["message"]


# -- delivery through the app ----------------------------------------------------------------


def test_an_operator_alert_reaches_the_webhook_signed(
    client: TestClient, tokens: dict[str, str], receiver: Receiver
) -> None:
    webhook = subscribe(client, tokens["reader"], receiver.url)
    seqs = raise_alert(client, tokens["duty"], "31", "4")
    receiver.wait(lambda: len(receiver.accepted()) == 2)
    assert receiver.accepted_seqs() == seqs
    request = receiver.accepted()[0]
    assert verify_signature(webhook["secret"], request.body, request.headers["x-tryvoha-signature"])
    assert request.headers["x-tryvoha-webhook-id"] == webhook["id"]
    assert orjson.loads(request.body)["alert"]["region_id"] == "31"
    metrics = client.get("/metrics").text
    assert 'tryvoha_webhook_deliveries_total{result="delivered"} 2.0' in metrics
    assert "tryvoha_webhook_subscriptions 1.0" in metrics


def test_dead_letters_are_visible_in_the_api(
    store: MemoryStore, tokens: dict[str, str], receiver: Receiver
) -> None:
    clock = VirtualClock()
    receiver.answer = lambda _request: 500
    with TestClient(make_app(store, clock)) as client:
        webhook = subscribe(client, tokens["reader"], receiver.url)
        [seq] = raise_alert(client, tokens["duty"], "3")
        url = f"/api/webhooks/{webhook['id']}"

        def dead() -> list[dict]:  # type: ignore[type-arg]
            answer = client.get(f"{url}/dead-letters", headers=bearer(tokens["reader"]))
            return answer.json()["dead_letters"]  # type: ignore[no-any-return]

        receiver.wait(lambda: bool(dead()))
        [letter] = dead()
        state = client.get(url, headers=bearer(tokens["reader"])).json()["delivery"]
        metrics = client.get("/metrics").text
    assert clock.now >= T0 + timedelta(hours=24)
    assert letter["seq"] == seq and letter["error"] == "HTTP 500" and letter["attempts"] > 1
    assert letter["event"]["alert"]["region_id"] == "3"
    assert state["cursor"] == seq and state["dead_letters"] == 1
    assert state["last_error"] == "HTTP 500" and state["failing_since"] is not None
    assert state["next_attempt_at"] is not None
    assert "tryvoha_webhook_dead_letters_total 1.0" in metrics
    assert "tryvoha_webhook_retries_total" in metrics


def test_cursors_survive_a_restart_on_the_same_database(tmp_path: Path, receiver: Receiver) -> None:
    database = f"sqlite:///{tmp_path / 'tryvoha.db'}"
    setup = SQLiteStore(database)
    setup.migrate()
    tokens = {
        "reader": create_token(setup, name="reader", role=Role.READER),
        "duty": create_token(setup, name="duty", role=Role.OPERATOR),
    }
    setup.close()

    with TestClient(make_app(database_url=database)) as client:
        webhook = subscribe(client, tokens["reader"], receiver.url)
        delivered = raise_alert(client, tokens["duty"], "3", "4")
        receiver.wait(lambda: receiver.accepted_seqs() == delivered)
        receiver.answer = lambda _request: 503
        missed = raise_alert(client, tokens["duty"], "31")
        receiver.wait(lambda: any(r.status == 503 for r in receiver.requests))

    receiver.answer = lambda _request: 200
    with TestClient(make_app(database_url=database)) as client:
        receiver.wait(lambda: len(receiver.accepted()) == 3)
        state = client.get(
            f"/api/webhooks/{webhook['id']}", headers=bearer(tokens["reader"])
        ).json()["delivery"]
        more = raise_alert(client, tokens["duty"], "300")
        receiver.wait(lambda: len(receiver.accepted()) == 4)
    assert receiver.accepted_seqs() == delivered + missed + more
    assert state["cursor"] == missed[-1]
