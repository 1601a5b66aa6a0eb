#!/usr/bin/env python3
"""
Draw the example pictures of docs/history.md into docs/img/ from the real datasets.

    .venv/bin/python scripts/make_history_plots.py [SHARED_DATA_DIR] [--out DIR]

Imports the official English CSV, the derived parquet and the attacks register into a
throwaway database, then draws a night's timeline, Kyiv's alert-hours per month and by hour of
day, and a map of alert hours per oblast, for fixed periods (the same inputs give the same
pictures).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tryvoha.history import pictures
from tryvoha.history.analytics import Analytics
from tryvoha.history.attacks import import_attacks
from tryvoha.history.calendar import parse_bound
from tryvoha.history.dataset import Selection
from tryvoha.history.importer import import_sirens
from tryvoha.history.options import Lang
from tryvoha.history.queries import Period
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.weapons import WeaponTable
from tryvoha.regions_io import load_bundled
from tryvoha.storage.factory import open_store

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "docs" / "img"
MAX_BYTES = 200_000


def period(since: str, until: str) -> Period:
    return Period(parse_bound(since, end=False), parse_bound(until, end=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    sirens = args.source / "sirens"
    attacks = args.source / "attacks"
    registry = load_bundled()
    known = set(registry.ids())
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(f"sqlite:///{Path(directory) / 'plots.db'}")
        repository = HistoryRepository.for_store(store)
        for path in (
            sirens / "official_data_en.csv",
            sirens / "derived" / "alerts_events_labeled.parquet",
        ):
            import_sirens(repository, path, known_regions=known)
        weapons = WeaponTable.from_csv(attacks / "missiles_and_uavs.csv")
        import_attacks(repository, attacks / "missile_attacks_daily.csv", weapons=weapons)
        analytics = Analytics(repository, store, registry)
        best = Selection()
        drawn = {
            "history-night-2025-07-04.png": pictures.timeline_png(
                analytics, "2025-07-04", best, Lang.EN
            ),
            "history-monthly-kyiv.png": pictures.monthly_png(
                analytics, "31", period("2022-03-01", "2026-05-31"), best, Lang.UK
            ),
            "history-hourly-kyiv.png": pictures.hourly_png(
                analytics, "31", period("2022-03-15", "2024-04-22"), best, Lang.EN
            ),
            "history-choropleth-2023.png": pictures.choropleth_png(
                analytics, period("2023-01-01", "2023-12-31"), best, Lang.UK
            ),
        }
        repository.close()
        store.close()
    too_big = []
    for name, png in drawn.items():
        (args.out / name).write_bytes(png)
        print(f"wrote {args.out / name} ({len(png) // 1024} KiB)")
        if len(png) > MAX_BYTES:
            too_big.append(name)
    for name in too_big:
        print(f"{name} is over {MAX_BYTES // 1000} kB", file=sys.stderr)
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
