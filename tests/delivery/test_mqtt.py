"""
MQTT publishing against the real Mosquitto on 127.0.0.1:1883 (required in CI, skipped
elsewhere when it is not running). Each test publishes under a topic prefix of its own and
clears its retained messages afterwards.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import aiomqtt
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from tests.backends import require_service
from tests.delivery.delivery_support import AIR, SHELLING, small_registry, until
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.codec import event_to_dict
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import AlertLevel, AlertType, Event
from tryvoha.delivery.feed import EventFeed
from tryvoha.delivery.metrics import MqttMetrics
from tryvoha.delivery.mqtt import MqttPublisher
from tryvoha.delivery.mqtt_topics import cursor_of
from tryvoha.delivery.options import MqttOptions
from tryvoha.service import AlertService
from tryvoha.storage.memory import MemoryStore
from tryvoha.tokens import create_token

BROKER = ("127.0.0.1", 1883)

pytestmark = [pytest.mark.anyio, pytest.mark.mqtt]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _broker() -> None:
    require_service("Mosquitto", *BROKER)


@pytest.fixture(name="prefix")
def _prefix() -> Iterator[str]:
    prefix = f"tryvoha-test-{secrets.token_hex(4)}"
    yield prefix
    # On a thread of its own: sync and async tests alike leave no loop running here.
    cleaner = threading.Thread(target=asyncio.run, args=(clear_retained(prefix),))
    cleaner.start()
    cleaner.join()


async def clear_retained(prefix: str) -> None:
    async with aiomqtt.Client(*BROKER) as client:
        await client.subscribe(f"{prefix}/#")
        topics: list[str] = []
        with suppress(TimeoutError):
            async with asyncio.timeout(0.3):
                async for message in client.messages:
                    if message.retain:
                        topics.append(message.topic.value)
        for topic in topics:
            await client.publish(topic, b"", qos=1, retain=True)


async def read(topic_filter: str, count: int, within: float = 5.0) -> list[aiomqtt.Message]:
    """The first *count* messages a new subscriber to *topic_filter* gets."""
    async with aiomqtt.Client(*BROKER) as client:
        await client.subscribe(topic_filter, qos=1)
        received: list[aiomqtt.Message] = []
        async with asyncio.timeout(within):
            async for message in client.messages:
                received.append(message)
                if len(received) == count:
                    return received
    raise AssertionError("unreachable")


def status_of(message: aiomqtt.Message) -> dict[str, object]:
    assert isinstance(message.payload, bytes)
    return orjson.loads(message.payload)  # type: ignore[no-any-return]


class TcpProxy:
    """A loopback TCP relay to the broker that a test can cut and stop listening."""

    def __init__(self) -> None:
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def listen(self) -> None:
        """Accept connections (again) on the same port."""
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*BROKER)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def cut(self) -> None:
        """Stop listening (new connections are refused) and break every relayed one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()


@dataclass
class Running:
    service: AlertService
    publisher: MqttPublisher
    metrics: MqttMetrics

    async def raise_(self, *regions: str, type: AlertType = AIR, **extra: object) -> list[Event]:
        command = Raise(tuple(regions), type, actor="duty", source="duty", **extra)  # type: ignore[arg-type]
        return list((await self.service.execute(command)).events)

    async def lift(self, *regions: str, type: AlertType = AIR) -> list[Event]:
        command = Lift(tuple(regions), type, actor="duty", source="duty")
        return list((await self.service.execute(command)).events)


def new_publisher(
    service: AlertService, feed: EventFeed, prefix: str, port: int = BROKER[1]
) -> MqttPublisher:
    return MqttPublisher(
        options=MqttOptions(
            url=f"mqtt://127.0.0.1:{port}",
            topic_prefix=prefix,
            reconnect_base_seconds=0.05,
            reconnect_cap_seconds=0.2,
        ),
        service=service,
        registry=service.registry,
        feed=feed,
        metrics=MqttMetrics(CollectorRegistry()),
        rng=random.Random(3),
    )


@asynccontextmanager
async def publishing(prefix: str, port: int = BROKER[1]) -> AsyncIterator[Running]:
    service = AlertService(MemoryStore(), MemoryBus(), small_registry())
    await service.start()
    feed = EventFeed(service)
    await feed.start()
    publisher = new_publisher(service, feed, prefix, port)
    running = Running(service, publisher, publisher.metrics)
    try:
        yield running
    finally:
        await publisher.stop()
        await feed.stop()
        await service.stop()


