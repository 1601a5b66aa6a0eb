"""
The unmodified PyPI clients against a live server on 127.0.0.1: alerts-in-ua 0.4.0 (sync
and async), ukrainealarm 0.0.1 and uasiren 0.0.1 (what Home Assistant uses) see what an
operator raised and lifted through the native API.

Every alerts-in-ua test runs twice: behind plain uvicorn, as `tryvoha serve` runs it, and
with the HTTP protocol shortcut (`compat_http_protocol`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import uasiren.client
import ukrainealarm.client
from alerts_in_ua import AsyncClient, Client
from alerts_in_ua.errors import ApiError, RateLimitError, UnauthorizedError

from tests.compat.live import LiveServer, live_server
from tryvoha.compat.ratelimit import CompatLimits, Rate

pytestmark = pytest.mark.slow

_names = itertools.count()


@pytest.fixture(scope="module", params=["uvicorn", "shortcut"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live")
    with live_server(directory, shortcut=request.param == "shortcut") as running:
        yield running


@pytest.fixture(scope="module")
def keyless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("keyless"), shortcut=False, compat_keyless=True
    ) as running:
        yield running


def _clean(server: LiveServer) -> Iterator[LiveServer]:
    yield server
    server.lift_everything()
    server.runtime.set_limits(CompatLimits())


@pytest.fixture
def live(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The server, clean after the test; the clients' class attributes point at it."""
    monkeypatch.setattr(Client, "API_BASE_URL", server.url)
    monkeypatch.setattr(Client, "REQUEST_TIMEOUT", 5)
    monkeypatch.setattr(AsyncClient, "API_BASE_URL", server.url)
    monkeypatch.setattr(ukrainealarm.client.Client, "BASE_PATH", f"{server.url}/api/v3")
    yield from _clean(server)


