"""
A cluster on loopback for tests: `tryvoha serve` processes sharing a throwaway PostgreSQL
schema and a NATS stream of their own, and SSE readers that resume on another node.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from tests.bus.nats_support import delete_stream, require_nats, unique_options
from tests.servers import free_port
from tests.storage.postgres_support import throwaway_schema
from tryvoha.core.auth import Role
from tryvoha.storage.factory import open_store
from tryvoha.tokens import create_token


@dataclass(frozen=True, slots=True)
class Backends:
    database_url: str
    bus_url: str
    operator_token: str


@contextmanager
def shared_backends() -> Iterator[Backends]:
    """A migrated schema with an operator token, and a stream; both removed afterwards."""
    nats_url = require_nats()
    with throwaway_schema("tryvoha_cluster") as url:
        database_url = url.render_as_string(hide_password=False)
        store = open_store(database_url)
        try:
            token = create_token(store, name="duty", role=Role.OPERATOR)
        finally:
            store.close()
        options = unique_options(nats_url)
        bus_url = f"{nats_url}?stream={options.stream}&subject={options.subject}"
        try:
            yield Backends(database_url, bus_url, token)
        finally:
            asyncio.run(delete_stream(options))


@dataclass
class Node:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tryvoha", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )

    def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_nodes(backends: Backends, count: int, log_dir: Path) -> Iterator[list[Node]]:
    env = {
        **os.environ,
        "TRYVOHA_DATABASE_URL": backends.database_url,
        "TRYVOHA_BUS_URL": backends.bus_url,
    }
    nodes = [Node(f"node-{n}", free_port(), env, log_dir / f"node-{n}.log") for n in range(count)]
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], seconds: float, what: str, every: float = 0.05
) -> None:
    """Return once *check* holds; fails naming *what* after *seconds*."""
    for _ in range(max(1, int(seconds / every))):
        outcome = check()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


# -- SSE readers that resume --------------------------------------------------------------


@dataclass
class StreamReader:
    """
    Reads `/api/stream` from one node; when the stream breaks it resumes on the next node
    that answers, with `Last-Event-ID`, as a browser behind a load balancer would. Runs
    until cancelled.
    """

    nodes: Sequence[Node]
    home: int
    after: int | None = None
    seqs: list[int] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    resumes: int = 0

    @property
    def last(self) -> int | None:
        return self.seqs[-1] if self.seqs else self.after

    async def run(self, client: httpx.AsyncClient) -> None:
        index = self.home
        while True:
            node = self.nodes[index % len(self.nodes)]
            headers = {} if self.last is None else {"Last-Event-ID": str(self.last)}
            try:
                async with client.stream(
                    "GET", f"{node.url}/api/stream", headers=headers, timeout=None
                ) as response:
                    if response.status_code == 200:
                        await self._read(response)
            except (httpx.HTTPError, OSError):
                pass
            self.resumes += 1
            index += 1
            await asyncio.sleep(0.05)

    async def _read(self, response: httpx.Response) -> None:
        seq: int | None = None
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                seq = int(line[3:].strip())
            elif line.startswith("data:") and seq is not None:
                data = orjson.loads(line[5:].strip())
                if data["seq"] != seq:
                    raise AssertionError(f"frame id {seq} carries event {data['seq']}")
                self.kinds[seq] = data["kind"]
            elif line == "" and seq is not None:
                self.seqs.append(seq)
                seq = None
