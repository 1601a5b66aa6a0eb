"""
The service's write path: group commit, all-or-nothing on store failure, several writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from tryvoha.bus.memory import MemoryBus
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import AlertKey, AlertType, Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.service import AlertService, ServiceUnavailable
from tryvoha.storage.base import IdempotencyRecord
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore

AIR = AlertType.AIR_RAID


def command(region: str, up: bool = True) -> Raise | Lift:
    if up:
        return Raise((region,), AIR, actor="duty", source="duty")
    return Lift((region,), AIR, actor="duty", source="duty")


class FailingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def append(
        self, events: Sequence[Event], idempotency: Sequence[IdempotencyRecord] = ()
    ) -> None:
        if self.fail:
            raise OSError("disk full")
        super().append(events, idempotency)


async def started(store: MemoryStore | SQLiteStore, registry: RegionRegistry) -> AlertService:
    service = AlertService(store, MemoryBus(), registry)
    await service.start()
    return service


def test_concurrent_commands_share_commits_and_stay_gap_free(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        store = MemoryStore()
        service = await started(store, registry)
        oblasts = [r.id for r in registry.oblasts()]
        results = await asyncio.gather(*(service.execute(command(r)) for r in oblasts))
        assert all(r.status_code == 201 for r in results)
        assert [e.seq for e in store.read_events(0, 1000)] == list(range(1, len(oblasts) + 1))
        assert service.commits < len(oblasts)
        await service.stop()

    asyncio.run(scenario())


def test_store_failure_applies_nothing(registry: RegionRegistry) -> None:
    async def scenario() -> None:
        store = FailingStore()
        service = await started(store, registry)
        await service.execute(command("14"))
        store.fail = True
        with pytest.raises(ServiceUnavailable, match="disk full"):
            await service.execute(command("31"))
        assert service.active.get(AlertKey("31", AIR)) is None
        assert service.last_seq == 1
        store.fail = False
        result = await service.execute(command("31"))
        assert result.events[0].seq == 2
        await service.stop()

    asyncio.run(scenario())


def test_restart_rebuilds_state_from_the_log(tmp_path: Path, registry: RegionRegistry) -> None:
    async def scenario() -> None:
        path = tmp_path / "log.db"
        first = await started(SQLiteStore(path), registry)
        await first.execute(command("14"))
        await first.execute(command("31"))
        await first.execute(command("14", up=False))
        await first.stop()
        first.store.close()
        second = await started(SQLiteStore(path), registry)
        assert [a.region_id for a in second.active] == ["31"]
        assert second.last_seq == 3
        result = await second.execute(command("31", up=False))
        assert result.events[0].seq == 4
        await second.stop()
        second.store.close()

    asyncio.run(scenario())


def test_two_writers_on_one_log_keep_one_order(tmp_path: Path, registry: RegionRegistry) -> None:
    """A second process's writes make the first catch up and decide again, not fork the log."""

    async def scenario() -> None:
        path = tmp_path / "shared.db"
        a = await started(SQLiteStore(path), registry)
        b = await started(SQLiteStore(path), registry)
        await a.execute(command("14"))
        # b has not seen a's raise: its decision must be made against the log, not its copy.
        result = await b.execute(command("14"))
        assert result.events == ()
        assert b.active.get(AlertKey("14", AIR)) is not None
        await b.execute(command("14", up=False))
        assert a.active.get(AlertKey("14", AIR)) is not None
        await a.execute(command("31"))
        assert a.active.get(AlertKey("14", AIR)) is None
        events = a.store.read_events(0, 100)
        assert [e.seq for e in events] == [1, 2, 3]
        assert [e.kind.value for e in events] == ["alert.raised", "alert.lifted", "alert.raised"]
        for service in (a, b):
            await service.stop()
            service.store.close()

    asyncio.run(scenario())
