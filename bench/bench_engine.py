"""
The warning engine against all hromadas: full re-evaluation of 1,000 live tracks, the
1-second tick with 10 % of tracks updated, and report -> alert event through a real server.

    .venv/bin/python bench/bench_engine.py [--tracks 1000] [--ticks 120] [--samples 80]

Targets (issue 5): full re-evaluation < 150 ms; tick p95 < 20 ms; report -> alert p99 < 100 ms.
The tracks: 70 % Shahed-type, 20 % jet drones, 10 % cruise missiles, at random places inside
the alert units' outline, random courses, 2 km precision; a tick moves 10 % of them on by
their speed and turns them up to 10 degrees. The server run starts `tryvoha serve` on a free
port with a fresh SQLite database, makes an engine token with the CLI, listens on the SSE
stream, and times each report of a new track at a fresh place until its first alert event.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import orjson
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import cli, machine, percentile, tryvoha_server
from tryvoha.core.codec import format_time
from tryvoha.core.engine import AlertUnits, TrackReport, WarningEngine
from tryvoha.core.engine.projection import destination
from tryvoha.core.model import ThreatClass
from tryvoha.delivery.sse import parse_frames
from tryvoha.regions_io import load_bundled
from tryvoha.sim.engine_setup import engine_units, shipped_config

MIX = (
    (ThreatClass.SHAHED, 0.7, 45.0),
    (ThreatClass.JET_DRONE, 0.2, 150.0),
    (ThreatClass.CRUISE_MISSILE, 0.1, 240.0),
)
START = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)


def places(
    units: AlertUnits, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random lon/lat points inside the units' outline."""
    outline = units.outline
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < count:
        x = rng.uniform(minx, maxx, count)
        y = rng.uniform(miny, maxy, count)
        inside = shapely.contains_xy(outline, x, y)
        xs.extend(x[inside])
        ys.extend(y[inside])
    lon, lat = units.projection.inverse(np.array(xs[:count]), np.array(ys[:count]))
    return lon, lat


