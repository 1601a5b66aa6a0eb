"""
Raise -> acknowledged latency and sustained durable events/s on SQLite, through a real
server: one operator alone (latency), then 20 concurrent operators (throughput).

    .venv/bin/python bench/bench_commands.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import cli, machine, percentile, tryvoha_server

OBLASTS = [
    str(i) for i in (3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)
]


async def operator(
    client: httpx.AsyncClient, region: str, until: float, latencies: list[float]
) -> int:
    events = 0
    up = True
    while time.perf_counter() < until:
        path = "/api/alerts" if up else "/api/alerts/lift"
        started = time.perf_counter()
        response = await client.post(path, json={"regions": [region]})
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        events += len(response.json()["events"])
        up = not up
    return events


async def measure(url: str, token: str, operators: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=operators)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=10
    ) as client:
        await operator(client, OBLASTS[0], time.perf_counter() + 1, [])  # warm-up
        started = time.perf_counter()
        until = started + seconds
        counts = await asyncio.gather(
            *(
                operator(client, OBLASTS[i % len(OBLASTS)], until, latencies)
                for i in range(operators)
            )
        )
        elapsed = time.perf_counter() - started
    return {
        "operators": operators,
        "requests": len(latencies),
        "events_per_s": sum(counts) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = cli("token", "create", "--name", "bench", "--role", "operator", db=db)
        with tryvoha_server(db) as url:
            alone = asyncio.run(measure(url, token, 1, args.seconds))
            crowd = asyncio.run(measure(url, token, 20, args.seconds))
    print(f"machine: {machine()}")
    print("| operators | requests | durable events/s | ack p50 | ack p99 |")
    print("|---|---|---|---|---|")
    for row in (alone, crowd):
        print(
            f"| {row['operators']} | {row['requests']} | {row['events_per_s']:.0f} | "
            f"{row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms |"
        )
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/commands.json").write_text(
        json.dumps({"alone": alone, "crowd": crowd}, indent=2)
    )


if __name__ == "__main__":
    main()
