"""
The score table of a night, for people (rich) and for programs (JSON).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from tryvoha.sim.night import Night, NightScores
from tryvoha.sim.scoring import PolicyScore

ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("areas", "areas", str),
    ("encounters", "encounters", str),
    ("misses", "misses", str),
    ("misses_within_speed", "misses, within speed", str),
    ("timely_rate", "timely rate", lambda v: "-" if v is None else f"{v:.2%}"),
    ("lead_time_mean_s", "lead time mean", lambda v: _minutes(v)),
    ("lead_time_median_s", "lead time median", lambda v: _minutes(v)),
    ("lead_time_p5_s", "lead time p5", lambda v: _minutes(v)),
    ("departure_mean_s", "departure mean", lambda v: _minutes(v)),
    ("departure_p95_s", "departure p95", lambda v: _minutes(v)),
    ("intervals", "alert intervals", str),
    ("false_alarm_ratio", "false-alarm ratio", lambda v: "-" if v is None else f"{v:.2f}"),
    ("csi", "CSI", lambda v: "-" if v is None else f"{v:.2f}"),
    ("alerted_hromada_hours", "alerted hromada-h", lambda v: f"{v:,.0f}"),
    ("over_warning_hromada_hours", "over-warning hromada-h", lambda v: f"{v:,.0f}"),
    ("over_warning_km2_hours", "over-warning km²-h", lambda v: f"{v:,.0f}"),
    ("efficiency", "efficiency", lambda v: "-" if v is None else f"{v:.0%}"),
    ("churn_per_area_hour", "churn per area-h", lambda v: f"{v:.3f}"),
    ("flaps", "re-alerts < 10 min", str),
)
"""(field, label, format) of each table row."""


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def render_scores(night: Night, scores: NightScores, console: Console | None = None) -> None:
    # Piped output gets a fixed width wide enough for the table, not the 80-column default.
    out = console or Console(width=None if sys.stdout.isatty() else 120)
    scenario = night.scenario
    out.print(
        f"[bold]{scenario.name}[/]: {scenario.description} (seed {night.seed}); "
        f"{len(night.paths)} threats, {len(night.deliveries)} reports"
    )
    columns = [
        ("engine", scores.overall["engine"]),
        ("oblast-wide", scores.overall["oblast_wide"]),
        ("engine, Kyiv", scores.kyiv["engine"]),
        ("oblast-wide, Kyiv", scores.kyiv["oblast_wide"]),
        ("real sirens, Kyiv", scores.kyiv["real_sirens"]),
    ]
    table = Table(title="Warning policies on the same night (Kyiv: Kyiv city and oblast)")
    table.add_column("metric")
    for name, _ in columns:
        table.add_column(name, justify="right")
    for key, label, show in ROWS:
        table.add_row(label, *(show(getattr(s, key)) for _, s in columns))
    out.print(table)
    engine, oblast = scores.overall["engine"], scores.overall["oblast_wide"]
    if oblast.over_warning_hromada_hours:
        share = engine.over_warning_hromada_hours / oblast.over_warning_hromada_hours
        out.print(f"engine over-warning is {share:.0%} of the oblast-wide baseline's")


def scores_to_json(night: Night, scores: NightScores) -> dict[str, Any]:
    """
    One object keyed by policy: `engine` and `oblast_wide` over all areas, `real_sirens`
    over Kyiv city and oblast (where real sirens are known), and `kyiv` with all three
    over that same area.
    """

    def plain(score: PolicyScore) -> dict[str, Any]:
        return dict(score.to_dict())

    return {
        "scenario": night.scenario.name,
        "seed": night.seed,
        "engine": plain(scores.overall["engine"]),
        "oblast_wide": plain(scores.overall["oblast_wide"]),
        "real_sirens": plain(scores.kyiv["real_sirens"]),
        "kyiv": {name: plain(score) for name, score in scores.kyiv.items()},
    }
