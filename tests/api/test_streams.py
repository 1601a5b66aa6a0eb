"""
`GET /api/stream` (SSE) on a real uvicorn server, and `GET /api/ws` (WebSocket) in process.

SSE runs over loopback because an in-process transport buffers whole bodies. Each test
owns its server: a socket bound to 127.0.0.1, port chosen by the kernel.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import auth, make_token
from tryvoha.api.app import create_app
from tryvoha.api.streams import DirectSendMiddleware
from tryvoha.api.websocket import WsSubscriber
from tryvoha.bus.memory import MemoryBus
from tryvoha.compat.protocol import compat_http_protocol
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.hub import StreamOptions
from tryvoha.delivery.sse import parse_frames
from tryvoha.delivery.subscriber import EVERYTHING, Message
from tryvoha.storage.memory import MemoryStore

OBLAST, RAION, HROMADA, OTHER_OBLAST = "3", "134", "1377", "4"
TIMEOUT = 10.0


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


def new_app(registry: RegionRegistry, **options: Any) -> tuple[FastAPI, str]:
    store = MemoryStore()
    token = make_token(store, "duty", Role.OPERATOR)
    app = create_app(Settings(), store=store, bus=MemoryBus(), registry=registry)
    app.state.stream_options = StreamOptions(**options)
    return app, token


@asynccontextmanager
async def serving(
    app: FastAPI, send_buffer: int | None = None, protocol: str = "httptools"
) -> AsyncIterator[httpx.AsyncClient]:
    """
    Serve *app* with uvicorn on loopback; yields a client for it. Accepted connections
    inherit *send_buffer* (SO_SNDBUF) from the listening socket. *protocol* `tryvoha` is
    `tryvoha serve`'s, whose streams write their events past ASGI `send`.
    """
    http: Any = compat_http_protocol(app) if protocol == "tryvoha" else protocol
    sock = socket.socket()
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", http=http, timeout_graceful_shutdown=1)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(TIMEOUT):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        sock.close()


class SseReader:
    """Reads frames of one open stream."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks = response.aiter_text()
        self.buffer = ""
        self.frames: list[dict[str, str]] = []
        self.events: list[dict[str, str]] = []
        self.comments: list[str] = []

    async def _more(self) -> None:
        self.buffer += await anext(self.chunks)
        head, sep, self.buffer = self.buffer.rpartition("\n\n")
        if sep:
            frames = parse_frames(head + sep)
            self.frames += frames
            self.events += [f for f in frames if "id" in f]
            self.comments += [line for line in head.split("\n") if line.startswith(":")]

    async def until(self, condition: Callable[[SseReader], bool]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not condition(self):
                await self._more()

    async def wait_events(self, count: int) -> list[dict[str, str]]:
        await self.until(lambda r: len(r.events) >= count)
        return self.events

    def ids(self) -> list[int]:
        return [int(f["id"]) for f in self.events]


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient, query: str = "", headers: dict[str, str] | None = None
) -> AsyncIterator[SseReader]:
    async with client.stream("GET", f"/api/stream{query}", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        yield SseReader(response)


async def command(
    client: httpx.AsyncClient, token: str, path: str, *regions: str, alert_type: str = "air_raid"
) -> list[int]:
    response = await client.post(
        path, json={"regions": list(regions), "type": alert_type}, headers=auth(token)
    )
    assert response.status_code in (200, 201), response.text
    events: list[int] = response.json()["events"]
    return events


async def raise_(client: httpx.AsyncClient, token: str, *regions: str, **kw: str) -> list[int]:
    return await command(client, token, "/api/alerts", *regions, **kw)


async def lift(client: httpx.AsyncClient, token: str, *regions: str, **kw: str) -> list[int]:
    return await command(client, token, "/api/alerts/lift", *regions, **kw)


# -- SSE --------------------------------------------------------------------------------------


PROTOCOLS = pytest.mark.parametrize("protocol", ["httptools", "tryvoha"])


@PROTOCOLS
def test_each_event_once_with_its_id_kind_and_log_entry(
    registry: RegionRegistry, protocol: str
) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app, protocol=protocol) as client, stream(client) as reader:
            headers = reader.response.headers
            assert headers["content-type"] == "text/event-stream"
            assert headers["cache-control"] == "no-cache"
            assert headers["x-accel-buffering"] == "no"
            await raise_(client, token, OBLAST, OTHER_OBLAST)
            await lift(client, token, OBLAST)
            events = await reader.wait_events(3)
            assert reader.frames[0] == {"retry": "2000"}
            assert [e["id"] for e in events] == ["1", "2", "3"]
            assert [e["event"] for e in events] == ["alert.raised"] * 2 + ["alert.lifted"]
            log = (await client.get("/api/events?after=0")).json()["events"]
            assert [orjson.loads(e["data"]) for e in events] == log

    run(scenario)


