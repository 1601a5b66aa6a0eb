"""
The alert lifecycle: tables of transitions, properties, and a stateful model check.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tryvoha.core.errors import InvalidCommand, InvalidTransition, UnknownRegion
from tryvoha.core.lifecycle import (
    MAX_NOTE_LENGTH,
    ActiveAlerts,
    Lift,
    Outcome,
    Raise,
    decide,
)
from tryvoha.core.model import (
    ENGINE_SOURCE,
    AlertKey,
    AlertLevel,
    AlertType,
    EventKind,
    Threat,
    ThreatClass,
)

KNOWN = {"14", "31", "100", "101", "564"}
T0 = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)
AIR = AlertType.AIR_RAID


def run(active: ActiveAlerts, command: Raise | Lift, now: datetime = T0) -> list[Outcome]:
    decision = decide(active, command, now=now, known_regions=KNOWN)
    for event in decision.events:
        active.apply(event)
    return [o.outcome for o in decision.outcomes]


def raise_(
    *regions: str, level: AlertLevel = AlertLevel.ALERT, source: str = "duty", **kw: object
) -> Raise:
    return Raise(tuple(regions), AIR, actor=source, source=source, level=level, **kw)  # type: ignore[arg-type]


def lift(*regions: str, source: str = "duty") -> Lift:
    return Lift(tuple(regions), AIR, actor=source, source=source)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([raise_("14")], [Outcome.RAISED], id="raise"),
        pytest.param([raise_("14"), raise_("14")], [Outcome.ALREADY_RAISED], id="raised-twice"),
        pytest.param([lift("14")], [Outcome.NOT_RAISED], id="lift-nothing"),
        pytest.param([raise_("14"), lift("14")], [Outcome.LIFTED], id="raise-lift"),
        pytest.param([raise_("14"), lift("14"), lift("14")], [Outcome.NOT_RAISED], id="lift-twice"),
        pytest.param(
            [raise_("14"), raise_("14", level=AlertLevel.WARNING)],
            [Outcome.UPDATED],
            id="level-change",
        ),
        pytest.param(
            [raise_("14"), raise_("14", note="drones")], [Outcome.UPDATED], id="note-change"
        ),
        pytest.param(
            [raise_("14", source=ENGINE_SOURCE), lift("14", source=ENGINE_SOURCE)],
            [Outcome.LIFTED],
            id="engine-lifts-its-own",
        ),
        pytest.param(
            [raise_("14"), lift("14", source=ENGINE_SOURCE)],
            [Outcome.KEPT],
            id="engine-never-lifts-operator",
        ),
        pytest.param(
            [raise_("14", source=ENGINE_SOURCE), raise_("14")],
            [Outcome.UPDATED],
            id="operator-takes-over",
        ),
        pytest.param(
            [raise_("14", source=ENGINE_SOURCE), raise_("14"), lift("14", source=ENGINE_SOURCE)],
            [Outcome.KEPT],
            id="taken-over-alert-kept",
        ),
        pytest.param(
            [raise_("14", "14", "31")], [Outcome.RAISED, Outcome.RAISED], id="duplicates-once"
        ),
    ],
)
def test_transitions(steps: list[Raise | Lift], expected: list[Outcome]) -> None:
    active = ActiveAlerts()
    outcomes: list[Outcome] = []
    for step in steps:
        outcomes = run(active, step)
    assert outcomes == expected


def test_no_op_makes_no_event() -> None:
    active = ActiveAlerts()
    run(active, raise_("14"))
    decision = decide(active, raise_("14"), now=T0, known_regions=KNOWN)
    assert decision.events == ()
    assert decision.outcomes[0].seq is None
    assert not decision.outcomes[0].changed


def test_oblast_lift_keeps_child_alert() -> None:
    """Alerts are per region: lifting an oblast leaves a separately raised hromada alert."""
    active = ActiveAlerts()
    run(active, raise_("14"))
    run(active, raise_("100"))
    run(active, lift("14"))
    assert active.get(AlertKey("100", AIR)) is not None
    assert active.get(AlertKey("14", AIR)) is None


def test_types_are_independent() -> None:
    active = ActiveAlerts()
    run(active, raise_("14"))
    decision = decide(
        active,
        Lift(("14",), AlertType.ARTILLERY_SHELLING, "duty", "duty"),
        now=T0,
        known_regions=KNOWN,
    )
    assert [o.outcome for o in decision.outcomes] == [Outcome.NOT_RAISED]


def test_unknown_region_changes_nothing() -> None:
    active = ActiveAlerts()
    with pytest.raises(UnknownRegion, match="'999'"):
        decide(active, raise_("14", "999"), now=T0, known_regions=KNOWN)
    assert len(active) == 0
    assert active.last_seq == 0


def test_several_unknown_regions_are_all_named() -> None:
    with pytest.raises(InvalidCommand, match=r"'998'.*'999'"):
        decide(ActiveAlerts(), raise_("998", "999"), now=T0, known_regions=KNOWN)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(raise_(), id="no-regions"),
        pytest.param(raise_("14", note="x" * (MAX_NOTE_LENGTH + 1)), id="long-note"),
    ],
)
def test_invalid_commands(command: Raise) -> None:
    with pytest.raises(InvalidCommand):
        decide(ActiveAlerts(), command, now=T0, known_regions=KNOWN)


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="aware"):
        decide(ActiveAlerts(), raise_("14"), now=datetime(2025, 1, 1), known_regions=KNOWN)  # noqa: DTZ001


def test_events_are_numbered_and_alerts_keep_their_raise_id() -> None:
    active = ActiveAlerts()
    first = decide(active, raise_("14", "31"), now=T0, known_regions=KNOWN)
    assert [e.seq for e in first.events] == [1, 2]
    for event in first.events:
        active.apply(event)
    later = T0 + timedelta(minutes=5)
    second = decide(active, raise_("14", level=AlertLevel.WARNING), now=later, known_regions=KNOWN)
    (update,) = second.events
    assert update.seq == 3
    assert update.kind is EventKind.UPDATED
    assert update.alert.id == 1
    assert update.alert.started_at == T0
    assert update.alert.updated_at == later
    assert update.changes == ("level",)


def test_threat_is_carried() -> None:
    threat = Threat(ThreatClass.SHAHED, T0 + timedelta(minutes=9), "t-1")
    decision = decide(
        ActiveAlerts(),
        raise_("564", source=ENGINE_SOURCE, threat=threat),
        now=T0,
        known_regions=KNOWN,
    )
    assert decision.events[0].alert.threat == threat
    assert decision.events[0].alert.source == ENGINE_SOURCE


def test_apply_refuses_gaps_and_impossible_events() -> None:
    active = ActiveAlerts()
    decision = decide(active, raise_("14"), now=T0, known_regions=KNOWN)
    (event,) = decision.events
    active.apply(event)
    with pytest.raises(InvalidTransition, match="gap"):
        active.apply(event)
    with pytest.raises(InvalidTransition, match="raised twice"):
        active.apply(type(event)(2, event.kind, event.at, event.actor, event.alert))


regions = st.sampled_from(sorted(KNOWN))
commands = st.builds(
    lambda kind, rs, level: raise_(*rs, level=level) if kind else lift(*rs),
    st.booleans(),
    st.lists(regions, min_size=1, max_size=3),
    st.sampled_from(list(AlertLevel)),
)


@given(st.lists(commands, max_size=30))
def test_same_command_twice_changes_nothing(script: list[Raise | Lift]) -> None:
    active = ActiveAlerts()
    for command in script:
        run(active, command)
        again = decide(active, command, now=T0, known_regions=KNOWN)
        assert again.events == ()


@given(st.lists(commands, max_size=40))
def test_raises_and_lifts_alternate_per_region(script: list[Raise | Lift]) -> None:
    active = ActiveAlerts()
    kinds: dict[str, list[EventKind]] = {}
    for command in script:
        decision = decide(active, command, now=T0, known_regions=KNOWN)
        for event in decision.events:
            active.apply(event)
            if event.kind is not EventKind.UPDATED:
                kinds.setdefault(event.region_id, []).append(event.kind)
    for sequence in kinds.values():
        assert sequence[0] is EventKind.RAISED
        assert all(a is not b for a, b in itertools.pairwise(sequence))


class LifecycleAgainstModel(RuleBasedStateMachine):
    """
    The state machine agrees with a dict of region -> level at every step.
    """

    def __init__(self) -> None:
        super().__init__()
        self.active = ActiveAlerts()
        self.model: dict[str, AlertLevel] = {}
        self.now = T0
        self.seq = 0

    def _run(self, command: Raise | Lift) -> None:
        self.now += timedelta(seconds=1)
        decision = decide(self.active, command, now=self.now, known_regions=KNOWN)
        for event in decision.events:
            self.active.apply(event)
        self.seq += len(decision.events)

    @rule(region=regions, level=st.sampled_from(list(AlertLevel)))
    def raise_one(self, region: str, level: AlertLevel) -> None:
        self._run(raise_(region, level=level))
        self.model[region] = level

    @rule(region=regions)
    def lift_one(self, region: str) -> None:
        self._run(lift(region))
        self.model.pop(region, None)

    @invariant()
    def agrees(self) -> None:
        assert {a.region_id: a.level for a in self.active} == self.model
        assert self.active.last_seq == self.seq


LifecycleAgainstModel.TestCase.settings = settings(max_examples=50, stateful_step_count=30)
test_lifecycle_against_model = LifecycleAgainstModel.TestCase