async def event_seqs(subscriber: aiomqtt.Client, count: int) -> list[int]:
    """The seqs of the next *count* events *subscriber* gets."""
    seqs: list[int] = []
    async with asyncio.timeout(5):
        async for message in subscriber.messages:
            assert isinstance(message.payload, bytes)
            seqs.append(orjson.loads(message.payload)["seq"])
            if len(seqs) == count:
                return seqs
    raise AssertionError("unreachable")


async def test_a_new_subscriber_gets_every_oblast_status_retained(prefix: str) -> None:
    async with publishing(prefix) as running:
        await running.raise_("4", level=AlertLevel.WARNING)
        await running.raise_("300")
        await running.raise_("31", type=SHELLING)
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        messages = await read(f"{prefix}/oblasts/+/status", 3)
    assert all(m.retain and m.qos == 1 for m in messages)
    by_topic = {m.topic.value: status_of(m) for m in messages}
    assert set(by_topic) == {f"{prefix}/oblasts/{r}/status" for r in ("3", "4", "31")}
    three, four, kyiv = (by_topic[f"{prefix}/oblasts/{r}/status"] for r in ("3", "4", "31"))
    assert (three["status"], three["level"]) == ("partial", "alert")
    assert (four["status"], four["level"]) == ("active", "warning")
    assert kyiv["status"] == "active"
    assert kyiv["types"]["artillery_shelling"] == {"status": "active", "level": "alert"}  # type: ignore[index]
    assert kyiv["types"]["air_raid"] == {"status": "none", "level": None}  # type: ignore[index]
    assert three["region_id"] == "3" and three["seq"] == 3
    hromada = await read(f"{prefix}/regions/300/status", 1)
    assert status_of(hromada[0])["status"] == "active"


async def test_the_server_status_says_online_then_offline(prefix: str) -> None:
    topic = f"{prefix}/server/status"
    async with publishing(prefix) as running:
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        assert status_of((await read(topic, 1))[0]) == {"online": True}
    assert status_of((await read(topic, 1))[0]) == {"online": False}


async def test_events_arrive_in_order_with_qos_1(prefix: str) -> None:
    async with publishing(prefix) as running:
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        async with aiomqtt.Client(*BROKER) as subscriber:
            await subscriber.subscribe(f"{prefix}/events", qos=1)
            events: list[Event] = []
            events += await running.raise_("3", "4")
            events += await running.lift("3")
            events += await running.raise_("400", type=SHELLING)
            events += await running.raise_("31")
            received: list[aiomqtt.Message] = []
            async with asyncio.timeout(5):
                async for message in subscriber.messages:
                    received.append(message)
                    if len(received) == len(events):
                        break
    assert [m.qos for m in received] == [1] * len(events)
    assert not any(m.retain for m in received)
    assert [orjson.loads(m.payload) for m in received] == [event_to_dict(e) for e in events]
    assert running.metrics.publishes.labels("event")._value.get() == len(events)


async def test_a_new_publisher_resumes_after_the_last_acknowledged_event(prefix: str) -> None:
    """Events committed while no publisher ran (a restart, a new leader) are sent late."""
    async with publishing(prefix) as running, aiomqtt.Client(*BROKER) as subscriber:
        await subscriber.subscribe(f"{prefix}/events", qos=1)
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        sent = await running.raise_("3")
        assert await event_seqs(subscriber, 1) == [sent[0].seq]
        await until(lambda: running.publisher.sent_seq == sent[0].seq)
        await running.publisher.stop()

        missed = await running.raise_("4") + await running.lift("3")
        feed = running.publisher._feed
        successor = new_publisher(running.service, feed, prefix)
        await successor.start()
        try:
            await asyncio.wait_for(successor.wait_synced(), 5)
            later = await running.raise_("31")
            seqs = await event_seqs(subscriber, 3)
            stored = await read(f"{prefix}/server/events_sent", 1)
        finally:
            await successor.stop()
    assert seqs == [e.seq for e in missed + later]
    assert stored[0].retain and orjson.loads(stored[0].payload) == {"seq": later[0].seq}


@pytest.mark.parametrize(
    ("payload", "seq"),
    [(b'{"seq": 5}', 5), (b'{"seq": 0}', 0), (b"", None), (b"{}", None), (b"[1]", None),
     (b"not json", None), (b'{"seq": -1}', None), (b'{"seq": true}', None),
     (b'{"seq": "5"}', None), (None, None)],
)  # fmt: skip
def test_a_record_on_the_broker_is_read_strictly(payload: bytes | None, seq: int | None) -> None:
    assert cursor_of(payload) == seq


