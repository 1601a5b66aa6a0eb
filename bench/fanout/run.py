"""
Fan-out benchmark: raise → the last of N SSE subscribers has the event, tryvoha vs nginx-nchan.

    .venv/bin/python bench/fanout/run.py [--sizes 1000,10000] [--raises 30]

For each N both servers get the same treatment in the same run: N subscribers opened from
separate sink processes (a small C epoll program compiled here with gcc), a warm-up, then
`--raises` rounds. A round arms every sink with a marker unique to the coming event, notes
the time, sends the publish request, and waits until every sink reports that each of its
connections has the marker. tryvoha publishes through `POST /api/alerts` (raise and lift in
turn, each one durable event); nchan through its HTTP publisher with a body of the same size.
Also measured: server RSS per idle connection and server CPU per round.

Needs gcc, and nginx with libnginx-mod-nchan (installed with apt-get when missing and root;
otherwise only tryvoha is measured). Everything listens on 127.0.0.1 below port 32768; every
process started here is stopped at the end, also on failure or Ctrl-C. Results go to
bench/results/fanout.json; a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results" / "fanout.json"
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")
ROUND_TIMEOUT_S = 10.0
RUN_DEADLINE_S = 20 * 60
REGION = "31"


@dataclass
class Result:
    server: str
    n: int
    connected: int
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    incomplete_rounds: int = 0
    rss_per_conn_kib: float = 0.0
    cpu_ms_per_round: float = 0.0
    lost_connections: int = 0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- processes ------------------------------------------------------------------------------

_children: list[subprocess.Popen[bytes]] = []


def spawn(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, **kwargs)  # type: ignore[call-overload]
    _children.append(process)
    return process  # type: ignore[no-any-return]


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def stop_all() -> None:
    for process in reversed(_children):
        stop(process)


def free_port(start: int) -> int:
    for port in range(start, 32000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32000")


def tree_pids(root: int) -> list[int]:
    """*root* and its children (nginx: master and workers)."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == root:
                    pids.append(int(entry.name))
    return pids


