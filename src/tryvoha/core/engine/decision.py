"""
What the engine tells its caller after a tick: regions to raise, update and lift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tryvoha.core.model import Threat


@dataclass(frozen=True, slots=True)
class RegionChange:
    region_id: str
    threat: Threat | None
    """The threat that can arrive first, with its earliest possible arrival."""


@dataclass(frozen=True, slots=True)
class EngineDecision:
    at: datetime
    raised: tuple[RegionChange, ...] = ()
    updated: tuple[RegionChange, ...] = ()
    lifted: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.raised or self.updated or self.lifted)
