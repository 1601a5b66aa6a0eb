"""
The fan-out hub: one gap-free sequence per connection, the seam between log and live events,
filters, snapshots, heartbeats, and slow consumers that never hold anyone up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from tryvoha.bus.memory import MemoryBus
from tryvoha.core.codec import event_to_dict
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import AlertType, Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery import hub as hub_module
from tryvoha.delivery.hub import CursorAhead, Hub, StreamOptions
from tryvoha.delivery.subscriber import (
    EVERYTHING,
    EndReason,
    Message,
    StreamFilter,
    Subscriber,
    make_filter,
)
from tryvoha.service import AlertService
from tryvoha.storage.memory import MemoryStore

AIR = AlertType.AIR_RAID
OBLAST, RAION, HROMADA, OTHER_OBLAST = "3", "134", "1377", "4"


class Recorder(Subscriber):
    """A subscriber whose connection is a list; `gate` can hold its sends (a full socket)."""

    __slots__ = ("gate", "sent")
    kind = "test"
    kind_index = 0

    def __init__(self, stream_filter: StreamFilter = EVERYTHING, limit: int = 1000) -> None:
        self.sent: list[Message] = []
        self.gate: asyncio.Event | None = None
        super().__init__(self._record, stream_filter, limit)

    async def _record(self, message: Message) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append(message)

    def ping_message(self) -> Message:
        return {"ping": True}

    def snapshot_message(self, last_seq: int, alerts: list[dict[str, Any]]) -> Message:
        return {"snapshot": last_seq, "alerts": alerts}

    def end_message(self, reason: EndReason) -> Message:
        return {"end": reason.value}

    def seqs(self) -> list[int]:
        return [orjson.loads(m["body"].split(b"data: ", 1)[1])["seq"] for m in self.events()]

    def events(self) -> list[Message]:
        return [m for m in self.sent if "body" in m]


class DroppingBus(MemoryBus):
    """Loses the publishes it is told to: what a broker outage looks like to a consumer."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = False

    async def publish(self, events: Sequence[Event]) -> None:
        if not self.drop:
            await super().publish(events)


class HeldBus(MemoryBus):
    """Holds publishes back until released: a bus running behind the node's own state."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Sequence[Event]] | None = None

    async def publish(self, events: Sequence[Event]) -> None:
        if self.held is None:
            await super().publish(events)
        else:
            self.held.append(events)

    async def release(self) -> None:
        held, self.held = self.held or [], None
        for events in held:
            await super().publish(events)


def raise_(*regions: str, alert_type: AlertType = AIR) -> Raise:
    return Raise(tuple(regions), alert_type, actor="duty", source="duty")


def lift(*regions: str, alert_type: AlertType = AIR) -> Lift:
    return Lift(tuple(regions), alert_type, actor="duty", source="duty")


@asynccontextmanager
async def running_hub(
    registry: RegionRegistry, bus: MemoryBus | None = None, **options: Any
) -> AsyncIterator[tuple[AlertService, Hub]]:
    service = AlertService(MemoryStore(), bus or MemoryBus(), registry)
    await service.start()
    hub = Hub(service, StreamOptions(**options))
    await hub.start()
    try:
        yield service, hub
    finally:
        await hub.stop()
        await service.stop()


async def settle() -> None:
    """Let the bus and the hub's pump run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5.0):
        # The conditions span the hub, the service and the subscribers: polling is simplest.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.001)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


def test_live_events_arrive_once_in_order_with_the_frame_of_the_event(
    registry: RegionRegistry,
) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            subscriber = Recorder()
            hub.attach(subscriber)
            assert await hub.open(subscriber) == 0
            raised = await service.execute(raise_(OBLAST, OTHER_OBLAST))
            await service.execute(lift(OBLAST))
            await until(lambda: len(subscriber.events()) == 3)
            assert subscriber.seqs() == [1, 2, 3]
            first = subscriber.events()[0]["body"]
            data = orjson.dumps(event_to_dict(raised.events[0]))
            assert first == b"id: 1\nevent: alert.raised\ndata: " + data + b"\n\n"
            assert hub.last_seq == 3

    run(scenario)


