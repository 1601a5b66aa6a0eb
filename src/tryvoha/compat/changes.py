"""
When each region's alerts last changed, for ukrainealarm's `lastUpdate` and HTTP dates.

Folded from the event log as it grows, in any order. At start only the log's tail is read
(`seed`); a region untouched since has been as it is now since at least `baseline`, the
time of the first event read (or, for a log that was empty, of its first event), which is
what it reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tryvoha.compat.formats import EPOCH
from tryvoha.core.model import Event
from tryvoha.core.regions import RegionRegistry


class ChangeTimes:
    __slots__ = ("_by_region", "baseline", "last_event_at")

    def __init__(self) -> None:
        self._by_region: dict[str, datetime] = {}
        self.baseline: datetime = EPOCH
        self.last_event_at: datetime = EPOCH
        """The time of the newest event folded in: when anything last changed."""

    def seed(self, tail: Sequence[Event]) -> None:
        if tail:
            self.baseline = tail[0].at
        self.fold(tail)

    def fold(self, events: Iterable[Event]) -> None:
        for event in events:
            if self.baseline == EPOCH:
                self.baseline = event.at
            previous = self._by_region.get(event.region_id)
            if previous is None or event.at > previous:
                self._by_region[event.region_id] = event.at
            if event.at > self.last_event_at:
                self.last_event_at = event.at

    def region_changed_at(self, registry: RegionRegistry, region_id: str) -> datetime:
        """The last change of an alert on *region_id* or on a region covering it."""
        newest = self.baseline
        for rid in (region_id, *registry.ancestors(region_id)):
            at = self._by_region.get(rid)
            if at is not None and at > newest:
                newest = at
        return newest
