"""
Benchmark of the bundled region registry: load time and bulk point location.

    .venv/bin/python bench/bench_regions.py [--points 100000] [--rounds 5]

Prints the load time and points/s of `locate_many` on uniform random points in Ukraine's
bounding box (about half fall in no hromada: sea, neighbours, Kyiv city, gaps).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tryvoha.regions_io import load_bundled

BBOX = (22.1, 44.3, 40.3, 52.4)  # min lon, min lat, max lon, max lat
TARGET = 200_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    registry = load_bundled()
    print(f"load_bundled: {len(registry)} regions in {time.perf_counter() - started:.3f} s")

    rng = np.random.default_rng(20250704)
    best = float("inf")
    found = 0
    for _ in range(args.rounds):
        lons = rng.uniform(BBOX[0], BBOX[2], args.points)
        lats = rng.uniform(BBOX[1], BBOX[3], args.points)
        started = time.perf_counter()
        ids = registry.locate_many(lats, lons)
        best = min(best, time.perf_counter() - started)
        found = int(np.count_nonzero(ids != None))  # noqa: E711 (elementwise on an object array)
    rate = args.points / best
    print(
        f"locate_many: {args.points} points in {best * 1000:.1f} ms (best of {args.rounds}), "
        f"{rate:,.0f} points/s; {found} inside a region"
    )
    started = time.perf_counter()
    for lat, lon in zip(lats[:2000], lons[:2000], strict=True):
        registry.locate(float(lat), float(lon))
    single = 2000 / (time.perf_counter() - started)
    print(f"locate: {single:,.0f} points/s one at a time")
    if rate < TARGET:
        print(f"below the target of {TARGET:,} points/s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
