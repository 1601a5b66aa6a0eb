"""
What only the NATS bus has: several nodes on one stream, de-duplication, late nodes,
a broker that goes away and comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import nats
import pytest

from tests.bus.nats_support import own_stream, private_server, raised, with_servers
from tests.bus.receiving import nothing_more, take
from tryvoha.bus.factory import open_bus
from tryvoha.bus.nats import BusError, NATSBus, NATSOptions, message_id

pytestmark = [pytest.mark.anyio, pytest.mark.nats]

Nodes = Callable[[int], AsyncIterator[Sequence[NATSBus]]]


@asynccontextmanager
async def started(options: NATSOptions, count: int) -> AsyncIterator[list[NATSBus]]:
    async with AsyncExitStack() as stack:
        nodes: list[NATSBus] = []
        for _ in range(count):
            node = NATSBus(options)
            await node.start()
            stack.push_async_callback(node.close)
            nodes.append(node)
        yield nodes


async def published(node: NATSBus) -> None:
    async with asyncio.timeout(10):
        await node.wait_published()


async def stream_messages(options: NATSOptions) -> int:
    connection = await nats.connect(servers=list(options.servers))
    try:
        info = await connection.jetstream().stream_info(options.stream)
        return int(info.state.messages)
    finally:
        await connection.close()


# -- URLs ---------------------------------------------------------------------------------


def test_url_with_several_servers_and_a_stream() -> None:
    options = NATSOptions.from_url(
        "nats://10.0.0.1:4222,nats://10.0.0.2:4222?stream=ALERTS&subject=ua.events&replicas=3"
    )
    assert options.servers == ("nats://10.0.0.1:4222", "nats://10.0.0.2:4222")
    assert (options.stream, options.subject, options.replicas) == ("ALERTS", "ua.events", 3)


def test_url_defaults() -> None:
    options = NATSOptions.from_url("nats://127.0.0.1:4222")
    assert (options.stream, options.subject, options.replicas) == (
        "TRYVOHA_EVENTS",
        "tryvoha.events",
        1,
    )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("nats://h:4222?strem=X", id="unknown-parameter"),
        pytest.param("nats://h:4222?replicas=three", id="bad-number"),
        pytest.param("http://h:4222", id="not-nats"),
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(BusError):
        NATSOptions.from_url(url)


def test_open_bus_chooses_nats() -> None:
    assert isinstance(open_bus("nats://127.0.0.1:4222?stream=X"), NATSBus)


async def test_an_unreachable_server_fails_the_start() -> None:
    node = NATSBus(NATSOptions(servers=("nats://127.0.0.1:1",)))
    with pytest.raises(BusError, match="cannot reach NATS"):
        await node.start()


# -- several nodes ------------------------------------------------------------------------


async def test_events_reach_every_node_once_and_in_order() -> None:
    async with own_stream() as options, started(options, 3) as (a, b, c):
        readers = [node.subscribe() for node in (a, b, c)]
        for first in range(1, 60, 6):
            await a.publish([raised(n) for n in range(first, first + 6)])
        for reader in readers:
            got = await take(reader, 60)
            assert [e.seq for e in got] == list(range(1, 61))
            assert await nothing_more(reader) == []


async def test_a_node_hears_every_writer() -> None:
    """
    Two nodes write in turns (as they do when both take commands); a third hears both.
    """
    async with own_stream() as options, started(options, 3) as (a, b, c):
        reader = c.subscribe()
        for seq in range(1, 21):
            await (a if seq % 2 else b).publish([raised(seq)])
            await asyncio.sleep(0)
        got = await take(reader, 20)
        assert sorted(e.seq for e in got) == list(range(1, 21))
        assert len(got) == 20


async def test_a_repeated_event_is_stored_once() -> None:
    """
    A publish retried after a lost acknowledgement, or a repair that publishes an event
    again, leaves one message on the stream and other nodes get it once.
    """
    async with own_stream() as options, started(options, 2) as (a, b):
        reader = b.subscribe()
        await a.publish([raised(1), raised(2)])
        await a.publish([raised(2)])
        await published(a)
        assert [e.seq for e in await take(reader, 2)] == [1, 2]
        assert await nothing_more(reader) == []
        assert await stream_messages(options) == 2


def test_message_ids_tell_two_logs_apart() -> None:
    first, rebuilt = raised(7), raised(8)
    assert message_id(first) != message_id(rebuilt)
    assert message_id(first) == message_id(raised(7))


async def test_a_late_node_gets_what_follows() -> None:
    async with own_stream() as options, started(options, 1) as (a,):
        await a.publish([raised(1), raised(2)])
        await published(a)
        async with started(options, 1) as (late,):
            reader = late.subscribe()
            await a.publish([raised(3)])
            assert [e.seq for e in await take(reader, 1)] == [3]


async def test_the_writer_delivers_locally_without_the_broker(tmp_path: Path) -> None:
    """
    A node's own subscribers get its events at once, even while the broker is down.
    """
    with private_server(tmp_path) as server:
        options = with_servers(NATSOptions(servers=("-",), heartbeat_s=0.5), server.url)
        async with started(options, 1) as (a,):
            reader = a.subscribe()
            server.stop()
            await a.publish([raised(1)])
            assert [e.seq for e in await take(reader, 1, seconds=1)] == [1]
            assert a.unpublished == 1


async def test_nodes_catch_up_after_the_broker_restarts(tmp_path: Path) -> None:
    """
    The broker stops and starts again (its stream on disk): what a node committed in
    between is published once it is back, and every node's consumer resumes.
    """
    with private_server(tmp_path) as server:
        options = with_servers(NATSOptions(servers=("-",), heartbeat_s=0.5), server.url)
        async with started(options, 2) as (a, b):
            reader = b.subscribe()
            await a.publish([raised(1)])
            assert [e.seq for e in await take(reader, 1)] == [1]

            server.stop()
            await a.publish([raised(2), raised(3)])
            await asyncio.sleep(1.0)
            server.start()

            assert [e.seq for e in await take(reader, 2, seconds=20)] == [2, 3]
            await a.publish([raised(4)])
            assert [e.seq for e in await take(reader, 1, seconds=10)] == [4]
            await published(a)
            assert await nothing_more(reader) == []
