"""
What the webhook and MQTT tests share: a small region tree, a virtual clock, a real
HTTP receiver on loopback, and a running service with webhook delivery around it.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry

from tryvoha.bus.memory import MemoryBus
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import AlertType, Event, Region, RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.dispatcher import Dispatcher, Timing
from tryvoha.delivery.feed import EventFeed
from tryvoha.delivery.formats import BodyFormats, builtin_formats
from tryvoha.delivery.metrics import WebhookMetrics
from tryvoha.delivery.options import WebhookOptions
from tryvoha.delivery.outbox import MemoryOutbox, Outbox
from tryvoha.delivery.registry import WebhookRegistry
from tryvoha.delivery.signing import EVENT_ID_HEADER
from tryvoha.delivery.urlguard import UrlPolicy
from tryvoha.service import AlertService
from tryvoha.storage.base import Store
from tryvoha.storage.memory import MemoryStore

T0 = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)
AIR = AlertType.AIR_RAID
SHELLING = AlertType.ARTILLERY_SHELLING


def small_registry() -> RegionRegistry:
    """Three oblast-level units; "3" and "4" have a raion with one hromada each."""
    o, r, h = RegionLevel.OBLAST, RegionLevel.RAION, RegionLevel.HROMADA
    return RegionRegistry(
        [
            Region("3", o, None, "Хмельницька область", "Khmelnytskyi oblast"),
            Region("4", o, None, "Вінницька область", "Vinnytsia oblast"),
            Region("31", o, None, "м. Київ", "Kyiv"),
            Region("30", r, "3", "Шепетівський район", "Shepetivka raion"),
            Region("300", h, "30", "Шепетівська громада", "Shepetivka hromada"),
            Region("40", r, "4", "Вінницький район", "Vinnytsia raion"),
            Region("400", h, "40", "Вінницька громада", "Vinnytsia hromada"),
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VirtualClock:
    """
    A clock that only moves when someone sleeps on it; sleeping returns at once.

    Callbacks run after each move (before the sleeper resumes), so a test can change the
    world at a given virtual time.
    """

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.on_move: list[Callable[[datetime], None]] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(seconds, 0.0))
        for callback in self.on_move:
            callback(self.now)
        await asyncio.sleep(0)

    def timing(self, seed: int = 7) -> Timing:
        return Timing(clock=self, sleep=self.sleep, rng=random.Random(seed))


# -- a real HTTP receiver -------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def seq(self) -> int:
        return int(self.headers[EVENT_ID_HEADER.lower()])


class Receiver:
    """
    An HTTP server on 127.0.0.1 that records every POST and answers `answer(request)`.

    `stop()` closes the listening socket (connections are refused until `start()` again on
    the same port); every response closes its connection, so nothing lingers.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.answer: Callable[[Received], int] = lambda _request: 200
        self.delay = 0.0
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook = headers.get("x-tryvoha-webhook-id", "")
                with receiver._lock:
                    count = receiver._in_flight.get(webhook, 0) + 1
                    receiver._in_flight[webhook] = count
                    receiver.max_in_flight[webhook] = max(
                        receiver.max_in_flight.get(webhook, 0), count
                    )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.answer(Received(0, headers, body))
                with receiver._lock:
                    receiver._in_flight[webhook] -= 1
                    receiver.requests.append(Received(status, headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self, webhook_id: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.requests
                if 200 <= r.status < 300
                and (webhook_id is None or r.headers.get("x-tryvoha-webhook-id") == webhook_id)
            ]

    def accepted_seqs(self, webhook_id: str | None = None) -> list[int]:
        return [r.seq for r in self.accepted(webhook_id)]

    def wait(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Block (a sync test) until *condition* holds; fail after *within* seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {len(self.requests)} requests")
            time.sleep(0.01)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll *condition* (in real time) until it holds; fail after *within* seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


# -- a running service with webhook delivery ------------------------------------------------


@dataclass
class Delivery:
    service: AlertService
    feed: EventFeed
    dispatcher: Dispatcher
    webhooks: WebhookRegistry
    outbox: Outbox
    metrics: WebhookMetrics
    metrics_registry: CollectorRegistry

    async def raise_(self, *regions: str, type: AlertType = AIR) -> list[Event]:
        command = Raise(tuple(regions), type, actor="duty", source="duty")
        return list((await self.service.execute(command)).events)

    async def lift(self, *regions: str, type: AlertType = AIR) -> list[Event]:
        command = Lift(tuple(regions), type, actor="duty", source="duty")
        return list((await self.service.execute(command)).events)


@asynccontextmanager
async def running_delivery(
    clock: Callable[[], datetime],
    timing: Timing,
    *,
    store: Store | None = None,
    outbox: Outbox | None = None,
    options: WebhookOptions | None = None,
    formats: BodyFormats | None = None,
) -> AsyncIterator[Delivery]:
    registry = small_registry()
    service = AlertService(store or MemoryStore(), MemoryBus(), registry, clock=clock)
    await service.start()
    feed = EventFeed(service)
    await feed.start()
    outbox = outbox or MemoryOutbox()
    options = options or WebhookOptions(url_policy=UrlPolicy(allow_private=True))
    metrics_registry = CollectorRegistry()
    metrics = WebhookMetrics(metrics_registry)
    formats = formats or builtin_formats()
    dispatcher = Dispatcher(
        feed=feed,
        outbox=outbox,
        regions=registry,
        formats=formats,
        metrics=metrics,
        options=options,
        timing=timing,
    )
    await dispatcher.start(outbox.list_webhooks())
    webhooks = WebhookRegistry(
        outbox=outbox,
        dispatcher=dispatcher,
        regions=registry,
        formats=formats,
        last_seq=lambda: feed.last_seq,
        clock=clock,
        options=options,
    )
    try:
        yield Delivery(service, feed, dispatcher, webhooks, outbox, metrics, metrics_registry)
    finally:
        await dispatcher.stop()
        await feed.stop()
        await service.stop()
