"""
Which events a webhook wants: regions (with their relatives) and alert types.

A region filter matches the listed regions, their descendants, and their ancestors, whose
alerts cover them: the semantics of the live streams' `regions=`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tryvoha.core.model import AlertType, Event
from tryvoha.core.regions import RegionRegistry


@dataclass(frozen=True, slots=True)
class EventFilter:
    region_ids: frozenset[str] | None = None
    """Already widened to relatives; None matches every region."""
    types: frozenset[AlertType] | None = None

    @classmethod
    def build(
        cls,
        registry: RegionRegistry,
        regions: Iterable[str],
        types: Iterable[AlertType],
        *,
        strict: bool = True,
    ) -> EventFilter:
        """
        Raises `UnknownRegion` for an id that is not in *registry*; with `strict=False`
        such ids are left out (a filter of only unknown regions then matches nothing).
        """
        listed = list(regions)
        widened = registry.concerning(r for r in listed if strict or r in registry)
        wanted_types = frozenset(types)
        return cls(widened if listed else None, wanted_types if wanted_types else None)

    def matches(self, event: Event) -> bool:
        return (self.region_ids is None or event.alert.region_id in self.region_ids) and (
            self.types is None or event.alert.type in self.types
        )
