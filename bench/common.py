"""
Shared pieces of the benchmarks: a real server, tokens, nginx and wrk on loopback.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TRYVOHA = [sys.executable, "-m", "tryvoha"]


def free_port() -> int:
    # Ports from the kernel's ephemeral range can collide with the load's own client ports;
    # the benchmarks listen below 32768.
    for port in range(20000 + os.getpid() % 5000, 32000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32000")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {system}"


def cli(*args: str, db: str) -> str:
    result = subprocess.run(
        [*TRYVOHA, *args, "--database-url", db], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@contextmanager
def tryvoha_server(
    db: str, env: dict[str, str] | None = None, command: Sequence[str] | None = None
) -> Iterator[str]:
    """
    A server on a free port until the block ends: `tryvoha serve`, or *command* followed
    by the port and *db* (a benchmark's own way of serving the app).
    """
    port = free_port()
    argv = (
        [*command, str(port), db]
        if command is not None
        else [*TRYVOHA, "serve", "--port", str(port), "--database-url", db]
    )
    process = subprocess.Popen(
        argv,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("tryvoha did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def ensure_debian_packages(*names: str) -> None:
    """Install Debian packages the benchmark needs (root only); explain when that is impossible."""
    missing = [
        n
        for n in names
        if subprocess.run(["dpkg", "-s", n], capture_output=True, check=False).returncode != 0
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(
            f"needs Debian packages {missing}: sudo apt-get install {' '.join(missing)}"
        )
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def nginx_static(files: dict[str, bytes], content_type: str = "application/json") -> Iterator[str]:
    """nginx serving *files* (path -> bytes) from a temporary root, as a peer to measure against."""
    ensure_debian_packages("nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tryvoha-nginx-") as tmp:
        # nginx's workers drop root and must be able to read the files.
        Path(tmp).chmod(0o755)
        root = Path(tmp) / "root"
        for path, body in files.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            f"""
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        default_type {content_type};
        etag on;
    }}
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run([nginx, "-c", str(conf), "-p", tmp], check=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield url
        finally:
            subprocess.run([nginx, "-c", str(conf), "-p", tmp, "-s", "stop"], check=False)
            pid_file = Path(tmp) / "nginx.pid"
            deadline = time.monotonic() + 10
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)


def wrk(
    url: str,
    *,
    connections: int = 64,
    seconds: int = 10,
    threads: int = 2,
    headers: dict[str, str] | None = None,
) -> float:
    """Requests per second that wrk measured; fails on any non-2xx answer."""
    ensure_debian_packages("wrk")
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return float(match.group(1))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
