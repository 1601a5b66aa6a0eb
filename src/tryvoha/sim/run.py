"""
Run a warning policy over a simulated night, faster than real time, into alert intervals.

The engine sees each report when the feed delivers it and ticks on a fixed step of
simulated time; what it raises and lifts becomes intervals per region, the same thing the
event log of a running server holds (`intervals_from_events` reads that back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tryvoha.core.codec import parse_time
from tryvoha.core.engine import WarningEngine
from tryvoha.sim.feed import Delivery

Interval = tuple[float, float]


@dataclass(slots=True)
class AlertLog:
    """Alert intervals per region id, in POSIX seconds, within [start, end]."""

    start: float
    end: float
    intervals: dict[str, list[Interval]] = field(default_factory=dict)

    def add(self, region_id: str, on: float, off: float) -> None:
        on, off = max(on, self.start), min(off, self.end)
        if off > on:
            self.intervals.setdefault(region_id, []).append((on, off))

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.intervals.values())


def run_engine(
    engine: WarningEngine,
    deliveries: Sequence[Delivery],
    start: float,
    end: float,
    *,
    tick_s: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> AlertLog:
    """
    Feed *deliveries* (sorted by arrival) to *engine*, ticking every *tick_s* from *start*
    to *end*; returns what it raised and lifted.
    """
    log = AlertLog(start, end)
    opened: dict[str, float] = {}
    next_report = 0
    steps = int((end - start) / tick_s)
    for step in range(steps + 1):
        t = start + step * tick_s
        now = datetime.fromtimestamp(t, UTC)
        first = next_report
        while next_report < len(deliveries) and deliveries[next_report].received_at <= t:
            next_report += 1
        if next_report > first:
            engine.ingest([d.report for d in deliveries[first:next_report]], now)
        decision = engine.tick(now)
        for change in decision.raised:
            opened.setdefault(change.region_id, t)
        for region_id in decision.lifted:
            on = opened.pop(region_id, None)
            if on is not None:
                log.add(region_id, on, t)
        if progress is not None and step % 600 == 0:
            progress(t)
    for region_id, on in opened.items():
        log.add(region_id, on, end)
    return log


def intervals_from_events(
    events: Iterable[Mapping[str, Any]], start: float, end: float, *, source: str | None = None
) -> AlertLog:
    """
    Alert intervals from event-log entries (`GET /api/events` JSON), optionally only
    alerts raised by *source*.
    """
    log = AlertLog(start, end)
    opened: dict[str, float] = {}
    for event in events:
        alert = event["alert"]
        if alert["type"] != "air_raid":
            continue
        if source is not None and alert["source"] != source and event["kind"] == "alert.raised":
            continue
        region_id = str(alert["region_id"])
        if event["kind"] == "alert.raised":
            opened[region_id] = parse_time(alert["started_at"]).timestamp()
        elif event["kind"] == "alert.lifted" and region_id in opened:
            log.add(region_id, opened.pop(region_id), parse_time(event["at"]).timestamp())
    for region_id, on in opened.items():
        log.add(region_id, on, end)
    return log
