"""
The alerts.in.ua-compatible API in process: formats, caching, keys, limits, bad input.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.compat.conftest import Compat, StartCompat
from tryvoha.compat.iot import OBLAST_ORDER
from tryvoha.compat.ratelimit import CompatLimits, Rate
from tryvoha.core.auth import Role
from tryvoha.tokens import create_token

ACTIVE = "/v1/alerts/active.json"
BY_OBLAST = "/v1/iot/active_air_raid_alerts_by_oblast.json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_active_alerts_by_header_or_query_token(compat: Compat) -> None:
    compat.raise_("16")
    compat.raise_("351", type="artillery_shelling", level="warning")
    by_header = compat.client.get(ACTIVE, headers=bearer(compat.reader))
    by_query = compat.client.get(ACTIVE, params={"token": compat.reader})
    assert by_header.status_code == by_query.status_code == 200
    assert by_header.content == by_query.content
    body = by_header.json()
    assert [(a["location_uid"], a["alert_type"], a["alert_level"]) for a in body["alerts"]] == [
        ("16", "air_raid", "red"),
        ("351", "artillery_shelling", "yellow"),
    ]
    assert body["alerts"][0]["id"] == 1
    assert body["meta"]["type"] == "full"
    assert body["meta"]["last_updated_at"] == compat.clock.now.strftime("%Y/%m/%d %H:%M:%S +0000")
    assert by_header.headers["content-type"] == "application/json"


def test_last_modified_and_304(compat: Compat) -> None:
    compat.raise_("16")
    first = compat.client.get(ACTIVE, headers=bearer(compat.reader))
    stamp = first.headers["last-modified"]
    assert stamp.endswith(" GMT")
    again = compat.client.get(ACTIVE, headers={**bearer(compat.reader), "If-Modified-Since": stamp})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["last-modified"] == stamp
    compat.raise_("31")
    changed = compat.client.get(
        ACTIVE, headers={**bearer(compat.reader), "If-Modified-Since": stamp}
    )
    assert changed.status_code == 200
    assert changed.headers["last-modified"] != stamp
    assert len(changed.json()["alerts"]) == 2


def test_every_cached_endpoint_sends_last_modified(compat: Compat) -> None:
    for path in (
        ACTIVE,
        BY_OBLAST,
        "/v2/iot/active_air_raid_alerts_by_oblast.json",
        "/v1/iot/active_air_raid_alerts.json",
        "/v2/iot/active_air_raid_alerts.json",
        "/v1/iot/active_air_raid_alerts/16.json",
        "/v2/iot/active_air_raid_alerts/16.json",
        "/v1/regions/16/alerts/week_ago.json",
    ):
        response = compat.client.get(path, headers=bearer(compat.reader))
        assert response.status_code == 200, path
        assert "last-modified" in response.headers, path
        replay = compat.client.get(
            path,
            headers={
                **bearer(compat.reader),
                "If-Modified-Since": response.headers["last-modified"],
            },
        )
        assert replay.status_code == 304, path


def test_iot_strings(compat: Compat) -> None:
    compat.raise_("16")
    compat.raise_("47", level="warning")
    client, token = compat.client, {"token": compat.reader}
    v1 = client.get(BY_OBLAST, params=token).json()
    v2 = client.get("/v2/iot/active_air_raid_alerts_by_oblast.json", params=token).json()
    assert len(v1) == len(v2) == 27
    assert v1[OBLAST_ORDER.index("16")] == "A"
    assert v2[OBLAST_ORDER.index("16")] == "R"
    assert v1[OBLAST_ORDER.index("9")] == v2[OBLAST_ORDER.index("9")] == "P"
    assert client.get("/v1/iot/active_air_raid_alerts/47.json", params=token).json() == "A"
    assert client.get("/v2/iot/active_air_raid_alerts/47.json", params=token).json() == "Y"
    assert client.get("/v2/iot/active_air_raid_alerts/351.json", params=token).json() == "Y"
    assert client.get("/v1/iot/active_air_raid_alerts/5.json", params=token).json() == "N"
    every = client.get("/v2/iot/active_air_raid_alerts.json", params=token).json()
    assert len(every) >= 1805
    assert (every[16], every[1801], every[9], every[47], every[5], every[0]) == (
        "R", "R", "P", "Y", "N", " ",
    )  # fmt: skip


def test_unknown_uid_is_404_with_a_message(compat: Compat) -> None:
    for path in (
        "/v1/iot/active_air_raid_alerts/6.json",
        "/v2/iot/active_air_raid_alerts/99999.json",
        "/v1/iot/active_air_raid_alerts/UA01020000000022387.json",
        "/v1/regions/6/alerts/week_ago.json",
    ):
        response = compat.client.get(path, headers=bearer(compat.reader))
        assert response.status_code == 404, path
        assert set(response.json()) == {"message"}


def test_history_covers_the_oblast_and_its_parts_over_the_period(compat: Compat) -> None:
    compat.raise_("47")
    compat.clock.advance(minutes=40)
    compat.lift("47")
    compat.raise_("14")
    compat.clock.advance(days=10)
    compat.raise_("1102")
    compat.raise_("351", type="chemical")
    headers = bearer(compat.reader)
    week = compat.client.get("/v1/regions/9/alerts/week_ago.json", headers=headers).json()
    month = compat.client.get("/v1/regions/9/alerts/month_ago.json", headers=headers).json()
    assert [a["location_uid"] for a in week["alerts"]] == ["351"]
    assert [(a["location_uid"], a["finished_at"] is None) for a in month["alerts"]] == [
        ("47", False),
        ("351", True),
    ]
    assert all("threats" not in a for a in month["alerts"])


def test_a_malformed_period_is_a_4xx_with_a_message(compat: Compat) -> None:
    for period in ("year_ago", "week", "WEEK_AGO"):
        response = compat.client.get(
            f"/v1/regions/16/alerts/{period}.json", headers=bearer(compat.reader)
        )
        assert response.status_code == 400
        assert "week_ago" in response.json()["message"]


def test_keys_missing_wrong_or_revoked_are_401(compat: Compat) -> None:
    missing = compat.client.get(ACTIVE)
    wrong = compat.client.get(ACTIVE, params={"token": "tv_not-a-token"})
    basic = compat.client.get(ACTIVE, headers={"Authorization": f"Basic {compat.reader}"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert set(response.json()) == {"message"}
    compat.runtime.keys.ttl = 0
    revoked = create_token(compat.store, name="old-device", role=Role.READER)
    assert compat.client.get(BY_OBLAST, headers=bearer(revoked)).status_code == 200
    compat.store.revoke_token("old-device", compat.clock.now)
    assert compat.client.get(BY_OBLAST, headers=bearer(revoked)).status_code == 401


def test_every_role_may_read(compat: Compat) -> None:
    admin = create_token(compat.store, name="boss", role=Role.ADMIN)
    engine = create_token(compat.store, name="engine", role=Role.ENGINE)
    for token in (admin, engine, compat.operator, compat.reader):
        assert compat.client.get(BY_OBLAST, headers=bearer(token)).status_code == 200


def test_rate_limit_is_per_token_and_spares_the_native_api(compat: Compat) -> None:
    compat.runtime.set_limits(
        CompatLimits(requests=Rate(per_minute=1, burst=2), history=Rate(per_minute=1, burst=1))
    )
    client = compat.client
    assert client.get(BY_OBLAST, headers=bearer(compat.operator)).status_code == 200
    assert client.get(ACTIVE, headers=bearer(compat.operator)).status_code == 200
    limited = client.get(BY_OBLAST, headers=bearer(compat.operator))
    assert limited.status_code == 429
    assert set(limited.json()) == {"message"}
    assert int(limited.headers["retry-after"]) >= 1
    assert client.get(BY_OBLAST, headers=bearer(compat.reader)).status_code == 200
    for _ in range(5):
        compat.raise_("16")
        compat.lift("16")
        native = client.get("/api/alerts/active", headers=bearer(compat.operator))
        assert native.status_code == 200
    history = "/v1/regions/16/alerts/month_ago.json"
    assert client.get(history, headers=bearer(compat.reader)).status_code == 200
    assert client.get(history, headers=bearer(compat.reader)).status_code == 429


def test_keyless_mode_needs_no_token_and_limits_by_address(compat_app: StartCompat) -> None:
    with compat_app(compat_keyless=True) as compat:
        compat.runtime.set_limits(CompatLimits(requests=Rate(per_minute=1, burst=2)))
        client: TestClient = compat.client
        assert client.get(BY_OBLAST).status_code == 200
        assert client.get(BY_OBLAST, params={"token": "whatever"}).status_code == 200
        assert client.get(BY_OBLAST).status_code == 429
        assert client.get(BY_OBLAST, headers=bearer(compat.reader)).status_code == 200


def test_keyless_is_off_by_default(compat: Compat) -> None:
    assert compat.client.get(BY_OBLAST).status_code == 401


POLLED = (
    ACTIVE,
    BY_OBLAST,
    "/v2/iot/active_air_raid_alerts_by_oblast.json",
    "/v1/iot/active_air_raid_alerts.json",
    "/v2/iot/active_air_raid_alerts.json",
    "/v1/iot/active_air_raid_alerts/47.json",
    "/v2/iot/active_air_raid_alerts/9.json",
    "/v1/iot/active_air_raid_alerts/6.json",
)


def _answers(client: TestClient, token: str) -> list[tuple[int, bytes, str | None]]:
    seen = []
    for path in POLLED:
        for params in ({"token": token}, {"token": "wrong"}, {}):
            response = client.get(path, params=params)
            seen.append(
                (response.status_code, response.content, response.headers.get("last-modified"))
            )
    return seen


def test_the_fast_path_answers_as_the_routes_do(compat_app: StartCompat) -> None:
    with compat_app() as fast:
        fast.raise_("16")
        fast.raise_("47", level="warning")
        through_fast_path = _answers(fast.client, fast.reader)
        store, clock, reader = fast.store, fast.clock, fast.reader
    with compat_app(store=store, clock=clock, without_fast_path=True) as routed:
        assert _answers(routed.client, reader) == through_fast_path
