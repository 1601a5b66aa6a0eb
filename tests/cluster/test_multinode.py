"""
Three `tryvoha serve` nodes on one PostgreSQL log and one NATS stream; one is killed with
SIGKILL in the middle of a burst of 1,000 raises and lifts, then started again.

Afterwards every acknowledged event is in the log exactly once, the log runs 1..n without a
gap, every SSE reader (resuming on another node when its node died) has every event exactly
once and in order, and every node's active alerts are the same.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from tests.cluster.nodes import (
    Backends,
    Node,
    StreamReader,
    eventually,
    running_nodes,
    shared_backends,
)
from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.postgres import PostgresStore

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.nats]

OPERATORS = 20
COMMANDS_EACH = 50
REGIONS_EACH = 5
KILL_AT = 300
RESTART_AT = 600
READERS_PER_NODE = 3


@dataclass
class Operator:
    """Raises and lifts its own hromadas in turn; retries a failed request elsewhere."""

    number: int
    regions: list[str]
    token: str
    acks: list[tuple[str, str, list[int]]] = field(default_factory=list)
    retries: int = 0
    replayed: int = 0

    def command(self, n: int) -> tuple[str, str]:
        region = self.regions[n % len(self.regions)]
        verb = "raise" if (n // len(self.regions)) % 2 == 0 else "lift"
        return verb, region

    async def _send(
        self,
        client: httpx.AsyncClient,
        nodes: list[Node],
        n: int,
        path: str,
        body: dict[str, object],
        headers: dict[str, str],
    ) -> httpx.Response:
        """Until a node acknowledges: a node that is down or failed gets the same key again."""
        for attempt in itertools.count():
            node = nodes[(self.number + n + attempt) % len(nodes)]
            try:
                response = await client.post(
                    node.url + path, json=body, headers=headers, timeout=15
                )
            except httpx.HTTPError:
                self.retries += 1
                await asyncio.sleep(0.02)
                continue
            if response.status_code in (200, 201):
                return response
            if response.status_code < 500:
                raise AssertionError(f"{path} {body}: {response.text}")
            self.retries += 1
            await asyncio.sleep(0.02)
        raise AssertionError("unreachable")

    async def run(self, client: httpx.AsyncClient, nodes: list[Node], acked: list[int]) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        for n in range(COMMANDS_EACH):
            verb, region = self.command(n)
            path = "/api/alerts" if verb == "raise" else "/api/alerts/lift"
            body: dict[str, object] = {"regions": [region], "type": "air_raid"}
            key = {"Idempotency-Key": f"op{self.number}-{n}"}
            response = await self._send(client, nodes, n, path, body, headers | key)
            answer = orjson.loads(response.content)
            self.replayed += response.headers.get("Idempotency-Replayed") == "true"
            self.acks.append((verb, region, answer["events"]))
            acked[0] += 1


def hromadas(registry: RegionRegistry, count: int) -> list[str]:
    ids = sorted(r.id for r in registry if r.level is RegionLevel.HROMADA)
    return ids[:count]


@dataclass
class Outcome:
    operators: list[Operator]
    readers: list[StreamReader]
    total: int
    active: list[list[str]]
    seconds: float


async def burst(nodes: list[Node], backends: Backends, registry: RegionRegistry) -> Outcome:
    regions = hromadas(registry, OPERATORS * REGIONS_EACH)
    operators = [
        Operator(i, regions[i * REGIONS_EACH : (i + 1) * REGIONS_EACH], backends.operator_token)
        for i in range(OPERATORS)
    ]
    readers = [
        StreamReader(nodes, home=n) for n in range(len(nodes)) for _ in range(READERS_PER_NODE)
    ]
    victim = nodes[1]
    acked = [0]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(limits=limits) as client:
        reading = [asyncio.create_task(r.run(client)) for r in readers]
        await asyncio.sleep(0.5)  # the readers are attached before the first raise
        started = time.monotonic()
        writing = [asyncio.create_task(o.run(client, nodes, acked)) for o in operators]

        await eventually(lambda: _reached(acked, KILL_AT), 60, "the first acks")
        victim.kill()
        await eventually(lambda: _reached(acked, RESTART_AT), 60, "acks after the kill")
        await asyncio.to_thread(victim.start)
        await asyncio.gather(*writing)
        await asyncio.to_thread(victim.wait_ready)

        total = sum(len(events) for o in operators for _, _, events in o.acks)
        late = StreamReader(nodes, home=1, after=0)
        reading.append(asyncio.create_task(late.run(client)))
        readers.append(late)

        async def all_read() -> bool:
            return all(r.seqs and r.seqs[-1] >= total for r in readers)

        async def all_followed() -> bool:
            answers = [(await client.get(f"{n.url}/healthz")).json() for n in nodes]
            return all(a["last_seq"] == total for a in answers)

        await eventually(all_read, 60, "every reader to reach the last event")
        await eventually(all_followed, 30, "every node to apply the last event")
        active = [await active_regions(client, n) for n in nodes]
        for task in reading:
            task.cancel()
        await asyncio.gather(*reading, return_exceptions=True)
    return Outcome(operators, readers, total, active, time.monotonic() - started)


async def _reached(acked: list[int], count: int) -> bool:
    return acked[0] >= count


async def active_regions(client: httpx.AsyncClient, node: Node) -> list[str]:
    answer = (await client.get(f"{node.url}/api/alerts/active")).json()
    return sorted(a["region_id"] for a in answer["alerts"])


def test_kill_a_node_in_a_burst(tmp_path: Path, registry: RegionRegistry) -> None:
    with shared_backends() as backends, running_nodes(backends, 3, tmp_path) as nodes:
        outcome = asyncio.run(asyncio.wait_for(burst(nodes, backends, registry), 110))
        store = PostgresStore(backends.database_url)
        try:
            log = store.read_events(0, 100_000)
        finally:
            store.close()

    operators, readers, total = outcome.operators, outcome.readers, outcome.total
    print(
        f"{total} events in {outcome.seconds:.1f} s; {sum(o.retries for o in operators)} "
        f"retried requests, {sum(o.replayed for o in operators)} answered from a stored "
        f"answer; {sum(r.resumes for r in readers)} stream resumes"
    )

    # One event per command, each acknowledged once even when its answer was lost.
    assert total == OPERATORS * COMMANDS_EACH
    assert [e.seq for e in log] == list(range(1, total + 1))
    acked = sorted(seq for o in operators for _, _, events in o.acks for seq in events)
    assert acked == list(range(1, total + 1))
    by_seq = {e.seq: e for e in log}
    for operator in operators:
        for verb, region, events in operator.acks:
            (seq,) = events
            event = by_seq[seq]
            assert event.region_id == region
            assert event.kind.value == ("alert.raised" if verb == "raise" else "alert.lifted")

    # Every reader: every event once, in order, with the kind the log has.
    assert sum(r.resumes > 0 for r in readers) >= READERS_PER_NODE
    for reader in readers:
        assert reader.seqs == list(range(1, total + 1)), reader.seqs[:20]
        assert all(reader.kinds[s] == by_seq[s].kind.value for s in reader.seqs)

    # Each node's projection followed the log: the same active alerts everywhere.
    expected = sorted(
        region
        for o in operators
        for region in o.regions
        if [v for v, r, _ in o.acks if r == region][-1] == "raise"
    )
    assert outcome.active == [expected] * 3