def test_filters_by_region_relatives_and_type(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with (
            serving(app) as client,
            stream(client, f"?regions={RAION}&types=air_raid,chemical") as reader,
        ):
            await raise_(client, token, OBLAST, HROMADA, OTHER_OBLAST)  # 1, 2, 3
            await raise_(client, token, RAION, alert_type="artillery_shelling")  # 4
            await raise_(client, token, RAION)  # 5
            events = await reader.wait_events(3)
            assert [orjson.loads(e["data"])["alert"]["region_id"] for e in events] == [
                OBLAST,
                HROMADA,
                RAION,
            ]
            assert reader.ids() == [1, 2, 5]

    run(scenario)


@pytest.mark.parametrize("how", ["last-event-id", "after"])
def test_resume_gets_what_was_missed_exactly_once_then_live(
    registry: RegionRegistry, how: str
) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        oblasts = [r.id for r in registry.oblasts()]
        async with serving(app) as client:
            async with stream(client) as reader:
                await raise_(client, token, *oblasts[:3])
                await reader.wait_events(3)
            # Disconnected: these must arrive exactly once after the resume.
            missed = await raise_(client, token, *oblasts[3:8])
            query, headers = (
                ("", {"Last-Event-ID": "3"})
                if how == "last-event-id"
                else (
                    "?after=3",
                    None,
                )
            )
            async with stream(client, query, headers) as reader:
                await reader.wait_events(5)
                live = await lift(client, token, *oblasts[:2])
                await reader.wait_events(7)
                await asyncio.sleep(0.05)
            assert reader.ids() == missed + live == list(range(4, 11))

    run(scenario)


def test_last_event_id_wins_over_after(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app) as client:
            await raise_(client, token, OBLAST, OTHER_OBLAST, RAION)
            async with stream(client, "?after=0", {"Last-Event-ID": "2"}) as reader:
                await reader.wait_events(1)
                assert reader.ids() == [3]

    run(scenario)


def test_snapshot_then_live(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app) as client:
            await raise_(client, token, OBLAST, OTHER_OBLAST)
            await lift(client, token, OTHER_OBLAST)
            async with stream(client, f"?snapshot=true&regions={HROMADA}") as reader:
                await reader.until(lambda r: len(r.frames) >= 2)
                snapshot = reader.frames[1]
                assert snapshot["event"] == "snapshot"
                assert "id" not in snapshot
                data = orjson.loads(snapshot["data"])
                assert data["last_seq"] == 3
                assert [a["region_id"] for a in data["alerts"]] == [OBLAST]
                await raise_(client, token, HROMADA)
                await reader.wait_events(1)
                assert reader.ids() == [4]

    run(scenario)


def test_a_resuming_browser_gets_no_second_snapshot(registry: RegionRegistry) -> None:
    """EventSource reconnects to the same URL with Last-Event-ID: resume, not a snapshot."""

    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app) as client:
            await raise_(client, token, OBLAST, OTHER_OBLAST)
            async with stream(client, "?snapshot=true", {"Last-Event-ID": "1"}) as reader:
                await reader.wait_events(1)
                assert [f.get("event") for f in reader.frames] == [None, "alert.raised"]
                assert reader.ids() == [2]

    run(scenario)


def test_heartbeat_comment(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, _token = new_app(registry, heartbeat_s=0.05)
        async with serving(app) as client, stream(client) as reader:
            await reader.until(lambda r: r.comments.count(": ping") >= 2)

    run(scenario)


@pytest.mark.parametrize(
    ("query", "headers", "code", "message"),
    [
        ("?regions=3,nowhere", None, "unknown_region", "'nowhere'"),
        ("?types=air_raid,meteor", None, "unknown_type", "'meteor'"),
        ("?after=5", None, "invalid_request", "after=5 is past the newest event (2)"),
        ("", {"Last-Event-ID": "5"}, "invalid_request", "after=5"),
        ("", {"Last-Event-ID": "abc"}, "invalid_request", "Last-Event-ID"),
        ("?after=-1", None, "invalid_request", "after"),
    ],
)
def test_bad_filters_and_cursors_are_422_before_the_stream(
    registry: RegionRegistry,
    query: str,
    headers: dict[str, str] | None,
    code: str,
    message: str,
) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app) as client:
            await raise_(client, token, OBLAST, OTHER_OBLAST)
            response = await client.get(f"/api/stream{query}", headers=headers)
            assert response.status_code == 422
            assert response.json()["error"] == code
            assert message in response.json()["message"]

    run(scenario)


