"""
The nginx configuration of `docs/deployment.md`, as written there, in front of three nodes:
requests, an SSE stream and a WebSocket go through it, and a killed node is routed around.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from tests.backends import in_ci
from tests.cluster.nodes import Backends, Node, running_nodes, shared_backends
from tests.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.nats]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def documented_config() -> str:
    match = re.search(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert match, "docs/deployment.md has no nginx block"
    return match.group(1)


def config_for(nodes: list[Node], port: int) -> str:
    """The documented block with this test's upstream nodes and listening address."""
    config = documented_config()
    servers = re.findall(r"^\s*server \S+:8080 .*;$", config, re.MULTILINE)
    assert len(servers) == len(nodes), servers
    for line, node in zip(servers, nodes, strict=True):
        address = line.split()[1]
        config = config.replace(line, line.replace(address, f"127.0.0.1:{node.port}"))
    assert "listen 80;" in config
    return config.replace("listen 80;", f"listen 127.0.0.1:{port};")


def nginx_binary() -> str:
    """
    Debian's nginx: installed with apt-get when missing and running as root in CI; else
    the test fails in CI and skips elsewhere.
    """
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found and in_ci() and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=False)
        found = shutil.which("nginx") or ""
    if not found:
        message = "nginx is not installed (apt-get install nginx)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def running_nginx(site: str, port: int, directory: Path) -> Iterator[str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tryvoha.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(
        f"""
{user}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/tryvoha.conf;
}}
"""
    )
    process = subprocess.Popen(
        [nginx_binary(), "-c", str(directory / "nginx.conf"), "-p", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"nginx did not start: {error}") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def first_event(response: httpx.Response) -> dict[str, object]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            event: dict[str, object] = orjson.loads(line[5:])
            return event
    raise AssertionError("the stream ended")


async def through_nginx(address: str, nodes: list[Node], backends: Backends) -> None:
    base = f"http://{address}"
    operator = {"Authorization": f"Bearer {backends.operator_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(6):
            assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404

        async with (
            client.stream("GET", "/api/stream", timeout=None) as stream,
            websockets.connect(f"ws://{address}/api/ws") as ws,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            raised = await client.post(
                "/api/alerts", json={"regions": ["31"], "type": "air_raid"}, headers=operator
            )
            assert raised.status_code == 201
            (seq,) = raised.json()["events"]
            # Unbuffered: the event arrives at once, not when a buffer fills or the stream ends.
            event = await asyncio.wait_for(first_event(stream), 5)
            assert event["seq"] == seq
            async with asyncio.timeout(5):
                while True:
                    message = orjson.loads(await ws.recv())
                    if message["type"] == "event":
                        assert message["event"]["seq"] == seq
                        break

        await asyncio.to_thread(nodes[0].kill)
        for _ in range(6):
            assert (await client.get("/healthz")).status_code == 200
        # nginx does not retry a POST; its client does, with the same key, and is answered.
        keyed = operator | {"Idempotency-Key": "lift-31"}
        for _ in range(3):
            lifted = await client.post(
                "/api/alerts/lift", json={"regions": ["31"], "type": "air_raid"}, headers=keyed
            )
            if lifted.status_code != 502:
                break
        assert lifted.status_code == 200
        assert lifted.json()["results"][0]["outcome"] == "lifted"


def test_the_documented_nginx_config(tmp_path: Path) -> None:
    nginx_binary()
    with shared_backends() as backends, running_nodes(backends, 3, tmp_path) as nodes:
        port = free_port()
        with running_nginx(config_for(nodes, port), port, tmp_path / "nginx") as address:
            asyncio.run(asyncio.wait_for(through_nginx(address, nodes, backends), 60))
