"""
`GET /api/alerts/active` with 50 active alerts under 64 keep-alive connections (wrk, a
separate process), side by side with nginx serving the same bytes as a static file.

    .venv/bin/python bench/bench_active.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx

from bench.common import cli, machine, nginx_static, tryvoha_server, wrk
from tryvoha.regions_io import load_bundled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    registry = load_bundled()
    raions = [r.id for r in registry if r.level.value == "raion"][:50]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = cli("token", "create", "--name", "bench", "--role", "operator", db=db)
        with tryvoha_server(db) as url:
            httpx.post(
                f"{url}/api/alerts",
                json={"regions": raions},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
            body = httpx.get(f"{url}/api/alerts/active").content
            assert len(json.loads(body)["alerts"]) == 50
            ours = wrk(f"{url}/api/alerts/active", seconds=args.seconds)
        with nginx_static({"/api/alerts/active": body}) as peer:
            assert httpx.get(f"{peer}/api/alerts/active").content == body
            theirs = wrk(f"{peer}/api/alerts/active", seconds=args.seconds)
    print(f"machine: {machine()}")
    print(f"body: {len(body)} bytes, 50 alerts, 64 connections, {args.seconds} s each")
    print("| server | requests/s |")
    print("|---|---|")
    print(f"| tryvoha | {ours:.0f} |")
    print(f"| nginx (static file) | {theirs:.0f} |")
    print(f"ratio tryvoha/nginx: {ours / theirs:.2f} (target >= 0.30)")
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/active.json").write_text(
        json.dumps(
            {"tryvoha_rps": ours, "nginx_rps": theirs, "ratio": ours / theirs, "bytes": len(body)}
        )
    )


if __name__ == "__main__":
    main()
