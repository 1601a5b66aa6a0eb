from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bus.nats_support import own_stream
from tryvoha.bus.base import Bus
from tryvoha.bus.memory import MemoryBus
from tryvoha.bus.nats import NATSBus


@pytest.fixture
def anyio_backend() -> str:
    # nats-py runs on asyncio only.
    return "asyncio"


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    """A started bus: the in-process one, or a node on a NATS stream of its own."""
    if request.param == "memory":
        memory = MemoryBus()
        await memory.start()
        yield memory
        await memory.close()
        return
    async with own_stream() as options:
        node = NATSBus(options)
        await node.start()
        try:
            yield node
        finally:
            await node.close()
