"""
Ground truth: seeded trajectories of every threat in a scenario.

Each threat flies at a constant speed drawn from its group's range along a polyline in the
engine's plane: launch point, a border gate (drones and cruise missiles, from the routes
table), a few random doglegs, target. Its fate decides where it ends: at the target
(impact), shot down part-way (destroyed), or lost part-way by the feed, after which it
flies on confused for a while and comes down (lost). Ballistic threats fly straight.
Everything random comes from the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tryvoha.core.engine.projection import Projection
from tryvoha.core.model import ThreatClass
from tryvoha.sim.scenario import Fate, Group, Place, Scenario

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TruePath:
    """One threat's real flight: waypoints (plane metres) and the times it passes them."""

    threat_id: str
    group: str
    model: str
    threat_class: ThreatClass
    fate: Fate
    speed_mps: float
    t: Floats
    x: Floats
    y: Floats
    lost_at: float | None = None
    """When the feed loses a lost threat (it flies on after that)."""

    @property
    def launched_at(self) -> float:
        return float(self.t[0])

    @property
    def ended_at(self) -> float:
        return float(self.t[-1])

    def position(self, times: npt.ArrayLike) -> tuple[Floats, Floats]:
        at = np.asarray(times, dtype=np.float64)
        return np.interp(at, self.t, self.x), np.interp(at, self.t, self.y)

    def heading(self, times: npt.ArrayLike) -> Floats:
        """Plane angle (radians from +x, counter-clockwise) of the leg flown at each time."""
        at = np.asarray(times, dtype=np.float64)
        leg = np.clip(np.searchsorted(self.t, at, side="right") - 1, 0, self.t.size - 2)
        angle: Floats = np.arctan2(self.y[leg + 1] - self.y[leg], self.x[leg + 1] - self.x[leg])
        return angle

    def samples(self, step_s: float) -> tuple[Floats, Floats, Floats]:
        """Times every *step_s* from launch to end, plus every waypoint, and positions."""
        regular = np.arange(self.launched_at, self.ended_at, step_s)
        times = np.unique(np.concatenate([regular, self.t]))
        x, y = self.position(times)
        return times, x, y


def generate(
    scenario: Scenario, projection: Projection, rng: np.random.Generator
) -> list[TruePath]:
    """Every threat of *scenario*, numbered in launch order within each group."""
    paths: list[TruePath] = []
    number = 0
    for group in scenario.groups:
        fates = np.array([f for f, n in group.fates for _ in range(n)], dtype=object)
        fates = fates[rng.permutation(fates.size)]
        start = group.launch_start.timestamp()
        span = (group.launch_end - group.launch_start).total_seconds()
        launches = np.sort(start + rng.uniform(0.0, span, group.count))
        for fate, launched in zip(fates, launches, strict=True):
            number += 1
            paths.append(
                _path(
                    scenario, group, f"T{number:04d}", Fate(fate), float(launched), projection, rng
                )
            )
    return paths


def _pick(rng: np.random.Generator, choices: list[tuple[Place, float]]) -> Place:
    weights = np.array([w for _, w in choices])
    return choices[int(rng.choice(len(choices), p=weights / weights.sum()))][0]


def _point(place: Place, projection: Projection, rng: np.random.Generator) -> tuple[float, float]:
    x, y = projection.forward(place.lon, place.lat)
    radius = place.radius_km * 1000.0 * np.sqrt(rng.uniform())
    angle = rng.uniform(0.0, 2 * np.pi)
    return float(x + radius * np.cos(angle)), float(y + radius * np.sin(angle))


def _path(
    scenario: Scenario,
    group: Group,
    threat_id: str,
    fate: Fate,
    launched: float,
    projection: Projection,
    rng: np.random.Generator,
) -> TruePath:
    launch_place = _pick(rng, [(scenario.places[k], w) for k, w in group.launch_from])
    target = _pick(rng, scenario.target_weights(group.targets))
    points = [_point(launch_place, projection, rng)]
    straight = group.threat_class is ThreatClass.BALLISTIC_MISSILE
    gates = scenario.routes.get(launch_place.key, ())
    if gates and not straight:
        gate = scenario.places[gates[int(rng.integers(len(gates)))]]
        points.append(_point(gate, projection, rng))
    entry = len(points) - 1
    end = _point(target, projection, rng)
    if not straight:
        points.extend(_doglegs(points[-1], end, group.doglegs, rng))
    points.append(end)
    speed = float(rng.uniform(*group.speed_kmh)) / 3.6
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    distance = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
    times = launched + distance / speed
    lost_at = None
    if fate is not Fate.IMPACT:
        share = scenario.fate.destroyed_at if fate is Fate.DESTROYED else scenario.fate.lost_at
        if straight:
            share = (0.9, 0.98)
        cut = distance[entry] + rng.uniform(*share) * (distance[-1] - distance[entry])
        xs, ys, times = _cut(xs, ys, times, distance, cut)
        if fate is Fate.LOST:
            lost_at = float(times[-1])
            xs, ys, times = _wander(xs, ys, times, speed, scenario, rng)
    return TruePath(
        threat_id=threat_id,
        group=group.name,
        model=group.model,
        threat_class=group.threat_class,
        fate=fate,
        speed_mps=speed,
        t=times,
        x=xs,
        y=ys,
        lost_at=lost_at,
    )


def _doglegs(
    start: tuple[float, float],
    end: tuple[float, float],
    count: tuple[int, int],
    rng: np.random.Generator,
) -> list[tuple[float, float]]:
    n = int(rng.integers(count[0], count[1] + 1))
    if n == 0:
        return []
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = float(np.hypot(dx, dy))
    if length == 0:
        return []
    normal = (-dy / length, dx / length)
    fractions = np.sort(rng.uniform(0.2, 0.8, n))
    offsets = np.clip(rng.normal(0.0, 0.12 * length, n), -0.3 * length, 0.3 * length)
    return [
        (start[0] + f * dx + o * normal[0], start[1] + f * dy + o * normal[1])
        for f, o in zip(fractions, offsets, strict=True)
    ]


def _cut(
    xs: Floats, ys: Floats, times: Floats, distance: Floats, at: float
) -> tuple[Floats, Floats, Floats]:
    """The path up to *at* metres along it."""
    keep = distance < at
    end_x = float(np.interp(at, distance, xs))
    end_y = float(np.interp(at, distance, ys))
    end_t = float(np.interp(at, distance, times))
    return (
        np.append(xs[keep], end_x),
        np.append(ys[keep], end_y),
        np.append(times[keep], end_t),
    )


def _wander(
    xs: Floats,
    ys: Floats,
    times: Floats,
    speed: float,
    scenario: Scenario,
    rng: np.random.Generator,
) -> tuple[Floats, Floats, Floats]:
    """A lost threat flies on, off course, for a while; then it comes down."""
    heading = float(np.arctan2(ys[-1] - ys[-2], xs[-1] - xs[-2])) if xs.size > 1 else 0.0
    heading += np.radians(rng.normal(0.0, scenario.fate.lost_turn_sd_deg))
    flight = float(rng.uniform(*scenario.fate.lost_flight_s))
    end_x = xs[-1] + speed * flight * np.cos(heading)
    end_y = ys[-1] + speed * flight * np.sin(heading)
    return np.append(xs, end_x), np.append(ys, end_y), np.append(times, times[-1] + flight)