def test_resume_from_the_log_then_live_without_gap_or_duplicate(
    registry: RegionRegistry,
) -> None:
    """Events keep coming while the backlog is sent slowly: the seam holds."""

    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            oblasts = [r.id for r in registry.oblasts()]
            for region in oblasts[:10]:
                await service.execute(raise_(region))
            subscriber = Recorder()
            subscriber.gate = asyncio.Event()
            hub.attach(subscriber)
            opening = asyncio.create_task(hub.open(subscriber, after=3))
            # While the backlog is stuck behind the gate, more events commit.
            for region in oblasts[10:20]:
                await service.execute(raise_(region))
            await settle()
            subscriber.gate.set()
            await opening
            for region in oblasts[:5]:
                await service.execute(lift(region))
            await until(lambda: len(subscriber.events()) == 22)
            assert subscriber.seqs() == list(range(4, 26))

    run(scenario)


@pytest.mark.parametrize("recent", [4096, 4], ids=["from-memory", "from-the-log"])
def test_replay_reads_memory_or_the_log(
    registry: RegionRegistry, monkeypatch: pytest.MonkeyPatch, recent: int
) -> None:
    monkeypatch.setattr(hub_module, "RECENT_EVENTS", recent)

    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            for region in [r.id for r in registry.oblasts()][:12]:
                await service.execute(raise_(region))
            await until(lambda: hub.last_seq == 12)
            subscriber = Recorder()
            hub.attach(subscriber)
            await hub.open(subscriber, after=2)
            assert subscriber.seqs() == list(range(3, 13))

    run(scenario)


