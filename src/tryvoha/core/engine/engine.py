"""
`WarningEngine`: from track reports to which regions to raise, update and lift.

Pure and deterministic: every method takes `now`; nothing reads a clock or draws a random
number. The flow (docs/engine.md has the reasoning):

- `ingest()` keeps each track's newest report and computes, once per report, the earliest
  possible arrival at every unit its corridor reaches (absolute times).
- `tick(now)` is array arithmetic over those arrivals: a unit qualifies while some live
  track can arrive within the unit's lead time plus the margin; it stays alerted for the
  class's hold after it last qualified, and longer while a track heading its way would
  alert it again within `min_quiet_s`. A track silent for `stale_after` no longer trusts
  its course: it becomes a reachability disk that grows with the silence until `coast`,
  when the track is dropped. Immediate classes (ballistic) alert their impact area at once.
- Raions and oblasts most of whose area is alerted are escalated (alerted whole).

Changes are announced against what the engine announced before, so the caller can send
them as commands. `adopt()` takes over alerts found active at start-up; `release()` forgets
an alert someone else lifted or took over and keeps it quiet until its threat has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import numpy as np
import numpy.typing as npt

from tryvoha.core.engine.arrival import Pairs, Positions, exact_eta, reachable, within_areas
from tryvoha.core.engine.config import ClassParams, EngineConfig
from tryvoha.core.engine.corridor import corridors, disks
from tryvoha.core.engine.decision import EngineDecision, RegionChange
from tryvoha.core.engine.escalation import Escalation
from tryvoha.core.engine.tracks import TrackReport, TrackStatus
from tryvoha.core.engine.units import AlertUnits
from tryvoha.core.model import Threat, ThreatClass

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_CLASSES = tuple(ThreatClass)
_CLASS_CODE = {c: i for i, c in enumerate(_CLASSES)}
_NO_UNITS = np.empty(0, np.int64)
_NO_TIMES = np.empty(0, np.float64)


class Mode(Enum):
    CORRIDOR = "corridor"
    """Moving on its reported course: its arrivals hold until `stale_after`."""
    REACH = "reach"
    """Lost or silent: every unit reachable in any direction, growing with the silence."""
    IMPACT = "impact"
    """Immediate class: its whole predicted impact area is alerted at once."""


@dataclass(slots=True)
class _Track:
    report: TrackReport
    params: ClassParams
    code: int
    t: float
    mode: Mode
    x: float = 0.0
    y: float = 0.0
    offset: float = 0.0
    """Position error + danger radius + simplification + stand-off reach, in metres."""
    angle: float = np.nan
    """Plane angle of the reported course (NaN when unknown)."""
    units: Ints = field(default_factory=lambda: _NO_UNITS)
    eta: Floats = field(default_factory=lambda: _NO_TIMES)
    covered_until: float = -np.inf
    """For REACH tracks: the arrivals found stay complete up to this time."""


@dataclass(slots=True)
class _FirstThreats:
    """Per unit: does it qualify now and its earliest arrival; the qualifying pairs."""

    qualified: Bools
    eta: Floats
    pairs: tuple[Ints, Floats, Ints] | None = None
    tracks: list[_Track] = field(default_factory=list)


def _indices(mask: Bools) -> Ints:
    # Most masks are all False on most ticks; `any()` is far cheaper than `flatnonzero`.
    found: Ints = np.flatnonzero(mask) if mask.any() else _NO_UNITS
    return found


def _seconds(value: datetime) -> float:
    return value.timestamp()


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds), UTC)


class WarningEngine:
    """
    The engine over a fixed set of *units*. `heading_free=True` ignores courses (every track
    is a reachability disk): the "can reach it within the lead time" baseline.
    """

    def __init__(
        self,
        units: AlertUnits,
        config: EngineConfig,
        *,
        heading_free: bool = False,
        escalate: bool | None = None,
    ) -> None:
        self.units = units
        self.config = config
        self.heading_free = heading_free
        self._tracks: dict[str, _Track] = {}
        self._ended: dict[str, float] = {}
        n = len(units)
        self._on = np.zeros(n, dtype=bool)
        self._suppressed = np.zeros(n, dtype=bool)
        self._hold_until = np.full(n, -np.inf)
        self._threat: list[Threat | None] = [None] * n
        self._shown_eta = np.full(n, np.inf)
        self._lead_margin = units.lead_s + config.margin_s
        self._hold_by_class = np.array([config.params(c).hold_s for c in _CLASSES])
        self._immediate_by_class = np.array([config.params(c).immediate for c in _CLASSES])
        enabled = config.escalation.enabled if escalate is None else escalate
        self.escalation = Escalation(units, config.escalation) if enabled else None

    # -- reports -------------------------------------------------------------------------

    @property
    def track_count(self) -> int:
        return len(self._tracks)

    def track_ids(self) -> list[str]:
        return sorted(self._tracks)

    def track_mode(self, track_id: str) -> Mode | None:
        track = self._tracks.get(track_id)
        return None if track is None else track.mode

    def ingest(self, reports: Sequence[TrackReport], now: datetime) -> list[str | None]:
        """
        Apply validated reports; for each, None when applied or why it was ignored.
        """
        outcomes: list[str | None] = [None] * len(reports)
        fresh: dict[str, _Track] = {}
        for i in sorted(range(len(reports)), key=lambda i: reports[i].time):
            report = reports[i]
            t = _seconds(report.time)
            current = fresh.get(report.track_id) or self._tracks.get(report.track_id)
            if current is not None and t < current.t:
                outcomes[i] = f"older than the last report of track {report.track_id!r}"
                continue
            ended = self._ended.get(report.track_id)
            if current is None and ended is not None and t <= ended:
                outcomes[i] = f"track {report.track_id!r} already ended"
                continue
            if report.status.ends_track:
                fresh.pop(report.track_id, None)
                self._tracks.pop(report.track_id, None)
                self._ended[report.track_id] = t
                continue
            fresh[report.track_id] = self._new_track(report, t)
        tracks = list(fresh.values())
        self._place(tracks)
        self._compute(tracks, _seconds(now))
        self._tracks.update(fresh)
        self._forget_old_ends(_seconds(now))
        return outcomes

    def _new_track(self, report: TrackReport, t: float) -> _Track:
        params = self.config.params(report.threat_class)
        if params.immediate:
            mode = Mode.IMPACT
        elif self.heading_free or report.status is TrackStatus.LOST:
            mode = Mode.REACH
        else:
            mode = Mode.CORRIDOR
        return _Track(report, params, _CLASS_CODE[report.threat_class], t, mode)

    def _place(self, tracks: Sequence[_Track]) -> None:
        if not tracks:
            return
        lon = np.array([t.report.lon for t in tracks])
        lat = np.array([t.report.lat for t in tracks])
        x, y = self.units.projection.forward(lon, lat)
        for i, track in enumerate(tracks):
            precision = max(track.report.precision_m, self.config.min_precision_m)
            track.x, track.y = float(x[i]), float(y[i])
            track.offset = (
                precision * self.config.precision_factor
                + track.params.danger_radius_m
                + self.config.simplify_m
                + track.params.reach_m
            )

    def _forget_old_ends(self, now: float) -> None:
        horizon = self.config.max_report_age_s
        for track_id in [tid for tid, t in self._ended.items() if now - t > horizon]:
            del self._ended[track_id]

    # -- geometry, once per report or re-query -----------------------------------------

    def _compute(self, tracks: Sequence[_Track], now: float) -> None:
        corridor = [t for t in tracks if t.mode is Mode.CORRIDOR]
        reach = [t for t in tracks if t.mode is Mode.REACH]
        impact = [t for t in tracks if t.mode is Mode.IMPACT]
        if corridor:
            self._corridor_arrivals(corridor)
        if reach:
            self._reach_arrivals(reach, now)
        if impact:
            self._impact_arrivals(impact)

    @staticmethod
    def _positions(tracks: Sequence[_Track]) -> Positions:
        return Positions(
            x=np.array([t.x for t in tracks]),
            y=np.array([t.y for t in tracks]),
            t_report=np.array([t.t for t in tracks]),
            offset=np.array([t.offset for t in tracks]),
            v_max=np.array([t.params.v_max for t in tracks]),
        )

    def _angles(self, tracks: Sequence[_Track]) -> Floats:
        known = np.array([t.report.course_deg is not None for t in tracks])
        courses = np.array([t.report.course_deg or 0.0 for t in tracks])
        lon = np.array([t.report.lon for t in tracks])
        lat = np.array([t.report.lat for t in tracks])
        angles = self.units.projection.plane_angle(lon, lat, courses)
        return np.where(known, angles, np.nan)

    def _corridor_arrivals(self, tracks: Sequence[_Track]) -> None:
        at = self._positions(tracks)
        # Past `stale_after` the track is re-queried as a disk, so its corridor need only
        # reach as far as it can fly until then.
        travel = np.array([t.params.stale_after_s for t in tracks]) + self.config.requery_s
        near = at.offset + at.v_max * (self.units.base_lead_s + self.config.margin_s)
        turn = np.radians([t.params.turn_deg for t in tracks])
        angles = self._angles(tracks)
        for track, angle in zip(tracks, angles, strict=True):
            track.angle = float(angle)
        shapes = corridors(at.x, at.y, angles, near, at.v_max * travel, turn)
        self._store(tracks, reachable(self.units, at, travel, self.config.margin_s, shapes))

    def _reach_arrivals(self, tracks: Sequence[_Track], now: float) -> None:
        at = self._positions(tracks)
        until = now + self.config.requery_s
        travel = np.maximum(0.0, until - at.t_report)
        self._store(tracks, reachable(self.units, at, travel, self.config.margin_s))
        for track in tracks:
            track.covered_until = until

    def _impact_arrivals(self, tracks: Sequence[_Track]) -> None:
        predicted = [t for t in tracks if t.report.impact is not None]
        cones = [t for t in tracks if t.report.impact is None]
        if predicted:
            impacts = [t.report.impact for t in predicted if t.report.impact is not None]
            ix, iy = self.units.projection.forward(
                [i.lon for i in impacts], [i.lat for i in impacts]
            )
            pad = np.array([t.params.danger_radius_m for t in predicted]) + self.config.simplify_m
            areas = disks(ix, iy, np.array([i.radius_m for i in impacts]) + pad)
            self._store(predicted, within_areas(self.units, self._positions(predicted), areas))
        if cones:
            # No predicted impact yet: everything along the course out to the class's range.
            at = self._positions(cones)
            length = np.array([t.params.range_km * 1000.0 for t in cones])
            turn = np.radians([t.params.turn_deg for t in cones])
            areas = corridors(at.x, at.y, self._angles(cones), at.offset, length, turn)
            self._store(cones, within_areas(self.units, at, areas))

    @staticmethod
    def _store(tracks: Sequence[_Track], pairs: Pairs) -> None:
        order = np.argsort(pairs.row, kind="stable")
        bounds = np.searchsorted(pairs.row[order], np.arange(len(tracks) + 1))
        units = pairs.unit[order]
        eta = pairs.eta[order]
        for i, track in enumerate(tracks):
            track.units = units[bounds[i] : bounds[i + 1]]
            track.eta = eta[bounds[i] : bounds[i + 1]]

    # -- the tick ----------------------------------------------------------------------

    def tick(self, now: datetime) -> EngineDecision:
        """
        Advance to *now*: age tracks, decide every unit, and return what changed.
        """
        t_now = _seconds(now)
        self._age_tracks(t_now)
        first = self._qualify(t_now)
        keep = self._on & ((t_now < self._hold_until) | first.qualified)
        ending = _indices(self._on & ~keep)
        if ending.size and self.config.min_quiet_s > 0:
            keep[ending[self._returning(ending, t_now)]] = True
        desired = first.qualified | keep
        self._suppressed &= desired
        announce = desired & ~self._suppressed
        rising = _indices(announce & ~self._on)
        changing = self._changed_threats(announce & self._on & first.qualified, first)
        threats = self._threats(np.concatenate([rising, changing]), first)
        raised: list[RegionChange] = []
        updated: list[RegionChange] = []
        lifted: list[str] = []
        for u in rising:
            threat = self._show(int(u), threats.get(int(u)), float(first.eta[u]))
            raised.extend(RegionChange(r, threat) for r in self.units.specs[u].region_ids)
        for u in changing:
            threat = self._show(int(u), threats.get(int(u)), float(first.eta[u]))
            updated.extend(RegionChange(r, threat) for r in self.units.specs[u].region_ids)
        for u in _indices(self._on & ~announce):
            self._show(int(u), None, np.inf)
            lifted.extend(self.units.specs[u].region_ids)
        self._on = announce
        if self.escalation is not None:
            escalated = self.escalation.step(t_now, announce, self._threat)
            raised.extend(escalated.raised)
            lifted.extend(escalated.lifted)
        return EngineDecision(now, tuple(raised), tuple(updated), tuple(lifted))

    def _age_tracks(self, now: float) -> None:
        for track_id in [tid for tid, t in self._tracks.items() if now - t.t > t.params.coast_s]:
            del self._tracks[track_id]
        requery: list[_Track] = []
        for track in self._tracks.values():
            if track.mode is Mode.CORRIDOR and now - track.t > track.params.stale_after_s:
                track.mode = Mode.REACH
            if track.mode is Mode.REACH and track.covered_until <= now:
                requery.append(track)
        if requery:
            self._reach_arrivals(requery, now)

    def _qualify(self, now: float) -> _FirstThreats:
        """
        Which units qualify now, and the earliest arrival at each.
        """
        n = len(self.units)
        result = _FirstThreats(np.zeros(n, dtype=bool), np.full(n, np.inf))
        tracks = [t for t in self._tracks.values() if t.units.size]
        if not tracks:
            return result
        units = np.concatenate([t.units for t in tracks])
        eta = np.concatenate([t.eta for t in tracks])
        owner = np.repeat(np.arange(len(tracks)), [t.units.size for t in tracks])
        code = np.array([t.code for t in tracks])[owner]
        hits = self._immediate_by_class[code] | (eta - self._lead_margin[units] <= now)
        units, eta, owner, code = units[hits], eta[hits], owner[hits], code[hits]
        result.qualified[units] = True
        np.maximum.at(self._hold_until, units, now + self._hold_by_class[code])
        np.minimum.at(result.eta, units, eta)
        result.pairs = (units, eta, owner)
        result.tracks = tracks
        return result

    def _returning(self, units: Ints, now: float) -> Bools:
        """
        Which of *units* a track heading their way can reach within lead time, margin and
        `min_quiet_s`: an all-clear the next threat would undo within minutes only makes
        people flap in and out of shelter, so those units stay alerted.
        """
        tracks = [t for t in self._tracks.values() if t.mode is Mode.CORRIDOR]
        if not tracks:
            return np.zeros(units.size, dtype=bool)
        at = self._positions(tracks)
        heading = np.array([t.angle for t in tracks])
        turn = np.radians([t.params.turn_deg for t in tracks])
        dx = self.units.centre_x[units][:, None] - at.x[None, :]
        dy = self.units.centre_y[units][:, None] - at.y[None, :]
        gap = np.hypot(dx, dy)
        radius = self.units.circumradius[units][:, None]
        horizon = now - at.t_report + self.config.min_quiet_s + self._lead_margin[units][:, None]
        near = gap - radius - at.offset <= at.v_max * horizon
        # Off the course by less than the turn allowance plus the unit's angular size.
        off = np.abs((np.arctan2(dy, dx) - heading + np.pi) % (2 * np.pi) - np.pi)
        spread = np.arcsin(np.clip(radius / np.maximum(gap, 1.0), 0.0, 1.0))
        ahead = np.isfinite(heading) & (off <= turn + spread)
        coming: Bools = (near & (ahead | (gap <= radius))).any(axis=1)
        return coming

    def _changed_threats(self, candidates: Bools, first: _FirstThreats) -> Ints:
        """Alerted units whose threat can now arrive `update_shift_s` earlier than shown."""
        units = _indices(candidates)
        earlier = self._shown_eta[units] - first.eta[units] >= self.config.update_shift_s
        changed: Ints = units[earlier]
        return changed

    def _threats(self, wanted: Ints, first: _FirstThreats) -> dict[int, Threat]:
        """
        The first threat of each *wanted* unit (one sort over just their pairs), with its
        arrival from the exact distance.
        """
        if wanted.size == 0 or first.pairs is None:
            return {}
        units, eta, owner = first.pairs
        mine = np.isin(units, wanted)
        units, eta, owner = units[mine], eta[mine], owner[mine]
        order = np.lexsort((eta, units))
        heads = order[np.flatnonzero(np.diff(units[order], prepend=-1) != 0)]
        tracks = [first.tracks[owner[i]] for i in heads]
        arrivals = np.maximum(
            exact_eta(self.units, self._positions(tracks), units[heads]), eta[heads]
        )
        return {
            int(units[i]): Threat(
                threat_class=track.report.threat_class,
                expected_arrival=_time(float(arrival)),
                track_id=track.report.track_id,
            )
            for i, track, arrival in zip(heads, tracks, arrivals, strict=True)
        }

    def _show(self, unit: int, threat: Threat | None, eta: float) -> Threat | None:
        # A unit held after its last threat has gone keeps showing that threat.
        if threat is not None or not np.isfinite(eta):
            self._threat[unit] = threat
            self._shown_eta[unit] = eta
        return self._threat[unit]

    # -- alerts owned by others --------------------------------------------------------

    def adopt(self, region_ids: Iterable[str], now: datetime) -> list[str]:
        """
        Treat alerts found active at start-up as this engine's, held for `adopt_hold_s` so
        fresh reports can confirm them; returns the ids the engine does not manage.
        """
        until = _seconds(now) + self.config.adopt_hold_s
        foreign: list[str] = []
        for region_id in region_ids:
            unit = self.units.unit_of_region.get(region_id)
            if unit is not None:
                self._on[unit] = True
                self._hold_until[unit] = max(self._hold_until[unit], until)
            elif self.escalation is None or not self.escalation.adopt(region_id, until):
                foreign.append(region_id)
        return foreign

    def release(self, region_ids: Iterable[str]) -> None:
        """
        Someone else lifted or took over these alerts: stop announcing them, and stay quiet
        until their threat has passed (they stop qualifying and their hold runs out).
        """
        for region_id in region_ids:
            unit = self.units.unit_of_region.get(region_id)
            if unit is not None:
                self._on[unit] = False
                self._show(unit, None, np.inf)
                self._suppressed[unit] = True
            elif self.escalation is not None:
                self.escalation.release(region_id)

    def alerted_units(self) -> list[str]:
        return [self.units.ids[u] for u in np.flatnonzero(self._on)]
