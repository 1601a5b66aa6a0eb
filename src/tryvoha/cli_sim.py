"""
`tryvoha simulate` and `tryvoha score`: simulated nights and how well warnings served them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from tryvoha.cli import fail
from tryvoha.sim.scenario import Scenario, ScenarioError, load_scenario

ScenarioArg = Annotated[
    str | None,
    typer.Argument(help="A shipped scenario (2025-07-04) or a scenario file (.toml, .json)."),
]
SeedOpt = Annotated[int | None, typer.Option(help="Random seed; default: the scenario's.")]
AttacksOpt = Annotated[
    Path | None,
    typer.Option("--from-attacks", help="Build the scenario from missile_attacks_daily.csv."),
]
NightOpt = Annotated[
    str | None, typer.Option(help="With --from-attacks: the night ending on YYYY-MM-DD.")
]
RowOpt = Annotated[
    int | None, typer.Option(help="With --from-attacks: one data row (1 = first after header).")
]


def _scenario(
    name: str | None, attacks: Path | None, night: str | None, row: int | None
) -> tuple[Scenario, dict[str, object] | None]:
    if attacks is None:
        if night is not None or row is not None:
            fail("--night and --row need --from-attacks FILE")
        if name is None:
            fail("name a scenario (e.g. 2025-07-04) or use --from-attacks FILE")
        try:
            return load_scenario(name), None
        except ScenarioError as exc:
            fail(str(exc))
    from tryvoha.sim.scenario_from_attacks import read_attacks, rows_of_night, scenario_from_rows

    if name is not None:
        fail("give either SCENARIO or --from-attacks, not both")
    if (night is None) == (row is None):
        fail("with --from-attacks give exactly one of --night YYYY-MM-DD or --row N")
    try:
        rows = read_attacks(attacks)
        if night is not None:
            try:
                day = date.fromisoformat(night)
            except ValueError:
                fail(f"--night: not a date YYYY-MM-DD: {night!r}")
            chosen = rows_of_night(rows, day)
            if not chosen:
                fail(f"{attacks}: no attack with a start time in the night ending {night}")
            label, seed = f"attacks-{night}", int(day.strftime("%Y%m%d"))
        else:
            assert row is not None
            if not 1 <= row <= len(rows):
                fail(f"--row: {attacks} has data rows 1 to {len(rows)}")
            chosen, label, seed = [rows[row - 1]], f"attacks-row-{row}", row
        scenario, table = scenario_from_rows(chosen, label, seed)
    except ScenarioError as exc:
        fail(str(exc))
    return scenario, table


def register(app: typer.Typer) -> None:
    """Add `simulate` and `score` to the `tryvoha` CLI."""

    @app.command()
    def simulate(
        scenario: ScenarioArg = None,
        seed: SeedOpt = None,
        out: Annotated[
            Path | None, typer.Option(help="Write ground truth and reports into this directory.")
        ] = None,
        format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
        from_attacks: AttacksOpt = None,
        night: NightOpt = None,
        row: RowOpt = None,
        save_scenario: Annotated[
            Path | None, typer.Option(help="With --from-attacks: save the scenario as JSON.")
        ] = None,
    ) -> None:
        """Simulate a night: ground-truth flights and the reports a surveillance feed gives."""
        from tryvoha.regions_io import load_bundled
        from tryvoha.sim.engine_setup import engine_units, shipped_config
        from tryvoha.sim.night import simulate as run_simulation
        from tryvoha.sim.output import FORMATS, write_night

        if format not in FORMATS:
            fail(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
        chosen, table = _scenario(scenario, from_attacks, night, row)
        if save_scenario is not None:
            if table is None:
                fail("--save-scenario needs --from-attacks")
            save_scenario.write_bytes(orjson.dumps(table, option=orjson.OPT_INDENT_2))
            print(f"scenario saved to {save_scenario}")
        units = engine_units(load_bundled(), shipped_config())
        result = run_simulation(chosen, units, seed)
        print(f"{chosen.name}: {chosen.description}")
        print(
            f"seed {result.seed}, {chosen.start:%Y-%m-%d %H:%M} to {chosen.end:%Y-%m-%d %H:%M} UTC"
        )
        for group in chosen.groups:
            fates = ", ".join(f"{n} {fate.value}" for fate, n in group.fates)
            print(f"  {group.count:5d} {group.model} ({group.threat_class.value}): {fates}")
        print(f"{len(result.paths)} threats, {len(result.deliveries)} reports")
        if out is not None:
            manifest = write_night(result, out, format)
            files = ", ".join(str(out / name) for name in manifest["files"].values())
            print(f"wrote {out / 'night.json'}, {files}")

    @app.command()
    def score(
        scenario: ScenarioArg = None,
        json: Annotated[
            bool, typer.Option("--json", help="One JSON object keyed by policy.")
        ] = False,
        seed: SeedOpt = None,
        sirens: Annotated[
            Path | None,
            typer.Option(help="Real siren intervals (CSV); default: the bundled 2025-07-04 night."),
        ] = None,
        engine_config: Annotated[
            Path | None, typer.Option(help="Engine parameters (TOML); default: the shipped ones.")
        ] = None,
        tick: Annotated[float, typer.Option(help="Engine tick in simulated seconds.")] = 1.0,
        from_attacks: AttacksOpt = None,
        night: NightOpt = None,
        row: RowOpt = None,
    ) -> None:
        """Run a scenario through the engine and the baselines and print their scores."""
        from tryvoha.core.engine import ConfigError
        from tryvoha.regions_io import load_bundled
        from tryvoha.sim.baselines import SirenFileError
        from tryvoha.sim.engine_setup import engine_units, load_engine_config
        from tryvoha.sim.night import score_night
        from tryvoha.sim.night import simulate as run_simulation
        from tryvoha.sim.report import render_scores, scores_to_json

        if tick <= 0:
            fail("--tick must be positive")
        chosen, _ = _scenario(scenario, from_attacks, night, row)
        try:
            config = load_engine_config(engine_config)
        except (OSError, ConfigError) as exc:
            fail(f"engine config: {exc}")
        registry = load_bundled()
        result = run_simulation(chosen, engine_units(registry, config), seed)
        try:
            scores = score_night(result, registry, config, sirens=sirens, tick_s=tick)
        except SirenFileError as exc:
            fail(str(exc))
        if json:
            print(orjson.dumps(scores_to_json(result, scores), option=orjson.OPT_INDENT_2).decode())
        else:
            render_scores(result, scores)
