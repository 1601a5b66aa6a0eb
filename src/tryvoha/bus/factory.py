"""
Choose a bus from its URL (`TRYVOHA_BUS_URL`).
"""

from __future__ import annotations

from tryvoha.bus.base import Bus
from tryvoha.bus.memory import MemoryBus
from tryvoha.bus.nats import BusError, NATSBus, NATSOptions

__all__ = ["BusError", "open_bus"]


def open_bus(url: str) -> Bus:
    """
    `memory://` for one node; `nats://HOST:PORT[,nats://HOST2:PORT][?stream=...]` for several
    (see `NATSOptions.from_url`). The bus connects when the service starts it.
    """
    if url in ("memory://", "memory", ""):
        return MemoryBus()
    if url.startswith(("nats://", "tls://")):
        return NATSBus(NATSOptions.from_url(url))
    raise BusError(f"unsupported bus URL: {url!r} (use memory:// or nats://HOST:PORT)")
