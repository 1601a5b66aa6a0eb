"""
Scale on PostgreSQL and NATS JetStream, measured through real `tryvoha serve` nodes:

1. durable events/s on PostgreSQL from 20 concurrent operators (wrk, raising and lifting a
   different hromada each request), against one node and spread over three;
2. fan-out: raise -> the last SSE subscriber has the event (p50/p99), with three nodes of
   3,000 subscribers each beside one node with 9,000. The raise goes to one node in turn;
   the others get it over NATS.

    .venv/bin/python -m bench.bench_scale [--seconds 10] [--subscribers 9000] [--rounds 30]

Needs PostgreSQL (TRYVOHA_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)
and NATS with JetStream (TRYVOHA_BENCH_NATS_URL, default nats://127.0.0.1:4222) running,
and wrk and gcc (Debian packages, installed with apt-get when missing and root). Each run
uses a PostgreSQL schema and a NATS stream of its own and removes them. Subscribers are
the epoll sinks of `bench/fanout/sink.c`. Results go to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
from sqlalchemy import URL, create_engine, make_url, text

from bench.bench_commands import SCRIPT, lift_everything, run_wrk
from bench.common import cli, ensure_debian_packages, free_port, machine, percentile
from bench.fanout.run import ROUND_TIMEOUT_S, Sinks, stop_all
from tryvoha.core.model import RegionLevel
from tryvoha.regions_io import load_bundled
from tryvoha.storage.postgres import PostgresStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "scale.json"
POSTGRES_URL = os.environ.get(
    "TRYVOHA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
NATS_URL = os.environ.get("TRYVOHA_BENCH_NATS_URL", "nats://127.0.0.1:4222")
OPERATORS = 20
FANOUT_REGION = "31"


# -- backends and nodes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backends:
    database_url: str
    bus_url: str
    token: str


@contextmanager
def shared_backends() -> Iterator[Backends]:
    """A schema and a stream of this run's own, dropped at the end."""
    tag = secrets.token_hex(4)
    schema, stream = f"tryvoha_bench_{tag}", f"TRYVOHA_BENCH_{tag.upper()}"
    admin = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped: URL = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = scoped.render_as_string(hide_password=False)
    bus_url = f"{NATS_URL}?stream={stream}&subject=tryvoha.bench.{tag}.events"
    try:
        token = cli("token", "create", "--name", "bench", "--role", "operator", db=database_url)
        yield Backends(database_url, bus_url, token)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        asyncio.run(delete_stream(stream))


async def delete_stream(stream: str) -> None:
    connection = await nats.connect(NATS_URL)
    try:
        await connection.jetstream().delete_stream(stream)
    except Exception as exc:
        print(f"could not delete stream {stream}: {exc}", file=sys.stderr)
    finally:
        await connection.close()


