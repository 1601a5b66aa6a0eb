"""
Real servers on 127.0.0.1: the whole path, and SIGKILL in the middle of a burst.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.servers import cli, free_port, running_server, start_server

pytestmark = pytest.mark.slow


def test_real_server_round_trip(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e2e.db'}"
    token = cli(
        "token", "create", "--name", "duty", "--role", "operator", "--database-url", db
    ).strip()
    with running_server(db) as server:
        headers = {"Authorization": f"Bearer {token}"}
        raised = httpx.post(f"{server.url}/api/alerts", json={"regions": ["31"]}, headers=headers)
        assert raised.status_code == 201
        first = httpx.get(f"{server.url}/api/alerts/active")
        assert [a["region_id"] for a in first.json()["alerts"]] == ["31"]
        assert first.headers["content-type"] == "application/json"
        etag = first.headers["etag"]
        cached = httpx.get(f"{server.url}/api/alerts/active", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.content == b""
        filtered = httpx.get(f"{server.url}/api/alerts/active", params={"region": "14"})
        assert filtered.json()["alerts"] == []
        out = cli("alert", "lift", "31", "--url", server.url, "--token", token)
        assert out.strip() == "31\tlifted\tseq 2"
        assert httpx.get(f"{server.url}/api/alerts/active").json()["alerts"] == []


def test_sigkill_mid_burst_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    token = cli(
        "token", "create", "--name", "duty", "--role", "operator", "--database-url", db
    ).strip()
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    server = start_server(db, port)
    regions = [str(r) for r in (3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)]
    acked: dict[int, tuple[str, str]] = {}

    async def operator(client: httpx.AsyncClient, region: str) -> None:
        up = True
        while True:
            path = "/api/alerts" if up else "/api/alerts/lift"
            try:
                response = await client.post(path, json={"regions": [region]})
            except httpx.HTTPError:
                return
            if response.status_code >= 400:
                return
            for result in response.json()["results"]:
                if result["seq"] is not None:
                    acked[result["seq"]] = (region, result["outcome"])
            up = not up

    async def burst() -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=5) as client:
            tasks = [asyncio.create_task(operator(client, r)) for r in regions]
            while len(acked) < 300:  # noqa: ASYNC110 - the operators fill it as they go
                await asyncio.sleep(0.01)
            server.kill()
            await asyncio.gather(*tasks)

    asyncio.run(asyncio.wait_for(burst(), timeout=60))
    assert len(acked) >= 300
    with running_server(db, port) as restarted:
        events: list[dict] = []  # type: ignore[type-arg]
        after = 0
        while True:
            page = httpx.get(
                f"{restarted.url}/api/events", params={"after": after, "limit": 1000}
            ).json()
            if not page["events"]:
                break
            events.extend(page["events"])
            after = page["events"][-1]["seq"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert max(acked) <= len(seqs)
    by_seq = {e["seq"]: e for e in events}
    for seq, (region, outcome) in acked.items():
        event = by_seq[seq]
        assert event["alert"]["region_id"] == region
        assert event["kind"] == f"alert.{outcome}"
