"""
Raise -> acknowledged latency and sustained durable events/s on SQLite through a real
server. wrk (C, a separate process) plays the operators so that the load generator costs
little: 1 connection for the latency of one operator alone, then 20 concurrent operators.
Every request raises or lifts a different region, so every request makes one event; the
events/s figure is the growth of the log's sequence number over the run.

    .venv/bin/python -m bench.bench_commands [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

import httpx

from bench.common import cli, ensure_debian_packages, machine, tryvoha_server
from tryvoha.regions_io import load_bundled

SCRIPT = """
local ids = {%s}
local i = 0
local n = #ids
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
    local region = ids[(i %% n) + 1]
    local lifting = math.floor(i / n) %% 2 == 1
    i = i + 1
    local path = lifting and "/api/alerts/lift" or "/api/alerts"
    return wrk.format(nil, path, nil, '{"regions": ["' .. region .. '"]}')
end
"""


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors during the run:\n{out}")

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            raise RuntimeError(f"no {label}% latency in:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"requests": requests, "p50_ms": latency("50"), "p99_ms": latency("99")}


def lift_everything(url: str, token: str) -> None:
    active = httpx.get(f"{url}/api/alerts/active").json()["alerts"]
    if active:
        httpx.post(
            f"{url}/api/alerts/lift",
            json={"regions": [a["region_id"] for a in active]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).raise_for_status()


def measure(url: str, token: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    # The script starts with raises: begin from a clear map so none of them is a no-op.
    lift_everything(url, token)
    before = httpx.get(f"{url}/healthz").json()["last_seq"]
    result = run_wrk(url, script, connections, seconds)
    after = httpx.get(f"{url}/healthz").json()["last_seq"]
    return {"operators": connections, **result, "events_per_s": (after - before) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    ensure_debian_packages("wrk")
    ids = [r.id for r in load_bundled()]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = cli("token", "create", "--name", "bench", "--role", "operator", db=db)
        script = Path(tmp) / "operators.lua"
        script.write_text(SCRIPT % (", ".join(f'"{i}"' for i in ids), token))
        with tryvoha_server(db) as url:
            run_wrk(url, script, 4, 2)  # warm-up
            alone = measure(url, token, script, 1, args.seconds)
            crowd = measure(url, token, script, 20, args.seconds)
    print(f"machine: {machine()}")
    print("| operators | requests | durable events/s | ack p50 | ack p99 |")
    print("|---|---|---|---|---|")
    for row in (alone, crowd):
        print(
            f"| {row['operators']:.0f} | {row['requests']:.0f} | {row['events_per_s']:.0f} | "
            f"{row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms |"
        )
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/commands.json").write_text(
        json.dumps({"alone": alone, "crowd": crowd}, indent=2)
    )


if __name__ == "__main__":
    main()
