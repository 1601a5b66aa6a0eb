"""
The ukrainealarm-compatible API in process: alerts, status, history, regions, keys,
limits, bad input and webhook registration with real deliveries.
"""

from __future__ import annotations

import pytest

from tests.compat.conftest import Compat, StartCompat
from tests.compat.receiver import receiving
from tryvoha.compat.ratelimit import CompatLimits, Rate
from tryvoha.core.auth import Role
from tryvoha.tokens import create_token


def key(token: str) -> dict[str, str]:
    return {"Authorization": token}


def test_alerts_lists_regions_with_their_own_alerts(compat: Compat) -> None:
    compat.raise_("16")
    compat.raise_("47", type="artillery_shelling")
    body = compat.client.get("/api/v3/alerts", headers=key(compat.reader)).json()
    assert [(m["regionId"], m["regionType"]) for m in body] == [("16", "State"), ("47", "District")]
    assert [a["type"] for a in body[1]["activeAlerts"]] == ["ARTILLERY"]
    assert body[0]["regionName"] == "Луганська область"


def test_one_region_is_always_a_one_element_list(compat: Compat) -> None:
    compat.raise_("9")
    compat.raise_("351", type="chemical")
    client, headers = compat.client, key(compat.reader)
    hromada = client.get("/api/v3/alerts/351", headers=headers).json()
    assert len(hromada) == 1
    assert [a["type"] for a in hromada[0]["activeAlerts"]] == ["AIR", "CHEMICAL"]
    assert {a["regionId"] for a in hromada[0]["activeAlerts"]} == {"351"}
    oblast = client.get("/api/v3/alerts/9", headers=headers).json()
    assert [a["type"] for a in oblast[0]["activeAlerts"]] == ["AIR"]
    clear = client.get("/api/v3/alerts/5", headers=headers).json()
    assert len(clear) == 1
    assert clear[0]["activeAlerts"] == []
    assert clear[0]["regionType"] == "State"


def test_a_child_alert_does_not_mark_its_oblast(compat: Compat) -> None:
    compat.raise_("1102")
    oblast = compat.client.get("/api/v3/alerts/5", headers=key(compat.reader)).json()
    assert oblast[0]["activeAlerts"] == []


def test_last_update_is_the_last_change_covering_the_region(compat: Compat) -> None:
    compat.raise_("47")
    compat.clock.advance(minutes=5)
    compat.lift("47")
    lifted_at = compat.clock.now
    compat.clock.advance(minutes=5)
    compat.raise_("16")
    raion = compat.client.get("/api/v3/alerts/47", headers=key(compat.reader)).json()[0]
    assert raion["activeAlerts"] == []
    assert raion["lastUpdate"] == lifted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_status_is_the_last_sequence_number(compat: Compat) -> None:
    headers = key(compat.reader)
    assert compat.client.get("/api/v3/alerts/status", headers=headers).json() == {
        "lastActionIndex": 0
    }
    compat.raise_("16", "31")
    compat.lift("16")
    assert compat.client.get("/api/v3/alerts/status", headers=headers).json() == {
        "lastActionIndex": 3
    }


def test_region_history_lists_covering_alerts_newest_first(compat: Compat) -> None:
    compat.raise_("9")
    compat.clock.advance(minutes=31, seconds=31)
    compat.lift("9")
    compat.raise_("47", type="urban_fights")
    compat.raise_("18")
    body = compat.client.get(
        "/api/v3/alerts/regionHistory", params={"regionId": "47"}, headers=key(compat.reader)
    ).json()
    assert [(h["regionId"], h["regionName"]) for h in body] == [("47", "Нікопольський район")]
    alarms = body[0]["alarms"]
    assert [(a["regionId"], a["alertType"], a["isContinue"]) for a in alarms] == [
        ("47", "URBAN_FIGHTS", True),
        ("9", "AIR", False),
    ]
    assert alarms[1]["duration"] == "00:31:31"


def test_date_history_takes_a_kyiv_day(compat: Compat) -> None:
    compat.clock.now = compat.clock.now.replace(year=2025, month=7, day=3, hour=20, minute=30)
    compat.raise_("16")  # 23:30 in Kyiv on 3 July
    compat.clock.advance(hours=1)
    compat.lift("16")  # 00:30 on 4 July
    compat.clock.advance(hours=2)
    compat.raise_("31")  # 02:30 on 4 July, still running
    headers = key(compat.reader)
    third = compat.client.get("/api/v3/alerts/dateHistory?date=20250703", headers=headers)
    fourth = compat.client.get("/api/v3/alerts/dateHistory?date=20250704", headers=headers)
    assert [a["regionId"] for a in third.json()] == ["16"]
    assert [a["regionId"] for a in fourth.json()] == ["16", "31"]
    assert fourth.json()[1]["isContinue"] is True


@pytest.mark.parametrize(
    "query",
    ["", "?date=", "?date=2025-07-03", "?date=20251301", "?date=2025070", "?date=abcdefgh"],
)
def test_a_malformed_date_is_a_400_with_a_message(compat: Compat, query: str) -> None:
    response = compat.client.get(f"/api/v3/alerts/dateHistory{query}", headers=key(compat.reader))
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


def test_unknown_or_missing_regions(compat: Compat) -> None:
    client, headers = compat.client, key(compat.reader)
    assert client.get("/api/v3/alerts/6", headers=headers).status_code == 404
    history = client.get("/api/v3/alerts/regionHistory?regionId=6", headers=headers)
    assert history.status_code == 404
    assert set(history.json()) == {"message"}
    assert client.get("/api/v3/alerts/regionHistory", headers=headers).status_code == 400