def rss_kib(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_s(root: int) -> float:
    ticks = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_http(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within 30 s")


# -- sinks ----------------------------------------------------------------------------------


class Sinks:
    """Subscriber processes, each holding part of the N connections."""

    def __init__(self, binary: Path, port: int, path: str, n: int, per_sink: int) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        for start in range(0, n, per_sink):
            count = min(per_sink, n - start)
            self.processes.append(
                spawn(
                    [str(binary), "127.0.0.1", str(port), path, str(count)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
        self.connected = 0
        for process in self.processes:
            words = self._line(process, 120).split()
            if words[0] != "ready":
                raise RuntimeError(f"sink: unexpected {words}")
            self.connected += int(words[1])

    @staticmethod
    def _line(process: subprocess.Popen[bytes], timeout: float) -> str:
        assert process.stdout is not None
        import select

        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError("sink did not answer")
        line = process.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError("a sink exited")
        return line

    def _tell(self, process: subprocess.Popen[bytes], command: str) -> None:
        assert process.stdin is not None
        process.stdin.write(command.encode() + b"\n")
        process.stdin.flush()

    def arm(self, marker: str) -> None:
        for process in self.processes:
            self._tell(process, f"arm {marker}")
        for process in self.processes:
            # A round that timed out can still finish late: skip its "done".
            while (line := self._line(process, 10)) != "armed":
                if not line.startswith("done"):
                    raise RuntimeError(f"sink: expected armed, got {line!r}")

    def wait(self) -> tuple[int, int, int]:
        """(connections that got it, CLOCK_MONOTONIC ns of the last arrival, open ones)."""
        got, last, still_open = 0, 0, 0
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        for process in self.processes:
            try:
                words = self._line(process, max(0.01, deadline - time.monotonic())).split()
            except TimeoutError:
                self._tell(process, "report")
                words = self._line(process, 5).split()
                while words[0] == "done":  # it finished meanwhile
                    got, last = got + int(words[1]), max(last, int(words[2]))
                    words = self._line(process, 5).split()
                got, last = got + int(words[1]), max(last, int(words[2]))
                still_open += int(words[3])
                continue
            got, last = got + int(words[1]), max(last, int(words[2]))
            still_open += int(words[1])
        return got, last, still_open

    def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                self._tell(process, "quit")
        for process in self.processes:
            stop(process)


# -- the two servers ------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    subscribe_path: str

    def publish(self, client: httpx.Client, round_no: int, seq: int) -> None:
        raise NotImplementedError

    def next_seq(self, client: httpx.Client) -> int:
        return 0


@dataclass
class Tryvoha(Server):
    token: str = ""

    def next_seq(self, client: httpx.Client) -> int:
        active = client.get(f"http://127.0.0.1:{self.port}/api/alerts/active").json()
        return int(active["last_seq"]) + 1

    def publish(self, client: httpx.Client, round_no: int, seq: int) -> None:
        path = "/api/alerts" if round_no % 2 == 0 else "/api/alerts/lift"
        response = client.post(
            f"http://127.0.0.1:{self.port}{path}",
            json={"regions": [REGION], "type": "air_raid"},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        if response.status_code >= 300 or body["events"] != [seq]:
            raise RuntimeError(f"tryvoha: expected event {seq}, got {response.text}")


class Nchan(Server):
    def publish(self, client: httpx.Client, round_no: int, seq: int) -> None:
        # About the size of a tryvoha event, with the same marker.
        body = json.dumps(
            {
                "seq": seq,
                "kind": "alert.raised" if round_no % 2 == 0 else "alert.lifted",
                "at": "2025-07-03T21:22:00.123Z",
                "actor": "bench",
                "changes": [],
                "alert": {
                    "id": seq,
                    "region_id": REGION,
                    "type": "air_raid",
                    "level": "alert",
                    "started_at": "2025-07-03T21:22:00.123Z",
                    "updated_at": "2025-07-03T21:22:00.123Z",
                    "finished_at": None,
                    "source": "bench",
                    "threat": None,
                    "note": None,
                },
            },
            separators=(",", ":"),
        )
        response = client.post(f"http://127.0.0.1:{self.port}/pub", content=body)
        if response.status_code >= 300:
            raise RuntimeError(f"nchan publish: {response.status_code} {response.text}")


def start_tryvoha(workdir: Path) -> Tryvoha:
    database = f"sqlite:///{workdir / 'tryvoha.db'}"
    env = {**os.environ, "TRYVOHA_DATABASE_URL": database}
    created = subprocess.run(
        [str(VENV_BIN / "tryvoha"), "token", "create", "--name", "bench", "--role", "operator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    port = free_port(18100)
    log = (workdir / "tryvoha.log").open("wb")
    process = spawn(
        [str(VENV_BIN / "tryvoha"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process, "tryvoha")
    except RuntimeError as exc:
        tail = (workdir / "tryvoha.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{exc}:\n{tail}") from None
    return Tryvoha("tryvoha", process, port, "/api/stream", token=created.stdout.strip())


def ensure_nchan() -> str | None:
    """None when nginx with nchan is usable, else why not."""
    if shutil.which("nginx") and NCHAN_MODULE.exists():
        return None
    if os.geteuid() != 0:
        return "nginx + libnginx-mod-nchan are not installed and this is not root"
    print("installing nginx and libnginx-mod-nchan with apt-get ...", flush=True)
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "nginx", "libnginx-mod-nchan"],
    ):
        if subprocess.run(command, check=False, capture_output=True, timeout=600).returncode:
            return f"`{' '.join(command)}` failed"
    if shutil.which("nginx") and NCHAN_MODULE.exists():
        return None
    return "apt-get ran but nginx or the nchan module is still missing"


def start_nchan(workdir: Path, workers: str) -> Nchan:
    prefix = workdir / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    port = free_port(18200)
    config = (HERE / "nchan.conf").read_text()
    for key, value in {"{prefix}": str(prefix), "{port}": str(port), "{workers}": workers}.items():
        config = config.replace(key, value)
    (prefix / "nginx.conf").write_text(config)
    process = spawn(
        ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    wait_http(f"http://127.0.0.1:{port}/pub", process, "nginx-nchan")
    return Nchan("nchan", process, port, "/sub")


# -- one measurement ------------------------------------------------------------------------


def measure(server: Server, sink: Path, n: int, raises: int, per_sink: int) -> Result:
    pid = server.process.pid
    time.sleep(1.0)
    rss_before = rss_kib(pid)
    sinks = Sinks(sink, server.port, server.subscribe_path, n, per_sink)
    result = Result(server.name, n, sinks.connected)
    try:
        time.sleep(2.0)
        result.rss_per_conn_kib = (rss_kib(pid) - rss_before) / max(1, sinks.connected)
        with httpx.Client(timeout=30) as client:
            seq = server.next_seq(client)
            cpu_before = 0.0
            for round_no in range(-2, raises):
                if round_no == 0:
                    cpu_before = cpu_s(pid)
                sinks.arm(f'"seq":{seq},')
                started = time.monotonic_ns()
                server.publish(client, round_no, seq)
                acked = time.monotonic_ns()
                got, last, still_open = sinks.wait()
                if round_no >= 0:
                    result.ack_ms.append((acked - started) / 1e6)
                    if got < sinks.connected:
                        result.incomplete_rounds += 1
                        result.lost_connections = max(
                            result.lost_connections, sinks.connected - still_open
                        )
                    else:
                        result.latencies_ms.append((last - started) / 1e6)
                seq += 1
                time.sleep(0.3)
            result.cpu_ms_per_round = (cpu_s(pid) - cpu_before) * 1000 / raises
    finally:
        sinks.close()
    return result


# -- reporting ------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def markdown(results: list[Result]) -> str:
    lines = [
        "| server | N | connected | p50 ms | p99 ms | max ms | ack p50 ms "
        "| RSS/conn KiB | CPU ms/round | incomplete rounds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ack = sorted(r.ack_ms)[len(r.ack_ms) // 2] if r.ack_ms else math.nan
        lines.append(
            f"| {r.server} | {r.n:,} | {r.connected:,} | {r.percentile(0.5):.1f} "
            f"| {r.percentile(0.99):.1f} | {max(r.latencies_ms, default=math.nan):.1f} "
            f"| {ack:.1f} | {r.rss_per_conn_kib:.1f} | {r.cpu_ms_per_round:.1f} "
            f"| {r.incomplete_rounds} |"
        )
    by_n: dict[int, dict[str, Result]] = {}
    for r in results:
        by_n.setdefault(r.n, {})[r.server] = r
    for n, pair in sorted(by_n.items()):
        if "tryvoha" in pair and "nchan" in pair:
            ours, theirs = pair["tryvoha"], pair["nchan"]
            lines.append("")
            p50 = ours.percentile(0.5) / theirs.percentile(0.5)
            p99 = ours.percentile(0.99) / theirs.percentile(0.99)
            lines.append(f"N = {n:,}: tryvoha/nchan p50 {p50:.2f}×, p99 {p99:.2f}×")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="subscriber counts, comma-separated")
    parser.add_argument("--raises", type=int, default=30, help="measured rounds per size (≥ 20)")
    parser.add_argument("--per-sink", type=int, default=2500, help="connections per sink process")
    parser.add_argument("--nchan-workers", default="auto", help="nginx worker_processes")
    parser.add_argument("--skip-nchan", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if shutil.which("gcc") is None:
        print("gcc is needed to build the subscriber sink (apt-get install gcc)", file=sys.stderr)
        return 1

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGALRM, interrupted)
    signal.alarm(RUN_DEADLINE_S)
    results: list[Result] = []
    load_before = load_average()
    print(f"{machine()}; load average {load_before}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="tryvoha-fanout-"))
    try:
        sink = workdir / "sink"
        subprocess.run(
            ["gcc", "-O2", "-o", str(sink), str(HERE / "sink.c")], check=True, timeout=120
        )
        servers: list[Server] = [start_tryvoha(workdir)]
        nchan_missing = "skipped (--skip-nchan)" if args.skip_nchan else ensure_nchan()
        if nchan_missing is None:
            servers.append(start_nchan(workdir, args.nchan_workers))
        else:
            print(f"nchan: not measured: {nchan_missing}", file=sys.stderr)
        for n in sizes:
            for server in servers:
                print(f"{server.name}: N = {n:,} ...", flush=True)
                result = measure(server, sink, n, args.raises, args.per_sink)
                results.append(result)
                print(
                    f"  p50 {result.percentile(0.5):.1f} ms, p99 {result.percentile(0.99):.1f} ms,"
                    f" {result.rss_per_conn_kib:.1f} KiB/conn,"
                    f" {result.incomplete_rounds} incomplete rounds",
                    flush=True,
                )
    except KeyboardInterrupt:
        print("interrupted; stopping everything", file=sys.stderr)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
    finally:
        signal.alarm(0)
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    if not results:
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load_after = load_average()
    args.out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine(),
                "load_average": {"before": load_before, "after": load_after},
                "raises": args.raises,
                "nchan_workers": args.nchan_workers,
                "results": [asdict(r) for r in results],
            },
            indent=1,
        )
    )
    print()
    print(f"{machine()}; load average {load_before} before, {load_after} after.")
    print(f"{args.raises} rounds per row; nchan with worker_processes {args.nchan_workers}.\n")
    print(markdown(results))
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
