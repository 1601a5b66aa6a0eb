"""
One simulated night end to end: ground truth, the feed's reports, and the scores of the
engine and the baselines on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryvoha.core.engine import AlertUnits, EngineConfig, WarningEngine
from tryvoha.core.regions import RegionRegistry
from tryvoha.sim.baselines import KYIV_REGIONS, oblast_units, oblast_wide, real_sirens
from tryvoha.sim.feed import Delivery, coverage_area, reports_for
from tryvoha.sim.generator import TruePath, generate
from tryvoha.sim.run import AlertLog, run_engine
from tryvoha.sim.scenario import Scenario
from tryvoha.sim.scoring import Encounter, PolicyScore, find_encounters, scope_units, score


@dataclass(frozen=True, slots=True)
class Night:
    scenario: Scenario
    seed: int
    units: AlertUnits
    paths: list[TruePath]
    deliveries: list[Delivery]

    @property
    def start(self) -> float:
        return self.scenario.start.timestamp()

    @property
    def end(self) -> float:
        return self.scenario.end.timestamp()


def simulate(scenario: Scenario, units: AlertUnits, seed: int | None = None) -> Night:
    """Ground truth and reports of *scenario*; the same seed always gives the same night."""
    used = scenario.seed if seed is None else seed
    rng = np.random.default_rng(used)
    paths = generate(scenario, units.projection, rng)
    coverage = coverage_area(units.outline, scenario)
    deliveries = reports_for(paths, scenario, coverage, units.projection, rng)
    return Night(scenario, used, units, paths, deliveries)


@dataclass(frozen=True, slots=True)
class NightScores:
    """Scores keyed by policy: over all areas, and over Kyiv city and oblast."""

    overall: dict[str, PolicyScore]
    kyiv: dict[str, PolicyScore]


def score_night(
    night: Night,
    registry: RegionRegistry,
    config: EngineConfig,
    *,
    sirens: Path | None = None,
    tick_s: float = 1.0,
    engine_log: AlertLog | None = None,
    oblast_log: AlertLog | None = None,
    progress: Callable[[str], None] | None = None,
) -> NightScores:
    """
    Run the engine and the oblast-wide baseline over the night (unless their logs are given,
    e.g. read back from a server), read the real sirens, and score all three.
    """
    say = progress or (lambda _: None)
    if engine_log is None:
        say("running the engine")
        engine = WarningEngine(night.units, config)
        engine_log = run_engine(engine, night.deliveries, night.start, night.end, tick_s=tick_s)
    if oblast_log is None:
        say("running the oblast-wide baseline")
        oblasts = oblast_units(registry, config, night.units.projection)
        oblast_log = oblast_wide(
            oblasts, config, night.deliveries, night.start, night.end, tick_s=tick_s
        )
    siren_log = real_sirens(registry, night.start, night.end, path=sirens)
    say("scoring")
    encounters = find_encounters(night.units, night.paths, config, start=night.start, end=night.end)
    kyiv = scope_units(night.units, KYIV_REGIONS)

    def rate(name: str, log: AlertLog, scope: list[int] | None, scope_name: str) -> PolicyScore:
        return score(
            name,
            night.units,
            night.paths,
            encounters,
            log,
            config,
            scope=scope,
            scope_name=scope_name,
        )

    overall = {
        "engine": rate("engine", engine_log, None, "all"),
        "oblast_wide": rate("oblast_wide", oblast_log, None, "all"),
    }
    in_kyiv = {
        "engine": rate("engine", engine_log, kyiv, "kyiv"),
        "oblast_wide": rate("oblast_wide", oblast_log, kyiv, "kyiv"),
        "real_sirens": rate("real_sirens", siren_log, kyiv, "kyiv"),
    }
    return NightScores(overall, in_kyiv)


def encounters_of(night: Night, config: EngineConfig) -> list[Encounter]:
    return find_encounters(night.units, night.paths, config, start=night.start, end=night.end)