@contextmanager
def running_nodes(backends: Backends, count: int, workdir: Path) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "TRYVOHA_DATABASE_URL": backends.database_url,
        "TRYVOHA_BUS_URL": backends.bus_url,
    }
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    with ExitStack() as stack:
        for n in range(count):
            port = free_port()
            log = stack.enter_context((workdir / f"node-{count}-{n}.log").open("wb"))
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tryvoha", "serve", "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
            # Each node binds its port before the next looks for a free one.
            wait_healthy(urls[-1], processes[-1])
        try:
            yield urls
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node at {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the node at {url} did not start")


def log_tail(backends: Backends) -> int:
    store = PostgresStore(backends.database_url)
    try:
        return store.last_seq()
    finally:
        store.close()


# -- 1. durable events/s --------------------------------------------------------------------


def commands(
    backends: Backends, urls: list[str], hromadas: list[str], workdir: Path, seconds: int
) -> dict[str, float]:
    """20 operators spread over the nodes; every request raises or lifts its own hromada."""
    shares = [OPERATORS // len(urls) + (i < OPERATORS % len(urls)) for i in range(len(urls))]
    scripts = []
    for i, url in enumerate(urls):
        own = hromadas[i :: len(urls)]
        script = workdir / f"operators-{len(urls)}-{i}.lua"
        script.write_text(SCRIPT % (", ".join(f'"{r}"' for r in own), backends.token))
        scripts.append((url, script, shares[i]))
    # The scripts start with raises: begin from a clear map so none of them is a no-op.
    lift_everything(urls[0], backends.token)
    before = log_tail(backends)
    results: list[dict[str, float]] = []

    def one(url: str, script: Path, connections: int) -> None:
        results.append(run_wrk(url, script, connections, seconds))

    async def all_at_once() -> None:
        await asyncio.gather(*(asyncio.to_thread(one, *s) for s in scripts))

    asyncio.run(all_at_once())
    events = log_tail(backends) - before
    return {
        "nodes": len(urls),
        "operators": OPERATORS,
        "events_per_s": events / seconds,
        "requests": sum(r["requests"] for r in results),
        "ack_p50_ms": max(r["p50_ms"] for r in results),
        "ack_p99_ms": max(r["p99_ms"] for r in results),
    }


# -- 2. fan-out -----------------------------------------------------------------------------


def fanout(
    backends: Backends, urls: list[str], sink: Path, subscribers: int, rounds: int
) -> dict[str, object]:
    each = subscribers // len(urls)
    port_of = [int(u.rsplit(":", 1)[1]) for u in urls]
    groups = [Sinks(sink, port, "/api/stream", each, 2500) for port in port_of]
    latencies: list[float] = []
    acks: list[float] = []
    incomplete = 0
    headers = {"Authorization": f"Bearer {backends.token}"}
    try:
        connected = sum(g.connected for g in groups)
        time.sleep(2.0)
        with httpx.Client(timeout=30) as client:
            active = client.get(f"{urls[0]}/api/alerts/active", params={"region": "31"}).json()
            raised = any(a["region_id"] == FANOUT_REGION for a in active["alerts"])
            seq = log_tail(backends) + 1
            for round_no in range(-2, rounds):
                for group in groups:
                    group.arm(f'"seq":{seq},')
                path = "/api/alerts/lift" if raised else "/api/alerts"
                started = time.monotonic_ns()
                response = client.post(
                    urls[round_no % len(urls)] + path,
                    json={"regions": [FANOUT_REGION], "type": "air_raid"},
                    headers=headers,
                )
                acked = time.monotonic_ns()
                if response.json().get("events") != [seq]:
                    raise RuntimeError(f"expected event {seq}, got {response.text}")
                raised = not raised
                outcomes = [g.wait() for g in groups]
                got = sum(o[0] for o in outcomes)
                last = max(o[1] for o in outcomes)
                if round_no >= 0:
                    acks.append((acked - started) / 1e6)
                    if got < connected:
                        incomplete += 1
                    else:
                        latencies.append((last - started) / 1e6)
                seq += 1
                time.sleep(0.3)
    finally:
        for group in groups:
            group.close()
    return {
        "nodes": len(urls),
        "subscribers": connected,
        "per_node": each,
        "rounds": rounds,
        "p50_ms": percentile(latencies, 50) if latencies else None,
        "p99_ms": percentile(latencies, 99) if latencies else None,
        "ack_p50_ms": percentile(acks, 50) if acks else None,
        "incomplete_rounds": incomplete,
        "round_timeout_s": ROUND_TIMEOUT_S,
    }


# -- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each command run")
    parser.add_argument("--subscribers", type=int, default=9000, help="SSE subscribers in all")
    parser.add_argument("--rounds", type=int, default=30, help="measured raises per fan-out")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ensure_debian_packages("wrk", "gcc")
    hromadas = sorted(r.id for r in load_bundled() if r.level is RegionLevel.HROMADA)
    report: dict[str, object] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "load_average_before": os.getloadavg(),
    }
    rows_commands: list[dict[str, float]] = []
    rows_fanout: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="tryvoha-scale-") as tmp:
        workdir = Path(tmp)
        sink = workdir / "sink"
        subprocess.run(
            ["gcc", "-O2", "-o", str(sink), str(ROOT / "bench" / "fanout" / "sink.c")],
            check=True,
            timeout=120,
        )
        try:
            with shared_backends() as backends:
                for count in (1, 3):
                    with running_nodes(backends, count, workdir) as urls:
                        print(f"{count} node(s): commands ...", flush=True)
                        rows_commands.append(
                            commands(backends, urls, hromadas, workdir, args.seconds)
                        )
                        print(f"  {rows_commands[-1]}", flush=True)
                        print(f"{count} node(s): fan-out to {args.subscribers} ...", flush=True)
                        rows_fanout.append(
                            fanout(backends, urls, sink, args.subscribers, args.rounds)
                        )
                        print(f"  {rows_fanout[-1]}", flush=True)
        finally:
            stop_all()
    report |= {
        "load_average_after": os.getloadavg(),
        "commands": rows_commands,
        "fanout": rows_fanout,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nmachine: {machine()}; PostgreSQL + NATS JetStream on the same machine\n")
    print("| nodes | operators | durable events/s | ack p50 | ack p99 |")
    print("|---|---|---|---|---|")
    for row in rows_commands:
        print(
            f"| {row['nodes']:.0f} | {row['operators']:.0f} | {row['events_per_s']:.0f} | "
            f"{row['ack_p50_ms']:.1f} ms | {row['ack_p99_ms']:.1f} ms |"
        )
    print("\n| nodes | SSE subscribers | raise -> last p50 | p99 | incomplete rounds |")
    print("|---|---|---|---|---|")
    for fan in rows_fanout:
        p50, p99 = fan["p50_ms"], fan["p99_ms"]
        print(
            f"| {fan['nodes']} | {fan['subscribers']:,} | "
            f"{p50 if p50 is None else f'{p50:.1f} ms'} | "
            f"{p99 if p99 is None else f'{p99:.1f} ms'} | {fan['incomplete_rounds']} |"
        )
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