class StalledClient:
    """Opens the stream over a socket with a tiny receive buffer, and reads nothing."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET /api/stream HTTP/1.1\r\nHost: test\r\n\r\n")

    def close(self) -> None:
        self.sock.close()

    async def read_all(self) -> bytes:
        """Read until the server ends the response; return the body, de-chunked."""
        self.sock.setblocking(False)
        loop = asyncio.get_running_loop()
        pieces: list[bytes] = []
        async with asyncio.timeout(TIMEOUT):
            while not b"".join(pieces[-2:]).endswith(b"\r\n0\r\n\r\n"):
                data = await loop.sock_recv(self.sock, 1 << 20)
                if not data:
                    break
                pieces.append(data)
        head, _, chunked = b"".join(pieces).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        body: list[bytes] = []
        view, at = memoryview(chunked), 0
        while at < len(view):
            line_end = chunked.index(b"\r\n", at)
            size = int(chunked[at:line_end], 16)
            body.append(bytes(view[line_end + 2 : line_end + 2 + size]))
            at = line_end + 2 + size + 2
        return b"".join(body)


@PROTOCOLS
def test_a_stalled_client_is_cut_off_and_a_fast_one_keeps_up(
    registry: RegionRegistry, protocol: str
) -> None:
    async def scenario() -> None:
        app, token = new_app(registry, buffer_events=32)
        all_regions = [r.id for r in registry]
        async with (
            serving(app, send_buffer=8192, protocol=protocol) as client,
            stream(client) as fast,
        ):
            port = int(str(client.base_url).rsplit(":", 1)[1])
            with closing(StalledClient(port)) as stalled:
                await asyncio.sleep(0.1)
                expected = await raise_(client, token, *all_regions)
                await fast.wait_events(len(expected))
                assert fast.ids() == expected == list(range(1, len(all_regions) + 1))
                metrics = (await client.get("/metrics")).text
                assert 'tryvoha_stream_disconnects_total{kind="sse",reason="slow"} 1.0' in metrics
                assert 'tryvoha_stream_connections{kind="sse"} 1.0' in metrics
                # The stalled client reads at last: a gap-free start, then the end.
                body = (await stalled.read_all()).decode()
                assert body.endswith(": end: slow consumer\n\n")
                got = [int(f["id"]) for f in parse_frames(body) if "id" in f]
                assert got == list(range(1, len(got) + 1))
                assert len(got) < len(expected) // 2
            async with stream(client, f"?after={got[-1]}") as resumed:
                await resumed.wait_events(len(expected) - len(got))
                assert got + resumed.ids() == expected


def test_stream_metrics(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        async with serving(app) as client, stream(client) as reader:
            await raise_(client, token, OBLAST)
            await reader.wait_events(1)
            metrics = (await client.get("/metrics")).text
            for line in (
                'tryvoha_stream_connections{kind="sse"} 1.0',
                'tryvoha_stream_connections{kind="ws"} 0.0',
                "tryvoha_stream_buffered_events 0.0",
                "tryvoha_stream_last_seq 1.0",
                "tryvoha_stream_delivery_seconds_count 1.0",
                "tryvoha_stream_fanout_seconds_count 1.0",
            ):
                assert line in metrics

    run(scenario)


def test_direct_send_from_outside_the_middleware(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        app, token = new_app(registry)
        app.add_middleware(DirectSendMiddleware)
        async with serving(app) as client, stream(client) as reader:
            await raise_(client, token, OBLAST)
            await reader.wait_events(1)
            assert reader.ids() == [1]
            assert (await client.get("/healthz")).status_code == 200

    run(scenario)


# -- WebSocket --------------------------------------------------------------------------------


@pytest.fixture
def ws_app(registry: RegionRegistry) -> tuple[TestClient, str]:
    app, token = new_app(registry)
    return TestClient(app), token


def post(client: TestClient, token: str, path: str, *regions: str, kind: str = "air_raid") -> Any:
    response = client.post(path, json={"regions": list(regions), "type": kind}, headers=auth(token))
    assert response.status_code in (200, 201), response.text
    return response.json()["events"]


def test_ws_everything_live_by_default(ws_app: tuple[TestClient, str]) -> None:
    client, token = ws_app
    with client, client.websocket_connect("/api/ws") as ws:
        assert ws.receive_json() == {
            "type": "subscribed",
            "regions": None,
            "types": None,
            "after": 0,
        }
        post(client, token, "/api/alerts", OBLAST)
        message = ws.receive_json()
        assert message["type"] == "event"
        assert message["event"] == client.get("/api/events").json()["events"][0]


def test_ws_url_subscription_replays_after(ws_app: tuple[TestClient, str]) -> None:
    client, token = ws_app
    with client:
        post(client, token, "/api/alerts", OBLAST, OTHER_OBLAST, HROMADA)
        with client.websocket_connect(f"/api/ws?after=1&regions={RAION}") as ws:
            assert ws.receive_json() == {
                "type": "subscribed",
                "regions": [RAION],
                "types": None,
                "after": 1,
            }
            assert ws.receive_json()["event"]["seq"] == 3


def test_ws_subscribe_unsubscribe_resume(ws_app: tuple[TestClient, str]) -> None:
    client, token = ws_app
    with client, client.websocket_connect("/api/ws") as ws:
        ws.receive_json()
        ws.send_json({"op": "subscribe", "regions": [HROMADA, OTHER_OBLAST], "types": ["air_raid"]})
        assert ws.receive_json() == {
            "type": "subscribed",
            "regions": [HROMADA, OTHER_OBLAST],
            "types": ["air_raid"],
            "after": 0,
        }
        post(client, token, "/api/alerts", "5", OBLAST)  # 1: elsewhere, 2: covers the hromada
        assert ws.receive_json()["event"]["seq"] == 2
        ws.send_json({"op": "unsubscribe", "regions": [HROMADA]})
        assert ws.receive_json()["regions"] == [OTHER_OBLAST]
        post(client, token, "/api/alerts/lift", OBLAST)  # 3: no longer wanted
        post(client, token, "/api/alerts", OTHER_OBLAST)  # 4
        assert ws.receive_json()["event"]["seq"] == 4
        ws.send_json({"op": "resume", "after": 0})
        assert ws.receive_json()["after"] == 0
        assert [ws.receive_json()["event"]["seq"] for _ in range(1)] == [4]
        ws.send_json({"op": "unsubscribe"})
        assert ws.receive_json()["regions"] == []
        post(client, token, "/api/alerts/lift", OTHER_OBLAST)  # 5: nothing subscribed
        ws.send_json({"op": "resume", "after": 4})
        assert ws.receive_json() == {
            "type": "subscribed",
            "regions": [],
            "types": ["air_raid"],
            "after": 4,
        }
        ws.send_json({"op": "subscribe"})
        assert ws.receive_json()["after"] == 5
        post(client, token, "/api/alerts", OBLAST)
        assert ws.receive_json()["event"]["seq"] == 6


def test_ws_snapshot(ws_app: tuple[TestClient, str]) -> None:
    client, token = ws_app
    with client, client.websocket_connect("/api/ws") as ws:
        ws.receive_json()
        post(client, token, "/api/alerts", OBLAST, OTHER_OBLAST)
        assert [ws.receive_json()["event"]["seq"] for _ in range(2)] == [1, 2]
        ws.send_json({"op": "subscribe", "regions": [OTHER_OBLAST], "snapshot": True})
        assert ws.receive_json()["after"] == 2
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert snapshot["last_seq"] == 2
        assert [a["region_id"] for a in snapshot["alerts"]] == [OTHER_OBLAST]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"op": "dance"}', "unknown op 'dance'"),
        ('{"op": "subscribe", "regions": ["nowhere"]}', "unknown region: 'nowhere'"),
        ('{"op": "subscribe", "types": ["meteor"]}', "unknown alert type: 'meteor'"),
        ('{"op": "subscribe", "regions": "3"}', "regions: expected a list"),
        ('{"op": "subscribe", "after": 99}', "after=99"),
        ('{"op": "subscribe", "snapshot": "yes"}', "snapshot: expected true or false"),
        ('{"op": "resume"}', "after: expected a seq"),
        ('{"op": "resume", "after": -1}', "after: expected a seq"),
        ('{"op": "unsubscribe", "regions": ["3"]}', "subscription is to all regions"),
    ],
)
def test_ws_bad_messages_get_an_error_and_change_nothing(
    ws_app: tuple[TestClient, str], message: str, error: str
) -> None:
    client, token = ws_app
    with client, client.websocket_connect("/api/ws") as ws:
        ws.receive_json()
        ws.send_text(message)
        reply = ws.receive_json()
        assert reply["type"] == "error"
        assert error in reply["message"]
        post(client, token, "/api/alerts", OBLAST)
        assert ws.receive_json()["event"]["seq"] == 1


def test_ws_bad_url_subscription_reports_and_waits(ws_app: tuple[TestClient, str]) -> None:
    client, token = ws_app
    with client, client.websocket_connect("/api/ws?regions=nowhere") as ws:
        assert ws.receive_json() == {"type": "error", "message": "unknown region: 'nowhere'"}
        assert ws.receive_json()["regions"] == []
        ws.send_json({"op": "subscribe", "regions": [OBLAST]})
        assert ws.receive_json()["regions"] == [OBLAST]
        post(client, token, "/api/alerts", OBLAST)
        assert ws.receive_json()["event"]["seq"] == 1


def test_ws_needs_a_valid_token_when_reads_are_private(registry: RegionRegistry) -> None:
    store = MemoryStore()
    token = make_token(store, "reader", Role.READER)
    app = create_app(Settings(public_read=False), store=store, bus=MemoryBus(), registry=registry)
    with TestClient(app) as client:
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/api/ws"):
            pass
        assert refused.value.code == 1008
        with client.websocket_connect("/api/ws", headers=auth(token)) as ws:
            assert ws.receive_json()["type"] == "subscribed"


def test_ws_takes_a_token_in_the_query_as_browsers_must(registry: RegionRegistry) -> None:
    store = MemoryStore()
    token = make_token(store, "reader", Role.READER)
    app = create_app(Settings(public_read=False), store=store, bus=MemoryBus(), registry=registry)
    with TestClient(app) as client:
        with client.websocket_connect(f"/api/ws?access_token={token}") as ws:
            assert ws.receive_json()["type"] == "subscribed"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/api/ws?access_token=tv_not-a-token"),
        ):
            pass
        assert refused.value.code == 1008


def test_sse_takes_a_token_in_the_query_when_reads_are_private(registry: RegionRegistry) -> None:
    """EventSource cannot send a header: `?access_token=` is how a browser reads privately."""

    async def scenario() -> None:
        store = MemoryStore()
        operator = make_token(store, "duty", Role.OPERATOR)
        reader = make_token(store, "map", Role.READER)
        settings = Settings(public_read=False)
        app = create_app(settings, store=store, bus=MemoryBus(), registry=registry)
        async with serving(app) as client:
            assert (await client.get("/api/stream")).status_code == 401
            wrong = await client.get("/api/stream?access_token=tv_not-a-token")
            assert wrong.status_code == 401
            async with stream(client, f"?access_token={reader}") as events:
                await raise_(client, operator, OBLAST)
                assert [e["id"] for e in await events.wait_events(1)] == ["1"]

    run(scenario)


def test_ws_heartbeat(registry: RegionRegistry) -> None:
    app, _token = new_app(registry, heartbeat_s=0.05)
    with TestClient(app) as client, client.websocket_connect("/api/ws") as ws:
        assert ws.receive_json()["type"] == "subscribed"
        assert ws.receive_json() == {"type": "ping"}


def test_ws_slow_consumer_is_closed_with_4008() -> None:
    async def scenario() -> None:
        sent: list[Message] = []
        gate = asyncio.Event()

        async def send(message: Message) -> None:
            await gate.wait()
            sent.append(message)

        subscriber = WsSubscriber(send, EVERYTHING, 2)
        await subscriber.go_live(0)
        for seq in range(1, 5):
            subscriber.offer(seq, {"type": "websocket.send", "text": str(seq)})
        assert subscriber.closed
        gate.set()
        await asyncio.sleep(0.01)
        assert sent == [
            {"type": "websocket.send", "text": "1"},
            {"type": "websocket.close", "code": 4008, "reason": "slow consumer"},
        ]

    run(scenario)