def test_regions_tree(compat: Compat) -> None:
    body = compat.client.get("/api/v3/regions", headers=key(compat.reader)).json()
    rivne = next(s for s in body["states"] if s["regionId"] == "5")
    varash = next(d for d in rivne["regionChildIds"] if d["regionId"] == "110")
    assert varash["regionType"] == "District"
    assert "1102" in [c["regionId"] for c in varash["regionChildIds"]]
    kyiv = next(s for s in body["states"] if s["regionId"] == "31")
    assert kyiv["regionChildIds"] == []


def test_raw_and_bearer_keys_work_others_are_401(compat: Compat) -> None:
    client = compat.client
    assert client.get("/api/v3/alerts", headers=key(compat.reader)).status_code == 200
    assert client.get("/api/v3/alerts", headers=key(f"Bearer {compat.reader}")).status_code == 200
    for headers in ({}, key("wrong"), key("Bearer ")):
        response = client.get("/api/v3/alerts", headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"message"}


def test_keyless_mode_as_siren_pp_ua(compat_app: StartCompat) -> None:
    with compat_app(compat_keyless=True) as compat:
        assert compat.client.get("/api/v3/alerts/16").status_code == 200
        assert compat.client.get("/api/v3/regions").status_code == 200


def test_rate_limit_answers_429(compat: Compat) -> None:
    compat.runtime.set_limits(
        CompatLimits(requests=Rate(per_minute=1, burst=1), history=Rate(per_minute=1, burst=1))
    )
    headers = key(compat.reader)
    assert compat.client.get("/api/v3/alerts/status", headers=headers).status_code == 200
    limited = compat.client.get("/api/v3/alerts/status", headers=headers)
    assert limited.status_code == 429
    assert "retry-after" in limited.headers
    history = "/api/v3/alerts/regionHistory?regionId=16"
    assert compat.client.get(history, headers=headers).status_code == 200
    assert compat.client.get(history, headers=headers).status_code == 429


def test_304_on_the_cached_reads(compat: Compat) -> None:
    compat.raise_("16")
    for path in ("/api/v3/alerts", "/api/v3/alerts/16", "/api/v3/alerts/status", "/api/v3/regions"):
        first = compat.client.get(path, headers=key(compat.reader))
        again = compat.client.get(
            path,
            headers={**key(compat.reader), "If-Modified-Since": first.headers["last-modified"]},
        )
        assert again.status_code == 304, path


# -- webhooks ---------------------------------------------------------------------------------


@pytest.fixture
def private_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYVOHA_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.mark.usefixtures("private_webhooks")
def test_webhook_receives_region_models(compat: Compat) -> None:
    with receiving() as (receiver, url):
        response = compat.client.post(
            "/api/v3/webhook", json={"webHookUrl": url}, headers=key(compat.reader)
        )
        assert response.status_code == 200
        assert response.json() == {"webHookUrl": url}
        compat.raise_("47")
        compat.raise_("47", type="artillery_shelling")
        compat.lift("47")
        bodies = receiver.wait_for(3)
    assert [b["regionId"] for b in bodies] == ["47", "47", "47"]
    assert [[a["type"] for a in b["activeAlerts"]] for b in bodies] == [
        ["AIR"],
        ["AIR", "ARTILLERY"],
        ["ARTILLERY"],
    ]
    assert bodies[0]["regionType"] == "District"


@pytest.mark.usefixtures("private_webhooks")
def test_one_webhook_per_key_changed_and_removed(compat: Compat) -> None:
    headers = key(compat.reader)
    with receiving() as (first, first_url), receiving() as (second, second_url):
        client = compat.client
        assert (
            client.patch(
                "/api/v3/webhook", json={"webHookUrl": first_url}, headers=headers
            ).status_code
            == 404
        )
        client.post("/api/v3/webhook", json={"webHookUrl": first_url}, headers=headers)
        client.post("/api/v3/webhook", json={"webHookUrl": first_url}, headers=headers)
        compat.raise_("16")
        first.wait_for(1)
        changed = client.patch("/api/v3/webhook", json={"webHookUrl": second_url}, headers=headers)
        assert changed.json() == {"webHookUrl": second_url}
        compat.lift("16")
        assert second.wait_for(1)[0]["activeAlerts"] == []
        removed = client.delete("/api/v3/webhook", headers=headers)
        assert removed.status_code == 200
        assert removed.json() == {"webHookUrl": None}
        assert client.delete("/api/v3/webhook", headers=headers).status_code == 404
        compat.raise_("31")
        listed = client.get("/api/webhooks", headers={"Authorization": f"Bearer {compat.reader}"})
        assert listed.json()["webhooks"] == []
    assert len(first.bodies) == 1
    assert len(second.bodies) == 1


def test_webhook_needs_a_key_that_may_manage_webhooks(compat: Compat) -> None:
    body = {"webHookUrl": "https://example.org/hook"}
    assert compat.client.post("/api/v3/webhook", json=body).status_code == 401
    refused = compat.client.post("/api/v3/webhook", json=body, headers=key(compat.operator))
    assert refused.status_code == 403
    assert set(refused.json()) == {"message"}


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"webHookUrl": ""}', b'{"webHookUrl": 5}', b'{"url": "x"}'],
)
def test_webhook_body_must_name_a_url(compat: Compat, body: bytes) -> None:
    response = compat.client.post("/api/v3/webhook", content=body, headers=key(compat.reader))
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


def test_webhook_refuses_an_internal_address(compat: Compat) -> None:
    admin = create_token(compat.store, name="admin", role=Role.ADMIN)
    response = compat.client.post(
        "/api/v3/webhook", json={"webHookUrl": "http://127.0.0.1:9/hook"}, headers=key(admin)
    )
    assert response.status_code == 400
    assert "127.0.0.1" in response.json()["message"] or "address" in response.json()["message"]
