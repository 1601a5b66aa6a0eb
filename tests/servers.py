"""
Start real `tryvoha serve` processes on loopback for end-to-end tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the CLI in a subprocess and return its stdout; raises on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-m", "tryvoha", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tryvoha {' '.join(args)} failed: {result.stderr}")
    return result.stdout


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def start_server(database_url: str, port: int, env: dict[str, str] | None = None) -> ServerProcess:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tryvoha",
            "serve",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited with {process.returncode}: {err}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return ServerProcess(process, url)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


@contextmanager
def running_server(
    database_url: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    server = start_server(database_url, port or free_port(), env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
