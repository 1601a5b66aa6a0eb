"""
`GET /cap/feed.atom` and `GET /cap/alerts/{identifier}.xml` through the app, in process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.cap.chains import T0, write_keypair
from tests.conftest import auth, make_token
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.cap_signing import OASIS_SCHEMA, SigningSetupError, schema_problems, verify_signature
from tryvoha.cli_cap import ERROR, check_message
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.cap import MsgType, parse
from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.base import Store
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import create_token

ATOM = "{http://www.w3.org/2005/Atom}"
FEED = "/cap/feed.atom"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def running(
    store: Store, registry: RegionRegistry, clock: Clock, settings: Settings | None = None
) -> Iterator[TestClient]:
    app = create_app(
        settings or Settings(), store=store, bus=MemoryBus(), registry=registry, clock=clock
    )
    app.state.clock = clock
    with TestClient(app) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(store: MemoryStore, registry: RegionRegistry, clock: Clock) -> Iterator[TestClient]:
    with running(store, registry, clock) as test_client:
        yield test_client


@pytest.fixture
def token(store: MemoryStore) -> str:
    return make_token(store, "duty", Role.OPERATOR)


def command(client: TestClient, token: str, path: str, regions: list[str], **extra: str) -> None:
    body = {"regions": regions, "type": "air_raid", **extra}
    response = client.post(path, json=body, headers=auth(token))
    assert response.status_code in (200, 201), response.text


def entries(client: TestClient) -> list[dict[str, str]]:
    response = client.get(FEED)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    feed = etree.fromstring(response.content)
    found = []
    for entry in feed.iterfind(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        assert link is not None
        found.append(
            {
                "id": entry.findtext(f"{ATOM}id") or "",
                "title": entry.findtext(f"{ATOM}title") or "",
                "summary": entry.findtext(f"{ATOM}summary") or "",
                "updated": entry.findtext(f"{ATOM}updated") or "",
                "href": link.get("href") or "",
                "type": link.get("type") or "",
                "rel": link.get("rel") or "",
            }
        )
    return found


def fetch(client: TestClient, href: str) -> bytes:
    response = client.get(href)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/cap+xml"
    body: bytes = response.content
    return body


def test_all_of_ukraine_under_alert_fits_a_small_feed(
    client: TestClient, token: str, registry: RegionRegistry
) -> None:
    """§8 item 15: an Atom feed, one entry per alert linking to its CAP, under 100 KB."""
    oblasts = [r.id for r in registry.oblasts()]
    assert len(oblasts) == 27
    command(client, token, "/api/alerts", oblasts)
    response = client.get(FEED)
    feed = etree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "http://testserver/cap/feed.atom"
    assert feed.findtext(f"{ATOM}title") and feed.findtext(f"{ATOM}updated")
    assert feed.findtext(f"{ATOM}author/{ATOM}name")
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == "http://testserver/cap/feed.atom"
    found = entries(client)
    assert len(found) == 27
    assert len({e["id"] for e in found}) == 27
    assert len(response.content) < 100_000
    for entry in found:
        assert entry["rel"] == "alternate" and entry["type"] == "application/cap+xml"
        assert re.fullmatch(
            r"http://testserver/cap/alerts/testserver:\d{8}T\d{6}-\d+\.xml", entry["href"]
        )
        assert entry["title"].startswith("Повітряна тривога — ")
        assert entry["summary"].startswith("Air raid alert — ")
        body = fetch(client, entry["href"])
        assert schema_problems(etree.fromstring(body), OASIS_SCHEMA) == []
        assert check_message(body) == []


def test_every_oblast_and_raion_under_alert_stays_under_100_kb(
    client: TestClient, token: str, registry: RegionRegistry
) -> None:
    regions = [r.id for r in registry if r.level in (RegionLevel.OBLAST, RegionLevel.RAION)]
    command(client, token, "/api/alerts", regions)
    response = client.get(FEED)
    assert len(entries(client)) == len(regions) == 163
    assert len(response.content) < 100_000


def test_raise_update_lift_is_alert_update_cancel(
    client: TestClient, token: str, clock: Clock
) -> None:
    command(client, token, "/api/alerts", ["14"])
    (first,) = entries(client)
    alert = parse(fetch(client, first["href"]))
    assert alert.msg_type is MsgType.ALERT
    clock.advance(minutes=10)
    command(client, token, "/api/alerts", ["14"], level="warning")
    (second,) = entries(client)
    update = parse(fetch(client, second["href"]))
    assert update.msg_type is MsgType.UPDATE
    assert update.references == (alert.reference(),)
    clock.advance(minutes=10)
    command(client, token, "/api/alerts/lift", ["14"])
    (third,) = entries(client)
    cancel = parse(fetch(client, third["href"]))
    assert cancel.msg_type is MsgType.CANCEL
    assert cancel.references == (alert.reference(), update.reference())
    assert [i.response_types[0].value for i in cancel.infos] == ["AllClear", "AllClear"]
    # The earlier messages stay available by identifier.
    assert parse(fetch(client, first["href"])) == alert


def test_a_cancel_leaves_the_feed_when_it_expires(
    client: TestClient, token: str, clock: Clock
) -> None:
    command(client, token, "/api/alerts", ["14", "31"])
    clock.advance(minutes=30)
    command(client, token, "/api/alerts/lift", ["31"])
    before = client.get(FEED)
    kinds = sorted(parse(fetch(client, e["href"])).msg_type.value for e in entries(client))
    assert kinds == ["Alert", "Cancel"]
    clock.advance(hours=1, seconds=10)  # past the Cancel's expiry and the settling margin
    after = client.get(FEED)
    (left,) = entries(client)
    assert parse(fetch(client, left["href"])).msg_type is MsgType.ALERT
    assert after.headers["etag"] != before.headers["etag"]
    assert after.headers["last-modified"] != before.headers["last-modified"]
    # Gone from the feed, still served from the log.
    for href in re.findall(r'href="([^"]+\.xml)"', before.text):
        fetch(client, href)


def test_an_alert_in_force_is_renewed_before_it_expires(
    client: TestClient, token: str, clock: Clock
) -> None:
    command(client, token, "/api/alerts", ["22"])
    (original,) = entries(client)
    assert original["href"].endswith("/testserver:20250703T212200-1.xml")
    clock.advance(hours=3)
    assert entries(client) == [original]  # not before the log has settled
    clock.advance(seconds=10)
    (renewed,) = entries(client)
    assert renewed["href"].endswith("/testserver:20250704T002200-1-1.xml")
    update = parse(fetch(client, renewed["href"]))
    assert update.msg_type is MsgType.UPDATE
    first = parse(fetch(client, original["href"]))
    assert update.references == (first.reference(),)
    assert update.infos[0].expires is not None and update.infos[0].expires > clock.now
    too_early = renewed["href"].replace("002200-1-1.xml", "032200-1-2.xml")
    assert client.get(too_early).status_code == 404
    clock.advance(hours=3)
    (again,) = entries(client)
    assert again["href"] == too_early
    assert parse(fetch(client, again["href"])).references == (
        first.reference(),
        update.reference(),
    )


@pytest.mark.parametrize(
    "identifier",
    [
        pytest.param("nothing", id="not-an-identifier"),
        pytest.param("elsewhere.org:20250703T212200-1", id="other-sender"),
        pytest.param("testserver:20250703T212200-99", id="no-such-event"),
        pytest.param("testserver:20240101T000000-1", id="wrong-time"),
        pytest.param("testserver:20250703T212200-1-1", id="renewal-not-yet-issued"),
        pytest.param("testserver:20250703T212200-99999999999999999", id="huge-seq"),
    ],
)
def test_unknown_messages_are_404_json(client: TestClient, token: str, identifier: str) -> None:
    command(client, token, "/api/alerts", ["14"])
    assert entries(client)[0]["href"].endswith("/testserver:20250703T212200-1.xml")
    response = client.get(f"/cap/alerts/{identifier}.xml")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_message"
    assert identifier in response.json()["message"]


def test_feed_and_messages_answer_conditional_requests(
    client: TestClient, token: str, clock: Clock
) -> None:
    command(client, token, "/api/alerts", ["14"])
    feed = client.get(FEED)
    for header, value in (
        ("If-None-Match", feed.headers["etag"]),
        ("If-Modified-Since", feed.headers["last-modified"]),
    ):
        assert client.get(FEED, headers={header: value}).status_code == 304
    href = entries(client)[0]["href"]
    message = client.get(href)
    assert client.get(href, headers={"If-None-Match": message.headers["etag"]}).status_code == 304
    assert client.get(href, headers={"If-None-Match": '"other"'}).status_code == 200
    since = message.headers["last-modified"]
    assert client.get(href, headers={"If-Modified-Since": since}).status_code == 304
    clock.advance(seconds=5)
    command(client, token, "/api/alerts", ["31"])
    assert client.get(FEED, headers={"If-None-Match": feed.headers["etag"]}).status_code == 200
    stale = {"If-Modified-Since": feed.headers["last-modified"]}
    assert client.get(FEED, headers=stale).status_code == 200


def test_a_server_with_a_key_signs_every_message(
    store: MemoryStore, registry: RegionRegistry, clock: Clock, token: str, tmp_path: Path
) -> None:
    key, cert = write_keypair(tmp_path, "ec")
    settings = Settings(
        cap_key=str(key), cap_cert=str(cert), public_url="https://alerts.example.org/"
    )
    with running(store, registry, clock, settings) as client:
        command(client, token, "/api/alerts", ["14"])
        command(client, token, "/api/alerts/lift", ["14"])
        (entry,) = entries(client)
        assert entry["href"].startswith("https://alerts.example.org/cap/alerts/alerts.example.org:")
        body = fetch(client, entry["href"].removeprefix("https://alerts.example.org"))
        check = verify_signature(body, cert.read_bytes())
        assert (check.valid, check.algorithm) == (True, "ECDSA-SHA256")
        assert [p for p in check_message(body) if p.severity == ERROR] == []
        tampered = body.replace("Відбій".encode(), "Відбiй".encode(), 1)
        assert not verify_signature(tampered, cert.read_bytes()).valid


def test_half_a_signing_setup_stops_the_server(
    store: MemoryStore, registry: RegionRegistry, clock: Clock, tmp_path: Path
) -> None:
    key, _cert = write_keypair(tmp_path)
    half = Settings(cap_key=str(key))
    with pytest.raises(SigningSetupError, match="both"), running(store, registry, clock, half):
        pass


def test_a_restarted_server_rebuilds_the_chains_from_the_log(
    registry: RegionRegistry, clock: Clock, tmp_path: Path
) -> None:
    """The same messages, byte for byte, from a durable log after a restart."""
    store = SQLiteStore(tmp_path / "log.db")
    store.migrate()
    token = create_token(store, name="duty", role=Role.OPERATOR)
    with running(store, registry, clock) as client:
        command(client, token, "/api/alerts", ["14", "31"])
        clock.advance(minutes=5)
        command(client, token, "/api/alerts", ["14"], level="warning")
        command(client, token, "/api/alerts/lift", ["31"])
        before = {e["href"]: fetch(client, e["href"]) for e in entries(client)}
    clock.advance(minutes=5)
    with running(store, registry, clock) as client:
        found = entries(client)
        assert {e["href"]: fetch(client, e["href"]) for e in found} == before
        kinds = sorted(parse(body).msg_type.value for body in before.values())
        assert kinds == ["Cancel", "Update"]
        assert all(len(parse(body).references) == 1 for body in before.values())
        command(client, token, "/api/alerts/lift", ["14"])
        cancels = [parse(fetch(client, e["href"])) for e in entries(client)]
        assert sorted(len(m.references) for m in cancels) == [1, 2]
    store.close()


def test_reads_follow_the_public_read_setting(
    store: MemoryStore, registry: RegionRegistry, clock: Clock, token: str
) -> None:
    with running(store, registry, clock, Settings(public_read=False)) as client:
        assert client.get(FEED).status_code == 401
        assert client.get(FEED, headers=auth(token)).status_code == 200
