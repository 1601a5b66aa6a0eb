"""
Realistic event sequences for the store tests, made by the real lifecycle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tryvoha.core.lifecycle import ActiveAlerts, Lift, Raise, decide
from tryvoha.core.model import ENGINE_SOURCE, AlertLevel, AlertType, Event, Threat

REGIONS = frozenset({"3", "4", "5", "14", "31"})
T0 = datetime(2025, 7, 4, 21, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class Night:
    """
    Commands through `decide()` against a running projection; each returns its events.
    """

    def __init__(self) -> None:
        self.active = ActiveAlerts()
        self.now = T0
        self.events: list[Event] = []

    def _run(self, command: Raise | Lift, at: datetime | None) -> list[Event]:
        if at is not None:
            self.now = at
        decision = decide(self.active, command, now=self.now, known_regions=REGIONS)
        for item in decision.events:
            self.active.apply(item)
        self.events.extend(decision.events)
        return list(decision.events)

    def raise_(
        self,
        *regions: str,
        type: AlertType = AlertType.AIR_RAID,
        level: AlertLevel = AlertLevel.ALERT,
        actor: str = "kyiv-duty",
        engine: bool = False,
        note: str | None = None,
        threat: Threat | None = None,
        at: datetime | None = None,
    ) -> list[Event]:
        source = ENGINE_SOURCE if engine else actor
        command = Raise(regions, type, actor, source, level=level, note=note, threat=threat)
        return self._run(command, at)

    def lift(
        self,
        *regions: str,
        type: AlertType = AlertType.AIR_RAID,
        actor: str = "kyiv-duty",
        engine: bool = False,
        at: datetime | None = None,
    ) -> list[Event]:
        source = ENGINE_SOURCE if engine else actor
        return self._run(Lift(regions, type, actor, source), at)