@pytest.fixture
def keyless(keyless_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setattr(uasiren.client.Client, "BASE_PATH", f"{keyless_server.url}/api/v3")
    yield from _clean(keyless_server)


def fresh_token(server: LiveServer) -> str:
    """A reader token of the test's own, so rate limits never carry over between tests."""
    return server.token(f"client{next(_names)}")


# -- alerts-in-ua, sync -------------------------------------------------------------------------


def test_sync_client_sees_raised_and_lifted_alerts(live: LiveServer) -> None:
    live.raise_("16", threat={"class": "ballistic_missile"}, note="from the south")
    live.raise_("47", level="warning")
    live.raise_("351", type="artillery_shelling")
    client = Client(token=fresh_token(live))
    alerts = client.get_active_alerts()
    assert sorted((a.location_uid, a.alert_type, a.alert_level) for a in alerts) == [
        ("16", "air_raid", "red"),
        ("351", "artillery_shelling", "red"),
        ("47", "air_raid", "yellow"),
    ]
    luhansk = alerts.get_alerts_by_location_uid("16")[0]
    assert luhansk.location_type == "oblast"
    assert luhansk.location_oblast_uid == 16
    assert luhansk.finished_at is None
    assert abs(luhansk.started_at - datetime.now(UTC)).total_seconds() < 60
    assert luhansk.notes == "from the south"
    assert [(t.threat_type, t.level) for t in luhansk.threats] == [("ballistic_missiles", "red")]
    assert alerts.get_alerts_with_threat_type("ballistic_missiles") == [luhansk]
    nikopol = alerts.get_alerts_by_location_uid("351")[0]
    assert nikopol.location_raion == "Нікопольський район"
    assert nikopol.location_oblast == "Дніпропетровська область"
    assert alerts.get_last_updated_at() is not None
    live.lift("16")
    assert "16" not in {a.location_uid for a in client.get_active_alerts()}


def test_sync_client_cache_gets_304_until_something_changes(live: LiveServer) -> None:
    live.raise_("14")
    client = Client(token=fresh_token(live))
    first = client.get_active_alerts()
    before = live.answered("3xx")
    cached = client.get_active_alerts()
    assert live.answered("3xx") == before + 1
    assert [a.id for a in cached] == [a.id for a in first]
    live.raise_("31")
    changed = client.get_active_alerts()
    assert live.answered("3xx") == before + 1
    assert {a.location_uid for a in changed} == {"14", "31"}


def test_sync_client_reads_the_iot_strings(live: LiveServer) -> None:
    live.raise_("16")
    live.raise_("47", level="warning")
    client = Client(token=fresh_token(live))
    oblasts = {s.location_title: s for s in client.get_air_raid_alert_statuses_by_oblast()}
    assert oblasts["Луганська область"].status == "active"
    assert oblasts["Дніпропетровська область"].status == "partly"
    assert oblasts["Рівненська область"].status == "no_alert"
    leveled = client.get_air_raid_alert_statuses_by_oblast(include_alert_level=True)
    assert [s.location_title for s in leveled.get_red_alert_oblasts()] == ["Луганська область"]
    nikopol = client.get_air_raid_alert_status(47, include_alert_level=True)
    assert nikopol.is_active_on_all_oblast()
    assert nikopol.is_yellow()
    assert client.get_air_raid_alert_status("Нікопольський район").status == "active"
    assert client.get_air_raid_alert_status(9, oblast_level_only=True).status == "no_alert"
    every = client.get_air_raid_alert_statuses(include_alert_level=True)
    assert every.get_status(1801).is_red()
    assert every.get_status(47).is_yellow()
    assert every.get_status(9).status == "partly"
    assert every.get_status(5).status == "no_alert"
    assert every.get_status(6) is None


def test_sync_client_reads_history(live: LiveServer) -> None:
    # Oblasts no other test touches: the server's log lives as long as the module.
    live.raise_("99")
    live.lift("99")
    live.raise_("424")
    client = Client(token=fresh_token(live))
    week = client.get_alerts_history(18)
    assert [(a.location_uid, a.is_finished()) for a in week] == [("99", True)]
    assert week.alerts[0].location_oblast == "Одеська область"
    month = client.get_alerts_history("Житомирська область", period="month_ago")
    assert [(a.location_uid, a.is_finished()) for a in month] == [("424", False)]


def test_sync_client_errors(live: LiveServer) -> None:
    with pytest.raises(UnauthorizedError, match="HTTP Code:401"):
        Client(token="tv_not-a-token").get_active_alerts()
    client = Client(token=fresh_token(live))
    with pytest.raises(ApiError, match="HTTP Code:404"):
        client.get_air_raid_alert_status(6)
    with pytest.raises(ApiError, match="HTTP Code:400"):
        client.get_alerts_history(9, period="year_ago")
    live.runtime.set_limits(CompatLimits(requests=Rate(per_minute=1, burst=2)))
    limited = Client(token=fresh_token(live))
    limited.get_air_raid_alert_statuses_by_oblast(use_cache=False)
    limited.get_air_raid_alert_statuses_by_oblast(use_cache=False)
    with pytest.raises(RateLimitError, match="HTTP Code:429"):
        limited.get_air_raid_alert_statuses_by_oblast(use_cache=False)


# -- alerts-in-ua, async ------------------------------------------------------------------------


def test_async_client_sees_alerts_history_and_strings(live: LiveServer) -> None:
    live.raise_("22")
    live.raise_("1293", type="artillery_shelling")

    async def session() -> dict[str, Any]:
        client = AsyncClient(token=fresh_token(live))
        before = live.answered("3xx")
        active = await client.get_active_alerts()
        again = await client.get_active_alerts()
        return {
            "active": active,
            "again": again,
            "not_modified": live.answered("3xx") - before,
            "history": await client.get_alerts_history(22),
            "oblasts": await client.get_air_raid_alert_statuses_by_oblast(),
            "kharkiv": await client.get_air_raid_alert_status(1293, include_alert_level=True),
            "every": await client.get_air_raid_alert_statuses(),
        }

    seen = asyncio.run(session())
    assert sorted((a.location_uid, a.alert_type) for a in seen["active"]) == [
        ("1293", "artillery_shelling"),
        ("22", "air_raid"),
    ]
    assert [a.id for a in seen["again"]] == [a.id for a in seen["active"]]
    assert seen["not_modified"] == 1
    assert sorted(a.location_uid for a in seen["history"]) == ["1293", "22"]  # only test on 22
    assert [s.location_title for s in seen["oblasts"].get_active_alert_oblasts()] == [
        "Харківська область"
    ]
    assert seen["kharkiv"].is_red()
    assert seen["every"].get_status(1293).status == "active"


def test_async_client_errors(live: LiveServer) -> None:
    async def unauthorized() -> None:
        await AsyncClient(token="tv_not-a-token").get_active_alerts()

    with pytest.raises(UnauthorizedError, match="HTTP Code:401"):
        asyncio.run(unauthorized())


# -- ukrainealarm (with a key) ------------------------------------------------------------------


def test_ukrainealarm_client_sees_alerts_and_regions(live: LiveServer) -> None:
    live.raise_("9")
    live.raise_("351", type="chemical")
    token = fresh_token(live)

    async def session() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            client = ukrainealarm.client.Client(http, token)
            return {
                "alerts": await client.get_alerts(),
                "nikopol": await client.get_alerts("351"),
                "rivne": await client.get_alerts("5"),
                "status": await client.get_last_alert_index(),
                "regions": await client.get_regions(),
            }

    seen = asyncio.run(session())
    assert [(m["regionId"], [a["type"] for a in m["activeAlerts"]]) for m in seen["alerts"]] == [
        ("9", ["AIR"]),
        ("351", ["CHEMICAL"]),
    ]
    nikopol = seen["nikopol"]
    assert len(nikopol) == 1
    assert [a["type"] for a in nikopol[0]["activeAlerts"]] == ["AIR", "CHEMICAL"]
    assert seen["rivne"][0]["activeAlerts"] == []
    assert seen["status"]["lastActionIndex"] >= 2
    assert len(seen["regions"]["states"]) == 27
    live.lift("9")

    async def after_lift() -> Any:
        async with aiohttp.ClientSession() as http:
            return await ukrainealarm.client.Client(http, token).get_alerts("351")

    assert [a["type"] for a in asyncio.run(after_lift())[0]["activeAlerts"]] == ["CHEMICAL"]


def test_ukrainealarm_client_errors(live: LiveServer) -> None:
    live.runtime.set_limits(CompatLimits(requests=Rate(per_minute=1, burst=1)))
    token = fresh_token(live)

    async def statuses() -> list[int]:
        codes = []
        async with aiohttp.ClientSession() as http:
            for key in ("wrong", token, token):
                try:
                    await ukrainealarm.client.Client(http, key).get_last_alert_index()
                    codes.append(200)
                except aiohttp.ClientResponseError as exc:
                    codes.append(exc.status)
        return codes

    assert asyncio.run(statuses()) == [401, 200, 429]


# -- uasiren, keyless as siren.pp.ua (Home Assistant's client) ----------------------------------


def test_uasiren_client_as_home_assistant_uses_it(keyless: LiveServer) -> None:
    keyless.raise_("5")
    keyless.raise_("1102", type="urban_fights")

    async def session() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            client = uasiren.client.Client(http)
            return {
                "regions": await client.get_regions(),
                "community": await client.get_alerts("1102"),
                "kyiv": await client.get_alerts("31"),
                "index": await client.get_last_alert_index(),
                "all": await client.get_alerts(),
            }

    seen = asyncio.run(session())
    states = {s["regionId"]: s for s in seen["regions"]["states"]}
    district = next(d for d in states["5"]["regionChildIds"] if d["regionId"] == "110")
    community = next(c for c in district["regionChildIds"] if c["regionId"] == "1102")
    assert community["regionType"] == "Community"
    # Home Assistant: res[0]["activeAlerts"][*]["type"], one binary sensor per type.
    assert {a["type"] for a in seen["community"][0]["activeAlerts"]} == {"AIR", "URBAN_FIGHTS"}
    assert seen["kyiv"][0]["activeAlerts"] == []
    assert seen["index"]["lastActionIndex"] >= 2
    assert {m["regionId"] for m in seen["all"]} == {"5", "1102"}


def test_uasiren_needs_keyless_mode(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uasiren.client.Client, "BASE_PATH", f"{live.url}/api/v3")

    async def fetch() -> None:
        async with aiohttp.ClientSession() as http:
            await uasiren.client.Client(http).get_alerts("16")

    with pytest.raises(aiohttp.ClientResponseError) as raised:
        asyncio.run(fetch())
    assert raised.value.status == 401
