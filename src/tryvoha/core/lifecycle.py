"""
The alert lifecycle as a pure state machine.

Per (region, type) an alert is either absent or active:

    absent --raise--> active --raise with other level/note/threat--> active (update)
       ^                 |
       +------lift-------+

Raising what is already raised (unchanged) and lifting what is not raised are no-ops that
say so and produce no event. Alerts are per region: an oblast alert covers its children
for status (see `status.py`), but lifting it never lifts a child's own alert.

`decide()` turns a command into events without touching the state; `ActiveAlerts.apply()`
folds events into the projection. The service runs both, with the store's commit between.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from tryvoha.core.errors import InvalidCommand, InvalidTransition, UnknownRegion
from tryvoha.core.model import (
    ENGINE_SOURCE,
    Alert,
    AlertKey,
    AlertLevel,
    AlertType,
    Event,
    EventKind,
    Threat,
)

MAX_REGIONS_PER_COMMAND = 2000
MAX_NOTE_LENGTH = 1000


class Outcome(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    LIFTED = "lifted"
    ALREADY_RAISED = "already_raised"
    NOT_RAISED = "not_raised"
    KEPT = "kept_operator_alert"


@dataclass(frozen=True, slots=True)
class Raise:
    region_ids: tuple[str, ...]
    type: AlertType
    actor: str
    source: str
    level: AlertLevel = AlertLevel.ALERT
    note: str | None = None
    threat: Threat | None = None


@dataclass(frozen=True, slots=True)
class Lift:
    region_ids: tuple[str, ...]
    type: AlertType
    actor: str
    source: str


Command = Raise | Lift


@dataclass(frozen=True, slots=True)
class RegionOutcome:
    region_id: str
    outcome: Outcome
    alert: Alert | None
    seq: int | None

    @property
    def changed(self) -> bool:
        return self.seq is not None


@dataclass(frozen=True, slots=True)
class Decision:
    events: tuple[Event, ...]
    outcomes: tuple[RegionOutcome, ...]


class ActiveAlerts:
    """
    The projection of the log onto the alerts that are active now.
    """

    __slots__ = ("_alerts", "last_seq")

    def __init__(self, alerts: Iterable[Alert] = (), last_seq: int = 0) -> None:
        self._alerts: dict[AlertKey, Alert] = {a.key: a for a in alerts}
        self.last_seq = last_seq

    def get(self, key: AlertKey) -> Alert | None:
        return self._alerts.get(key)

    def __len__(self) -> int:
        return len(self._alerts)

    def __iter__(self) -> Iterator[Alert]:
        return iter(sorted(self._alerts.values(), key=lambda a: a.id))

    def as_mapping(self) -> Mapping[AlertKey, Alert]:
        return self._alerts

    def copy(self) -> ActiveAlerts:
        clone = ActiveAlerts(last_seq=self.last_seq)
        clone._alerts = dict(self._alerts)
        return clone

    def apply(self, event: Event) -> None:
        if event.seq != self.last_seq + 1:
            raise InvalidTransition(
                f"event {event.seq} does not follow {self.last_seq}: the log has a gap"
            )
        key = event.alert.key
        current = self._alerts.get(key)
        if event.kind is EventKind.RAISED:
            if current is not None:
                raise InvalidTransition(f"{key.region_id}/{key.type}: raised twice")
            self._alerts[key] = event.alert
        elif event.kind is EventKind.UPDATED:
            if current is None:
                raise InvalidTransition(f"{key.region_id}/{key.type}: update of no alert")
            self._alerts[key] = event.alert
        else:
            if current is None:
                raise InvalidTransition(f"{key.region_id}/{key.type}: lift of no alert")
            del self._alerts[key]
        self.last_seq = event.seq


def validate_regions(region_ids: Iterable[str], known: Container[str]) -> None:
    """
    Raise `InvalidCommand` or `UnknownRegion` unless every id is known; names all bad ones.
    """
    ids = list(region_ids)
    if not ids:
        raise InvalidCommand("regions: at least one region is required")
    if len(ids) > MAX_REGIONS_PER_COMMAND:
        raise InvalidCommand(f"regions: at most {MAX_REGIONS_PER_COMMAND} per command")
    unknown = [r for r in ids if r not in known]
    if len(unknown) == 1:
        raise UnknownRegion(unknown[0])
    if unknown:
        listed = ", ".join(repr(r) for r in unknown[:20])
        raise InvalidCommand(f"unknown regions: {listed}")


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def decide(
    active: ActiveAlerts, command: Command, *, now: datetime, known_regions: Container[str]
) -> Decision:
    """
    Return the events *command* causes against *active*, numbered from `active.last_seq + 1`.

    All-or-nothing: an unknown region or a bad field raises before any event exists.
    """
    if now.tzinfo is None:
        raise InvalidCommand("now must be an aware datetime")
    validate_regions(command.region_ids, known_regions)
    if isinstance(command, Raise) and command.note and len(command.note) > MAX_NOTE_LENGTH:
        raise InvalidCommand(f"note: at most {MAX_NOTE_LENGTH} characters")
    seq = active.last_seq
    events: list[Event] = []
    outcomes: list[RegionOutcome] = []
    for region_id in _unique(command.region_ids):
        current = active.get(AlertKey(region_id, command.type))
        if isinstance(command, Raise):
            kind, alert, changes = _raise_one(current, command, region_id, seq + 1, now)
        else:
            kind, alert, changes = _lift_one(current, command, now)
        if kind is None:
            outcome = Outcome.ALREADY_RAISED if isinstance(command, Raise) else Outcome.NOT_RAISED
            if isinstance(command, Lift) and current is not None:
                outcome = Outcome.KEPT
            outcomes.append(RegionOutcome(region_id, outcome, current, None))
            continue
        assert alert is not None
        seq += 1
        events.append(Event(seq, kind, now, command.actor, alert, changes))
        outcomes.append(RegionOutcome(region_id, _OUTCOME_OF[kind], alert, seq))
    return Decision(tuple(events), tuple(outcomes))


_OUTCOME_OF = {
    EventKind.RAISED: Outcome.RAISED,
    EventKind.UPDATED: Outcome.UPDATED,
    EventKind.LIFTED: Outcome.LIFTED,
}


def _raise_one(
    current: Alert | None, command: Raise, region_id: str, seq: int, now: datetime
) -> tuple[EventKind | None, Alert | None, tuple[str, ...]]:
    if current is None:
        alert = Alert(
            id=seq,
            region_id=region_id,
            type=command.type,
            level=command.level,
            started_at=now,
            updated_at=now,
            source=command.source,
            threat=command.threat,
            note=command.note,
        )
        return EventKind.RAISED, alert, ()
    changes: list[str] = []
    if current.level is not command.level:
        changes.append("level")
    if command.note is not None and command.note != current.note:
        changes.append("note")
    if command.threat is not None and command.threat != current.threat:
        changes.append("threat")
    # An operator raising over an engine alert takes it over, so the engine can no longer
    # lift what a person has decided to keep.
    if current.source == ENGINE_SOURCE and command.source != ENGINE_SOURCE:
        changes.append("source")
    if not changes:
        return None, None, ()
    updated = replace(
        current,
        level=command.level,
        note=command.note if command.note is not None else current.note,
        threat=command.threat if command.threat is not None else current.threat,
        source=command.source if "source" in changes else current.source,
        updated_at=now,
    )
    return EventKind.UPDATED, updated, tuple(changes)


def _lift_one(
    current: Alert | None, command: Lift, now: datetime
) -> tuple[EventKind | None, Alert | None, tuple[str, ...]]:
    if current is None:
        return None, None, ()
    # The engine never lifts an operator's alert.
    if command.source == ENGINE_SOURCE and current.source != ENGINE_SOURCE:
        return None, None, ()
    return EventKind.LIFTED, replace(current, finished_at=now, updated_at=now), ()