def test_a_gap_on_the_bus_is_filled_from_the_log(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        bus = DroppingBus()
        async with running_hub(registry, bus) as (service, hub):
            subscriber = Recorder()
            hub.attach(subscriber)
            await hub.open(subscriber)
            await service.execute(raise_(OBLAST))
            bus.drop = True
            await service.execute(raise_(OTHER_OBLAST))
            await service.execute(lift(OBLAST))
            bus.drop = False
            await service.execute(lift(OTHER_OBLAST))
            await until(lambda: len(subscriber.events()) == 4)
            assert subscriber.seqs() == [1, 2, 3, 4]

    run(scenario)


def test_duplicates_from_the_bus_are_dropped(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        bus = MemoryBus()
        async with running_hub(registry, bus) as (service, hub):
            subscriber = Recorder()
            hub.attach(subscriber)
            await hub.open(subscriber)
            result = await service.execute(raise_(OBLAST))
            await bus.publish(result.events)
            await service.execute(lift(OBLAST))
            await until(lambda: hub.last_seq == 2)
            await settle()
            assert subscriber.seqs() == [1, 2]

    run(scenario)


def test_region_filter_takes_descendants_and_covering_ancestors(
    registry: RegionRegistry,
) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            subscriber = Recorder(make_filter(registry, [RAION], None))
            hub.attach(subscriber)
            await hub.open(subscriber)
            # oblast (covers the raion), hromada (inside it), another oblast (unrelated)
            await service.execute(raise_(OBLAST, HROMADA, OTHER_OBLAST))
            await service.execute(raise_(RAION, alert_type=AlertType.ARTILLERY_SHELLING))
            await until(lambda: hub.last_seq == 4)
            await settle()
            regions = [
                orjson.loads(m["body"].split(b"data: ", 1)[1])["alert"]["region_id"]
                for m in subscriber.events()
            ]
            assert regions == [OBLAST, HROMADA, RAION]

    run(scenario)


def test_type_filter(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            subscriber = Recorder(make_filter(registry, None, ["artillery_shelling"]))
            hub.attach(subscriber)
            await hub.open(subscriber)
            await service.execute(raise_(OBLAST))
            await service.execute(raise_(OBLAST, alert_type=AlertType.ARTILLERY_SHELLING))
            await until(lambda: hub.last_seq == 2)
            await settle()
            assert subscriber.seqs() == [2]

    run(scenario)


def test_snapshot_first_then_only_later_events(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            await service.execute(raise_(OBLAST, OTHER_OBLAST))
            await service.execute(lift(OTHER_OBLAST))
            subscriber = Recorder(make_filter(registry, [HROMADA], None))
            hub.attach(subscriber)
            assert await hub.open(subscriber, snapshot=True) == 3
            await service.execute(raise_(HROMADA))
            await until(lambda: len(subscriber.sent) == 2)
            snapshot, event = subscriber.sent
            assert snapshot["snapshot"] == 3
            assert [a["region_id"] for a in snapshot["alerts"]] == [OBLAST]
            assert subscriber.seqs() == [4]
            assert event is subscriber.events()[0]

    run(scenario)


def test_a_snapshot_ahead_of_the_bus_is_not_followed_by_what_it_holds(
    registry: RegionRegistry,
) -> None:
    """The bus delivers events the snapshot already reflects while the snapshot is sent."""

    async def scenario() -> None:
        bus = HeldBus()
        async with running_hub(registry, bus) as (service, hub):
            await service.execute(raise_(OBLAST))
            bus.held = []
            await service.execute(raise_(OTHER_OBLAST))
            await service.execute(lift(OBLAST))
            await until(lambda: hub.last_seq == 1)
            subscriber = Recorder()
            subscriber.gate = asyncio.Event()
            hub.attach(subscriber)
            opening = asyncio.create_task(hub.open(subscriber, snapshot=True))
            await settle()
            await bus.release()
            await until(lambda: hub.last_seq == 3)
            subscriber.gate.set()
            assert await opening == 3
            await service.execute(lift(OTHER_OBLAST))
            await until(lambda: len(subscriber.sent) == 2)
            snapshot = subscriber.sent[0]
            assert [a["region_id"] for a in snapshot["alerts"]] == [OTHER_OBLAST]
            assert subscriber.seqs() == [4]

    run(scenario)


def test_heartbeat_pings_live_connections(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry, heartbeat_s=0.01) as (_service, hub):
            subscriber = Recorder()
            hub.attach(subscriber)
            await hub.open(subscriber)
            await until(lambda: subscriber.sent.count({"ping": True}) >= 2)

    run(scenario)


def test_a_stalled_connection_is_ended_and_delays_nobody(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            fast = Recorder(limit=5)
            stalled = Recorder(limit=5)
            for subscriber in (fast, stalled):
                hub.attach(subscriber)
                await hub.open(subscriber)
            stalled.gate = asyncio.Event()  # its socket is full from now on
            oblasts = [r.id for r in registry.oblasts()][:12]
            await service.execute(raise_(*oblasts))
            await until(lambda: len(fast.events()) == 12)
            assert fast.seqs() == list(range(1, 13))
            assert stalled.closed and stalled.end_reason is EndReason.SLOW
            assert stalled.buffered == 0
            assert hub.connections == 1
            # The send it was stuck in completes once the client reads, then the end.
            stalled.gate.set()
            await until(lambda: stalled.sent[-1:] == [{"end": "slow consumer"}])
            assert stalled.seqs() == [1]

    run(scenario)


def test_events_wait_while_a_send_is_suspended_then_follow_in_order(
    registry: RegionRegistry,
) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            subscriber = Recorder(limit=100)
            hub.attach(subscriber)
            await hub.open(subscriber)
            subscriber.gate = asyncio.Event()
            await service.execute(raise_(OBLAST, OTHER_OBLAST, RAION))
            await until(lambda: subscriber.buffered == 2)
            subscriber.gate.set()
            await until(lambda: len(subscriber.events()) == 3)
            assert subscriber.seqs() == [1, 2, 3]
            assert not subscriber.closed

    run(scenario)


def test_stop_ends_every_stream(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (_service, hub):
            subscriber = Recorder()
            hub.attach(subscriber)
            await hub.open(subscriber)
        assert subscriber.sent == [{"end": "server shutting down"}]

    run(scenario)


def test_a_cursor_past_the_log_is_refused(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        async with running_hub(registry) as (service, hub):
            await service.execute(raise_(OBLAST))
            assert hub.check_after(1) == 1
            with pytest.raises(CursorAhead, match="after=2"):
                hub.check_after(2)

    run(scenario)
