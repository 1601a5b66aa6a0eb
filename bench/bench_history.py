"""
Benchmark of history and analytics: the full import of the official sirens CSV into a fresh
SQLite database, and statistics queries over the whole history.

    .venv/bin/python bench/bench_history.py [--rounds 7] [--data ../shared/data]

The import is timed end to end (parse, map names, check duplicates, write durably). Queries
run over everything imported (the official CSV, the derived parquet and the attacks register)
and are answered afresh every round, bypassing the answer cache. What the server keeps per data
version is kept here too: the snapshot of intervals (its build is reported on its own) and the
merged episodes per region, so the first round of a query, its max, is the cold cost. Targets:
import under 5 s, every query under 200 ms. Prints Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tryvoha.core.model import RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.history import queries
from tryvoha.history.analytics import Analytics
from tryvoha.history.attacks import import_attacks
from tryvoha.history.calendar import local_label
from tryvoha.history.dataset import AlertHistory, Selection
from tryvoha.history.importer import import_sirens
from tryvoha.history.options import Bin
from tryvoha.history.queries import Period
from tryvoha.history.register import night, records
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.weapons import WeaponTable
from tryvoha.regions_io import load_bundled
from tryvoha.storage.factory import open_store

ROOT = Path(__file__).resolve().parent.parent
IMPORT_TARGET_S = 5.0
QUERY_TARGET_MS = 200.0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def cases(
    history: AlertHistory, registry: RegionRegistry, period: Period, attacks: pd.DataFrame
) -> dict[str, Callable[[], Any]]:
    """The questions timed: each over the whole history."""
    chosen = Selection()

    def region(region_id: str) -> Callable[[], Any]:
        return lambda: queries.region_stats(history, registry, region_id, period, chosen)

    def ranked(level: RegionLevel) -> Callable[[], Any]:
        return lambda: queries.rankings(history, registry, level, period, chosen)

    def overlap(level: RegionLevel) -> Callable[[], Any]:
        return lambda: queries.overlap_stats(history, registry, level, period, chosen)

    def per(size: Bin) -> Callable[[], Any]:
        return lambda: queries.calendar(history, registry, "31", period, chosen, size)

    return {
        "region summary, Kyiv (31)": region("31"),
        "region summary, a hromada (279)": region("279"),
        "rankings, oblasts": ranked(RegionLevel.OBLAST),
        "rankings, raions": ranked(RegionLevel.RAION),
        "rankings, hromadas": ranked(RegionLevel.HROMADA),
        "overlap, oblasts": overlap(RegionLevel.OBLAST),
        "overlap, raions": overlap(RegionLevel.RAION),
        "overlap, hromadas": overlap(RegionLevel.HROMADA),
        "hour of day, Kyiv": lambda: queries.hourly(history, registry, "31", period, chosen),
        "per month, Kyiv": per(Bin.MONTH),
        "per day, Kyiv": per(Bin.DAY),
        "nights, Kyiv": lambda: queries.night_stats(history, registry, "31", period, chosen),
        "attacks, one night": lambda: night(attacks, "2025-07-04"),
        "attacks, records": lambda: records(attacks),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    sirens = args.data / "sirens" / "official_data_en.csv"
    parquet = args.data / "sirens" / "derived" / "alerts_events_labeled.parquet"
    attacks = args.data / "attacks" / "missile_attacks_daily.csv"
    models = args.data / "attacks" / "missiles_and_uavs.csv"
    if not sirens.is_file():
        print(f"{sirens} is absent: nothing to measure")
        return 1
    registry = load_bundled()
    known = set(registry.ids())
    failed = False
    print("## History and analytics\n")
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(f"sqlite:///{Path(directory) / 'bench.db'}")
        repository = HistoryRepository.for_store(store)
        print("| import (fresh SQLite, durable) | rows | imported | seconds |")
        print("|---|---:|---:|---:|")
        seconds, summary = timed(lambda: import_sirens(repository, sirens, known_regions=known))
        summary_rows = summary.rows_read
        print(f"| {sirens.name} | {summary.rows_read} | {summary.imported} | {seconds:.2f} |")
        failed |= seconds > IMPORT_TARGET_S
        seconds, again = timed(lambda: import_sirens(repository, sirens, known_regions=known))
        print(f"| {sirens.name} again | {again.rows_read} | {again.imported} | {seconds:.2f} |")
        if parquet.is_file():
            seconds, summary = timed(
                lambda: import_sirens(repository, parquet, known_regions=known)
            )
            print(f"| {parquet.name} | {summary.rows_read} | {summary.imported} | {seconds:.2f} |")
        if attacks.is_file():
            weapons = WeaponTable.from_csv(models) if models.is_file() else WeaponTable()
            seconds, summary = timed(lambda: import_attacks(repository, attacks, weapons=weapons))
            print(f"| {attacks.name} | {summary.rows_read} | {summary.imported} | {seconds:.2f} |")

        command = [sys.executable, "-m", "tryvoha", "history", "import", str(sirens), "--quiet"]
        command += ["--database-url", f"sqlite:///{Path(directory) / 'cli.db'}"]
        seconds, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        rows = f"{summary_rows} | {summary_rows}"
        print(f"| `tryvoha history import` (whole process) | {rows} | {seconds:.2f} |")
        failed |= seconds > IMPORT_TARGET_S

        analytics = Analytics(repository, store, registry)
        seconds, history = timed(analytics.history)
        print(
            f"\nSnapshot of {history.size} intervals built in {seconds * 1000:.0f} ms "
            "(once per data version).\n"
        )
        period = analytics.period(None, None, datetime.now(UTC))
        frame = analytics.attacks()
        print(
            f"| query over {local_label(period.lo)} – {local_label(period.hi)} | p50 ms | max ms |"
        )
        print("|---|---:|---:|")
        for name, case in cases(history, registry, period, frame).items():
            times = [timed(case)[0] * 1000 for _ in range(args.rounds)]
            slowest = max(times)
            mark = "" if slowest <= QUERY_TARGET_MS else " (over target)"
            failed |= slowest > QUERY_TARGET_MS
            print(f"| {name} | {statistics.median(times):.1f} | {slowest:.1f}{mark} |")
        summary_of_kyiv = cases(history, registry, period, frame)["region summary, Kyiv (31)"]
        question = ("region", period, Selection(), "31")
        analytics.answer(question, summary_of_kyiv)
        cached = [
            timed(lambda: analytics.answer(question, summary_of_kyiv))[0] * 1000
            for _ in range(args.rounds)
        ]
        print(
            f"| cached answer (version check + lookup) | {statistics.median(cached):.2f} "
            f"| {max(cached):.2f} |"
        )
        repository.close()
        store.close()
    print(
        f"\nTargets: import under {IMPORT_TARGET_S:.0f} s, queries under {QUERY_TARGET_MS:.0f} ms."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
