"""
The demo, end to end on a tiny night: a real server on loopback, reports replayed through
`POST /api/tracks`, alerts read back from the event log and scored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.sim.night_fixtures import tiny_table
from tryvoha.config import Settings
from tryvoha.demo import run_demo
from tryvoha.storage.factory import open_store

pytestmark = pytest.mark.slow


def test_the_demo_replays_a_night_through_the_server_and_scores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.json"
    scenario.write_text(json.dumps(tiny_table()))
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    port = free_port()
    settings = Settings(database_url=database, host="127.0.0.1", port=port)
    # The tiny night is 65 minutes long: at 1200x it replays in about 3 seconds.
    run_demo(settings, speed=1200, exit_after=0, scenario_name=str(scenario))
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/" in out
    # At 1200x a second's stall makes reports 20 minutes late: stale, and rightly refused.
    done = re.search(r"Replay done: ([\d,]+) reports accepted, (\d+) rejected", out)
    assert done is not None
    accepted, rejected = int(done[1].replace(",", "")), int(done[2])
    assert accepted > 1000 and rejected < accepted / 50
    assert "over-warning hromada-h" in out
    store = open_store(database)
    try:
        events = store.read_events(0, 10_000)
        tokens = store.list_tokens()
    finally:
        store.close()
    assert [t.name for t in tokens] == ["demo-engine"]
    assert events and {e.alert.source for e in events} == {"engine"}
    raised = [e for e in events if e.kind.value == "alert.raised"]
    assert all(e.alert.threat is not None for e in raised)
    # The server's clock ran the night's own time.
    assert raised[0].at.isoformat().startswith("2025-07-03T2")
