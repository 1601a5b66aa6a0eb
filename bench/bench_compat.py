"""
The alerts.in.ua-compatible hot paths under 64 keep-alive connections (wrk), side by side
with nginx serving the same bytes as static files in the same run:
`/v1/iot/active_air_raid_alerts_by_oblast.json` and `/v1/alerts/active.json`, with a token.

    .venv/bin/python -m bench.bench_compat [--seconds 10]

The server runs as its own process on 127.0.0.1 (ports below 32768), configured like
`tryvoha serve`, with rate limits opened wide so that every request is answered (the
limiter still runs); once through the ASGI stack alone, once with the
HTTP protocol shortcut (`tryvoha.compat.protocol.compat_http_protocol`). Every process it
starts is stopped at the end. Needs wrk and nginx: installed with apt when missing and run
as root, otherwise it says what to install.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.common import cli, machine, nginx_static, tryvoha_server, wrk
from tryvoha.regions_io import load_bundled

PATHS = (
    "/v1/iot/active_air_raid_alerts_by_oblast.json",
    "/v1/alerts/active.json",
)


MODES = {
    "asgi": "through the ASGI stack",
    "shortcut": "with the HTTP protocol shortcut (compat_http_protocol)",
}


def serve(port: int, database_url: str, mode: str) -> None:
    """Run the server in this process as `tryvoha serve` does, without rate limits."""
    import uvicorn

    from tryvoha.api.app import create_app
    from tryvoha.compat.protocol import compat_http_protocol
    from tryvoha.compat.ratelimit import CompatLimits, Rate
    from tryvoha.compat.runtime import compat_runtime
    from tryvoha.config import Settings

    app = create_app(Settings(database_url=database_url, port=port))
    wide = Rate(per_minute=1e12, burst=10**12)
    compat_runtime(app).set_limits(CompatLimits(requests=wide, history=wide))
    http: Any = compat_http_protocol(app) if mode == "shortcut" else "httptools"
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http=http,
        timeout_graceful_shutdown=3,
    )


def raise_alerts(url: str, operator: str) -> None:
    """A busy night: 40 raions under air raid, 60 hromadas with other alerts, a few warnings."""
    registry = load_bundled()
    raions = [r.id for r in registry if r.level.value == "raion"]
    hromadas = [r.id for r in registry if r.level.value == "hromada" and r.id.isdigit()]
    headers = {"Authorization": f"Bearer {operator}"}
    commands = [
        {"regions": raions[:40], "type": "air_raid"},
        {"regions": raions[40:50], "type": "air_raid", "level": "warning"},
        {"regions": hromadas[:60], "type": "artillery_shelling"},
    ]
    for command in commands:
        httpx.post(f"{url}/api/alerts", json=command, headers=headers).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        mode, port, database_url = args.serve
        serve(int(port), database_url, mode)
        return
    rps: dict[tuple[str, str], float] = {}
    bodies: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        operator = cli("token", "create", "--name", "operator", "--role", "operator", db=db)
        reader = cli("token", "create", "--name", "device", "--role", "reader", db=db)
        auth = {"Authorization": f"Bearer {reader}"}
        for mode in MODES:
            command = [sys.executable, "-m", "bench.bench_compat", "--serve", mode]
            with tryvoha_server(db, command=command) as url:
                if not bodies:
                    raise_alerts(url, operator)
                for path in PATHS:
                    response = httpx.get(f"{url}{path}", headers=auth)
                    response.raise_for_status()
                    assert bodies.setdefault(path, response.content) == response.content
                    rps[mode, path] = wrk(f"{url}{path}", seconds=args.seconds, headers=auth)
        with nginx_static(bodies) as peer:
            for path in PATHS:
                assert httpx.get(f"{peer}{path}").content == bodies[path]
                rps["nginx", path] = wrk(f"{peer}{path}", seconds=args.seconds, headers=auth)
    report(rps, bodies, args.seconds)


def report(rps: dict[tuple[str, str], float], bodies: dict[str, bytes], seconds: int) -> None:
    print(f"machine: {machine()}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end: {load} (other work on the machine skews all figures)")
    print(f"64 keep-alive connections, wrk -t2, {seconds} s per run, loopback, one run each")
    print("| path | bytes | server | requests/s | x nginx (target >= 0.30) |")
    print("|---|---|---|---|---|")
    results: dict[str, dict[str, float]] = {}
    for path in PATHS:
        theirs = rps["nginx", path]
        print(f"| {path} | {len(bodies[path])} | nginx (static file) | {theirs:.0f} | 1.00 |")
        results[path] = {"bytes": len(bodies[path]), "nginx": theirs}
        for mode, label in MODES.items():
            ours = rps[mode, path]
            print(f"| | | {label} | {ours:.0f} | {ours / theirs:.2f} |")
            results[path][mode] = ours
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "compat.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
