"""
Webhook delivery in a cluster: three `tryvoha serve` nodes on one PostgreSQL log and one NATS
stream deliver each event to a receiver once, whichever node took the command; when the
leader is killed with SIGKILL another node takes over and delivers the events after it, in
order, without a gap (some perhaps twice, which `X-Tryvoha-Event-Id` tells apart).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import orjson
import pytest

from tests.backends import require_service
from tests.cluster.nodes import Backends, Node, eventually, running_nodes, shared_backends
from tests.delivery.delivery_support import Receiver
from tryvoha.core.auth import Role
from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.factory import open_store
from tryvoha.tokens import create_token

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.nats]

NODES = 3
QUIET_SECONDS = 3.0
"""Longer than one leadership check and one outbox re-read: time for a repeat to show."""


def first_occurrences(seqs: list[int]) -> list[int]:
    return list(dict.fromkeys(seqs))


def is_leader(node: Node) -> bool:
    try:
        text = httpx.get(f"{node.url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return False
    return "tryvoha_cluster_leader 1.0" in text.splitlines()


def leaders(nodes: list[Node]) -> list[Node]:
    return [n for n in nodes if n.process is not None and n.process.poll() is None and is_leader(n)]


def reader_token(backends: Backends) -> str:
    store = open_store(backends.database_url)
    try:
        return create_token(store, name="hooks", role=Role.READER)
    finally:
        store.close()


async def command(
    client: httpx.AsyncClient, nodes: list[Node], n: int, region: str, token: str
) -> list[int]:
    """Raise (even *n*) or lift (odd) *region* through node n, the next one if it is down."""
    path = "/api/alerts" if n % 2 == 0 else "/api/alerts/lift"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"once-{n}"}
    for attempt in itertools.count():
        node = nodes[(n + attempt) % len(nodes)]
        try:
            response = await client.post(
                node.url + path, json={"regions": [region]}, headers=headers, timeout=15
            )
        except httpx.HTTPError:
            await asyncio.sleep(0.05)
            continue
        if response.status_code >= 500 and attempt < 20:
            await asyncio.sleep(0.05)
            continue
        assert response.status_code in (200, 201), response.text
        events: list[int] = orjson.loads(response.content)["events"]
        return events
    raise AssertionError("unreachable")


async def raise_and_lift(
    client: httpx.AsyncClient, nodes: list[Node], first: int, count: int, token: str, region: str
) -> list[int]:
    seqs: list[int] = []
    for n in range(first, first + count):
        seqs += await command(client, nodes, n, region, token)
    return seqs


def hromada(registry: RegionRegistry) -> str:
    return min(r.id for r in registry if r.level is RegionLevel.HROMADA)


async def scenario(nodes: list[Node], backends: Backends, region: str, receiver: Receiver) -> None:
    await eventually(lambda: len(leaders(nodes)) == 1, 15, "one leader")
    [leader] = leaders(nodes)
    follower = next(n for n in nodes if n is not leader)
    hooks = {"Authorization": f"Bearer {reader_token(backends)}"}
    async with httpx.AsyncClient() as client:
        created = await client.post(
            f"{follower.url}/api/webhooks", json={"url": receiver.url}, headers=hooks
        )
        assert created.status_code == 201, created.text
        # Long enough for every node that would deliver it to have read it from the outbox.
        await asyncio.sleep(QUIET_SECONDS)

        # Each command through another node: every node takes commands, one delivers.
        token = backends.operator_token
        before = await raise_and_lift(client, nodes, 0, 6, token, region)
        await eventually(lambda: receiver.accepted_seqs() == before, 20, "the first events")
        await asyncio.sleep(QUIET_SECONDS)
        assert receiver.accepted_seqs() == before  # once each, in order
        assert leaders(nodes) == [leader]

        leader.kill()
        survivors = [n for n in nodes if n is not leader]
        after = await raise_and_lift(client, survivors, 6, 4, token, region)
        expected = before + after
        await eventually(
            lambda: first_occurrences(receiver.accepted_seqs()) == expected,
            30,
            "the events after the failover",
        )
        await eventually(lambda: len(leaders(survivors)) == 1, 15, "a new leader")
    received = receiver.accepted_seqs()
    assert received[: len(before)] == before
    assert first_occurrences(received) == expected


def test_each_event_reaches_a_webhook_once_and_a_failover_loses_none(
    tmp_path: Path, registry: RegionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("NATS", "127.0.0.1", 4222)
    monkeypatch.setenv("TRYVOHA_WEBHOOK_ALLOW_PRIVATE", "true")
    receiver = Receiver()
    receiver.start()
    try:
        with shared_backends() as backends, running_nodes(backends, NODES, tmp_path) as nodes:
            asyncio.run(scenario(nodes, backends, hromada(registry), receiver))
    finally:
        receiver.stop()