class Fleet:
    """The live tracks: positions, courses, speeds, classes."""

    def __init__(self, units: AlertUnits, count: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.lon, self.lat = places(units, count, rng)
        self.course = rng.uniform(0, 360, count)
        picks = rng.choice(len(MIX), count, p=[m[1] for m in MIX])
        self.kind = [MIX[i][0] for i in picks]
        self.speed = np.array([MIX[i][2] for i in picks])
        self.seen = np.zeros(count)

    def reports(self, which: np.ndarray, at: float) -> list[TrackReport]:
        elapsed = at - self.seen[which]
        self.course[which] = (self.course[which] + self.rng.uniform(-10, 10, which.size)) % 360
        lon, lat = destination(
            self.lon[which], self.lat[which], self.course[which], self.speed[which] * elapsed
        )
        self.lon[which], self.lat[which], self.seen[which] = lon, lat, at
        when = START + timedelta(seconds=at)
        return [
            TrackReport(
                f"T{i}",
                self.kind[i],
                float(self.lat[i]),
                float(self.lon[i]),
                when,
                2000.0,
                course_deg=float(self.course[i]),
                speed_mps=float(self.speed[i]),
            )
            for i in which
        ]


def full_evaluation(units: AlertUnits, tracks: int, rounds: int) -> list[float]:
    config = shipped_config()
    times = []
    for r in range(rounds):
        fleet = Fleet(units, tracks, np.random.default_rng(100 + r))
        reports = fleet.reports(np.arange(tracks), 0.0)
        engine = WarningEngine(units, config)
        began = time.perf_counter()
        engine.ingest(reports, START)
        engine.tick(START)
        times.append(time.perf_counter() - began)
    return times


def ticks(units: AlertUnits, tracks: int, seconds: int) -> tuple[list[float], int]:
    config = shipped_config()
    rng = np.random.default_rng(7)
    fleet = Fleet(units, tracks, rng)
    engine = WarningEngine(units, config)
    engine.ingest(fleet.reports(np.arange(tracks), 0.0), START)
    engine.tick(START)
    times = []
    changes = 0
    for second in range(1, seconds + 1):
        which = rng.choice(tracks, tracks // 10, replace=False)
        batch = fleet.reports(which, float(second))
        now = START + timedelta(seconds=second)
        began = time.perf_counter()
        engine.ingest(batch, now)
        decision = engine.tick(now)
        times.append(time.perf_counter() - began)
        changes += len(decision.raised) + len(decision.updated) + len(decision.lifted)
    return times, changes


async def report_to_alert(units: AlertUnits, samples: int) -> list[float]:
    """Seconds from sending each report to its first alert event on the SSE stream."""
    lon, lat = spread_places(units, samples + 1)
    with tempfile.TemporaryDirectory(prefix="tryvoha-bench-engine-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'engine.db'}"
        token = cli("token", "create", "--name", "radar", "--role", "engine", db=db)
        with tryvoha_server(db) as url:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
                seen: dict[str, float] = {}
                listener = asyncio.create_task(listen(url, seen))
                await asyncio.sleep(0.5)
                # Warm-up: the first report builds the engine's spatial index.
                await post(client, "warm-up", lon[0], lat[0])
                await wait_for(seen, "warm-up", 30)
                latencies = []
                for i in range(1, samples + 1):
                    track = f"S{i}"
                    began = time.perf_counter()
                    await post(client, track, lon[i], lat[i])
                    arrived = await wait_for(seen, track, 5)
                    latencies.append(arrived - began)
                    await asyncio.sleep(0.02)
                listener.cancel()
    return latencies


def spread_places(units: AlertUnits, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Places at least 70 km apart, so every report alerts units nothing else alerted."""
    rng = np.random.default_rng(11)
    lon, lat = places(units, count * 40, rng)
    x, y = units.projection.forward(lon, lat)
    chosen: list[int] = []
    for i in range(lon.size):
        if all(np.hypot(x[i] - x[j], y[i] - y[j]) > 70_000 for j in chosen):
            chosen.append(i)
            if len(chosen) == count:
                break
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} places 70 km apart; ask for fewer --samples")
    return lon[chosen], lat[chosen]


async def post(client: httpx.AsyncClient, track: str, lon: float, lat: float) -> None:
    report = {
        "track_id": track,
        "class": "shahed",
        "lat": float(lat),
        "lon": float(lon),
        "time": format_time(datetime.now(UTC)),
        "precision_m": 1000,
        "status": "active",
        "course_deg": 90.0,
        "speed_mps": 45.0,
    }
    response = await client.post("/api/tracks", json={"reports": [report]})
    response.raise_for_status()
    if response.json()["accepted"] != 1:
        raise RuntimeError(f"report refused: {response.text}")


async def listen(url: str, seen: dict[str, float]) -> None:
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{url}/api/stream") as stream,
    ):
        buffer = ""
        async for chunk in stream.aiter_text():
            buffer += chunk
            *frames, buffer = buffer.split("\n\n")
            for frame in parse_frames("\n\n".join(frames) + "\n\n"):
                if "data" not in frame or frame.get("event") == "snapshot":
                    continue
                threat = orjson.loads(frame["data"])["alert"].get("threat") or {}
                track = threat.get("track_id")
                if track is not None and track not in seen:
                    seen[track] = time.perf_counter()


async def wait_for(seen: dict[str, float], track: str, limit_s: float) -> float:
    deadline = time.perf_counter() + limit_s
    while track not in seen:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no alert event for {track} within {limit_s} s")
        await asyncio.sleep(0.0005)
    return seen[track]


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--samples", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    units = engine_units(load_bundled(), shipped_config())
    print("## Warning engine\n")
    print(f"{machine()}; {len(units)} alert units (hromadas, Kyiv city, uncovered rests)\n")
    full = full_evaluation(units, args.tracks, args.rounds)
    print(
        f"- full re-evaluation, {args.tracks} tracks: median {ms(full, 50)}, "
        f"max {ms(full, 100)} (target < 150 ms)"
    )
    tick_times, changes = ticks(units, args.tracks, args.ticks)
    print(
        f"- 1-s tick, {args.tracks // 10} of {args.tracks} tracks updated ({args.ticks} ticks, "
        f"{changes} region changes): p50 {ms(tick_times, 50)}, p95 {ms(tick_times, 95)}, "
        f"max {ms(tick_times, 100)} (target p95 < 20 ms)"
    )
    latencies = asyncio.run(report_to_alert(units, args.samples))
    print(
        f"- report -> alert event on /api/stream through `tryvoha serve` (SQLite), "
        f"{len(latencies)} reports: p50 {ms(latencies, 50)}, p99 {ms(latencies, 99)}, "
        f"max {ms(latencies, 100)} (target p99 < 100 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