async def test_without_a_record_on_the_broker_a_publisher_starts_from_now(prefix: str) -> None:
    async with publishing(prefix) as running, aiomqtt.Client(*BROKER) as subscriber:
        await subscriber.subscribe(f"{prefix}/events", qos=1)
        await running.raise_("3")
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        later = await running.raise_("4")
        assert await event_seqs(subscriber, 1) == [later[0].seq]


async def test_raise_and_lift_flip_the_retained_status(prefix: str) -> None:
    topic = f"{prefix}/regions/31/status"
    async with publishing(prefix) as running:
        await running.publisher.start()
        await asyncio.wait_for(running.publisher.wait_synced(), 5)
        assert status_of((await read(topic, 1))[0])["status"] == "none"
        [raised] = await running.raise_("31")
        await until(lambda: running.publisher.sent_seq == raised.seq)
        await asyncio.sleep(0.05)
        now = status_of((await read(topic, 1))[0])
        assert (now["status"], now["level"], now["seq"]) == ("active", "alert", raised.seq)
        [lifted] = await running.lift("31")
        await until(lambda: running.publisher.sent_seq == lifted.seq)
        await asyncio.sleep(0.05)
        assert status_of((await read(topic, 1))[0])["status"] == "none"
        oblast = await read(f"{prefix}/oblasts/31/status", 1)
        assert status_of(oblast[0])["seq"] == lifted.seq


async def test_a_dropped_connection_is_restored_and_nothing_is_lost(prefix: str) -> None:
    proxy = TcpProxy()
    await proxy.listen()
    try:
        async with publishing(prefix, proxy.port) as running, aiomqtt.Client(*BROKER) as watcher:
            await watcher.subscribe(f"{prefix}/events", qos=1)
            await watcher.subscribe(f"{prefix}/server/status", qos=1)
            await running.publisher.start()
            await asyncio.wait_for(running.publisher.wait_synced(), 5)

            await proxy.cut()
            await until(lambda: not running.publisher.synced)
            missed = await running.raise_("4")
            await asyncio.sleep(0.3)  # a few refused reconnects
            await proxy.listen()
            await asyncio.wait_for(running.publisher.wait_synced(), 5)

            received: list[aiomqtt.Message] = []
            async with asyncio.timeout(5):
                async for message in watcher.messages:
                    received.append(message)
                    if message.topic.value.endswith("/events"):
                        break
            status = status_of((await read(f"{prefix}/oblasts/4/status", 1))[0])
            failures = running.metrics.connect_failures._value.get()
            connects = running.metrics.connects._value.get()
    finally:
        await proxy.cut()
    server = [status_of(m) for m in received if m.topic.value.endswith("/server/status")]
    assert {"online": False} in server  # the broker sent the will when the link broke
    events = [orjson.loads(m.payload) for m in received if m.topic.value.endswith("/events")]
    assert [e["seq"] for e in events] == [missed[0].seq]
    assert status["status"] == "active" and status["seq"] == missed[0].seq
    assert failures >= 2 and connects == 2


def test_the_app_publishes_when_configured(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`TRYVOHA_MQTT_URL` turns publishing on; the metrics show the connection."""
    monkeypatch.setenv("TRYVOHA_MQTT_TOPIC_PREFIX", prefix)
    store = MemoryStore()
    token = create_token(store, name="duty", role=Role.OPERATOR)
    settings = Settings(mqtt_url=f"mqtt://{BROKER[0]}:{BROKER[1]}")
    app = create_app(settings, store=store, bus=MemoryBus(), registry=small_registry())
    with TestClient(app) as client:
        publisher: MqttPublisher = app.state.mqtt
        answer = client.post(
            "/api/alerts", json={"regions": ["4"]}, headers={"Authorization": f"Bearer {token}"}
        )
        [seq] = answer.json()["events"]
        end = time.monotonic() + 5
        while publisher.sent_seq < seq and time.monotonic() < end:
            time.sleep(0.01)
        metrics = client.get("/metrics").text
        messages = client.portal.call(read, f"{prefix}/oblasts/4/status", 1)  # type: ignore[union-attr]
    assert publisher.sent_seq == seq
    assert status_of(messages[0])["status"] == "active"
    assert "tryvoha_mqtt_connected 1.0" in metrics
    assert 'tryvoha_mqtt_publishes_total{kind="event"} 1.0' in metrics
