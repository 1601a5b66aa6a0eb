"""
Escalation: alert a whole raion or oblast once most of its area is alerted anyway.

This follows the practice for missiles (whole oblast) and spares people the confusion of a
patchwork when a swarm covers most of a raion. A group is raised when the alerted share of
its units' area reaches its fraction, and released when the share falls below
`release_fraction` and the hold has run out. Groups of a single unit never escalate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tryvoha.core.engine.config import EscalationParams
from tryvoha.core.engine.decision import RegionChange
from tryvoha.core.engine.units import AlertUnits
from tryvoha.core.model import Threat

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EscalationChanges:
    raised: tuple[RegionChange, ...]
    lifted: tuple[str, ...]


class _Level:
    def __init__(
        self, ids: Sequence[str], of: Ints, area: Floats, fraction: float, release: float
    ) -> None:
        self.ids = list(ids)
        self.position = {rid: i for i, rid in enumerate(ids)}
        self.of = of
        self.area = area
        self.fraction = fraction
        self.release = release
        sizes = np.bincount(of[of >= 0], minlength=len(ids))
        self.eligible = sizes >= 2
        self.on = np.zeros(len(ids), dtype=bool)
        self.suppressed = np.zeros(len(ids), dtype=bool)
        self.hold_until = np.full(len(ids), -np.inf)
        self.seen: Bools | None = None
        self.share: Floats = np.zeros(len(ids))

    def shares(self, alerted: Bools, unit_area: Floats) -> Floats:
        # Most ticks change nothing; the shares only move when the alerted units do.
        if self.seen is not None and np.array_equal(self.seen, alerted):
            return self.share
        member = alerted & (self.of >= 0)
        on_area = np.bincount(self.of[member], weights=unit_area[member], minlength=len(self.ids))
        with np.errstate(invalid="ignore", divide="ignore"):
            self.share = np.where(self.area > 0, on_area / self.area, 0.0)
        self.seen = alerted.copy()
        return self.share


class Escalation:
    def __init__(self, units: AlertUnits, params: EscalationParams) -> None:
        self.units = units
        self.params = params
        self.levels = (
            _Level(
                units.raion_ids,
                units.raion_of,
                units.raion_area,
                params.raion_fraction,
                params.release_fraction,
            ),
            _Level(
                units.oblast_ids,
                units.oblast_of,
                units.oblast_area,
                params.oblast_fraction,
                params.release_fraction,
            ),
        )

    def step(
        self, now: float, alerted: Bools, threats: Sequence[Threat | None]
    ) -> EscalationChanges:
        raised: list[RegionChange] = []
        lifted: list[str] = []
        for level in self.levels:
            share = level.shares(alerted, self.units.area_km2)
            threshold = np.where(level.on, level.release, level.fraction)
            qualifies = level.eligible & (share >= threshold)
            level.hold_until[qualifies] = now + self.params.hold_s
            desired = qualifies | (level.on & (now < level.hold_until))
            level.suppressed &= desired
            announce = desired & ~level.suppressed
            if np.array_equal(announce, level.on):
                continue
            for g in np.flatnonzero(announce & ~level.on):
                members = np.flatnonzero(alerted & (level.of == g))
                raised.append(RegionChange(level.ids[g], _earliest(threats, members)))
            lifted.extend(level.ids[g] for g in np.flatnonzero(level.on & ~announce))
            level.on = announce
        return EscalationChanges(tuple(raised), tuple(lifted))

    def adopt(self, region_id: str, until: float) -> bool:
        for level in self.levels:
            g = level.position.get(region_id)
            if g is not None:
                level.on[g] = True
                level.hold_until[g] = max(level.hold_until[g], until)
                return True
        return False

    def release(self, region_id: str) -> None:
        for level in self.levels:
            g = level.position.get(region_id)
            if g is not None:
                level.on[g] = False
                level.suppressed[g] = True

    def alerted(self) -> list[str]:
        return [level.ids[g] for level in self.levels for g in np.flatnonzero(level.on)]


def _earliest(threats: Sequence[Threat | None], members: Ints) -> Threat | None:
    best: Threat | None = None
    for u in members:
        threat = threats[u]
        if threat is None or threat.expected_arrival is None:
            continue
        if (
            best is None
            or best.expected_arrival is None
            or threat.expected_arrival < best.expected_arrival
        ):
            best = threat
    return best
