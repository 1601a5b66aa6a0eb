"""
Choose a bus from its URL.
"""

from __future__ import annotations

from tryvoha.bus.base import Bus
from tryvoha.bus.memory import MemoryBus


class BusError(Exception):
    pass


def open_bus(url: str) -> Bus:
    if url in ("memory://", "memory", ""):
        return MemoryBus()
    if url.startswith("nats://"):
        raise BusError("the NATS bus is not available in this build yet")
    raise BusError(f"unsupported bus URL: {url!r} (use memory:// or nats://HOST:PORT)")
