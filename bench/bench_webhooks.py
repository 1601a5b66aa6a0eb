"""
Webhook fan-out: from an event's commit to its arrival at every subscribed receiver,
through a real server (SQLite) and a real receiver process (aiohttp) on loopback.

For each number of subscriptions, an operator raises and lifts alerts through the API in
bursts (one command, five oblasts, five events) and the receiver notes when each
(webhook, event) arrives; latency is arrival time minus the event's `at`.

    .venv/bin/python bench/bench_webhooks.py [--subscriptions 10,100] [--bursts 10] [--interval 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cli, free_port, machine, percentile, tryvoha_server  # noqa: E402
from tryvoha.regions_io import load_bundled  # noqa: E402

REGIONS = [region.id for region in load_bundled().oblasts()[:5]]


def serve_receiver(port: int) -> None:
    """The receiver process: answers 204 and remembers each arrival's latency."""
    from aiohttp import web

    latencies: list[float] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        arrived = time.time()
        at = json.loads(body)["at"].replace("Z", "+00:00")
        latencies.append(arrived - datetime.fromisoformat(at).timestamp())
        return web.Response(status=204)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(latencies)

    async def reset(request: web.Request) -> web.Response:
        latencies.clear()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def run(
    url: str,
    receiver: str,
    tokens: dict[str, str],
    subscriptions: int,
    bursts: int,
    interval: float,
) -> str:
    reader = {"Authorization": f"Bearer {tokens['reader']}"}
    operator = {"Authorization": f"Bearer {tokens['duty']}"}
    with httpx.Client(base_url=url, timeout=30) as api:
        hooks = [
            api.post("/api/webhooks", json={"url": f"{receiver}/hook"}, headers=reader).json()["id"]
            for _ in range(subscriptions)
        ]
        httpx.post(f"{receiver}/reset")
        events = 0
        for burst in range(bursts):
            path = "/api/alerts/lift" if burst % 2 else "/api/alerts"
            answer = api.post(path, json={"regions": REGIONS}, headers=operator)
            answer.raise_for_status()
            events += len(answer.json()["events"])
            time.sleep(interval)
        expected = events * subscriptions
        deadline = time.monotonic() + 120
        while True:
            latencies: list[float] = httpx.get(f"{receiver}/stats").json()
            if len(latencies) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for hook in hooks:
            api.delete(f"/api/webhooks/{hook}", headers=reader)
    ms = [1000 * x for x in latencies]
    return (
        f"| {subscriptions} | {events} | {len(ms)}/{expected} | {percentile(ms, 50):.0f} "
        f"| {percentile(ms, 95):.0f} | {percentile(ms, 99):.0f} | {max(ms):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", default="10,100")
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bursts")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        serve_receiver(args.receiver)
        return
    port = free_port()
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)])
    try:
        with tempfile.TemporaryDirectory(prefix="tryvoha-bench-") as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            tokens = {
                "reader": cli("token", "create", "--name", "reader", "--role", "reader", db=db),
                "duty": cli("token", "create", "--name", "duty", "--role", "operator", db=db),
            }
            env = {"TRYVOHA_WEBHOOK_ALLOW_PRIVATE": "1"}
            with tryvoha_server(db, env) as url:
                print(
                    f"Webhook delivery latency, commit to arrival ({machine()}); "
                    f"bursts of {len(REGIONS)} events every {args.interval:g} s.\n"
                )
                print("| subscriptions | events | deliveries | p50 ms | p95 ms | p99 ms | max ms |")
                print("| --- | --- | --- | --- | --- | --- | --- |")
                for count in (int(n) for n in args.subscriptions.split(",")):
                    receiver_url = f"http://127.0.0.1:{port}"
                    print(run(url, receiver_url, tokens, count, args.bursts, args.interval))
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


if __name__ == "__main__":
    main()
