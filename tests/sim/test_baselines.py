"""
The baselines: real sirens from either siren file, and oblast-wide alerting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.backends import require_shared_file
from tryvoha.core.engine import TrackReport, WarningEngine
from tryvoha.core.model import ThreatClass
from tryvoha.regions_io import load_bundled
from tryvoha.sim.baselines import SirenFileError, oblast_units, real_sirens
from tryvoha.sim.engine_setup import shipped_config

DERIVED = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "sirens"
    / "derived"
    / "night_2025-07-03_to_04_oblast_events.csv"
)
START = datetime(2025, 7, 3, 15, 0, tzinfo=UTC)
END = datetime(2025, 7, 4, 6, 0, tzinfo=UTC)


def test_the_bundled_night_gives_kyivs_real_sirens_clipped_to_the_window() -> None:
    log = real_sirens(load_bundled(), START.timestamp(), END.timestamp())
    assert set(log.intervals) == {"14", "31"}
    # Kyiv city: three alerts overlap the window (from 17:16 local on the 3rd to 08:43 on the 4th).
    assert len(log.intervals["31"]) == 3
    assert log.intervals["14"] == [
        (START.timestamp(), datetime(2025, 7, 4, 5, 43, 30, tzinfo=UTC).timestamp())
    ]


def test_the_derived_file_of_shared_data_gives_the_same_intervals() -> None:
    require_shared_file(DERIVED)
    registry = load_bundled()
    bundled = real_sirens(registry, START.timestamp(), END.timestamp())
    derived = real_sirens(registry, START.timestamp(), END.timestamp(), path=DERIVED)
    assert derived.intervals == bundled.intervals


def test_a_siren_file_with_an_unknown_region_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "sirens.csv"
    row = "Atlantis,2025-07-03 20:00:00+00:00,2025-07-03 21:00:00+00:00"
    bad.write_text(f"region,started_at,finished_at\n{row}\n")
    with pytest.raises(SirenFileError, match="unknown region 'Atlantis'"):
        real_sirens(load_bundled(), START.timestamp(), END.timestamp(), path=bad)


def test_oblast_wide_alerts_the_whole_oblast_a_threat_can_reach() -> None:
    registry = load_bundled()
    config = shipped_config()
    units = oblast_units(registry, config)
    engine = WarningEngine(units, config, heading_free=True, escalate=False)
    # A drone in Chernihiv oblast (Oster hromada), a few km from Kyiv oblast.
    now = START + timedelta(hours=5)
    engine.ingest(
        [TrackReport("T1", ThreatClass.SHAHED, 50.98, 31.0, now, 2000.0, course_deg=180.0)], now
    )
    raised = {c.region_id for c in engine.tick(now).raised}
    assert {"25", "14"} <= raised  # Chernihiv and Kyiv oblasts
    assert "3" not in raised  # Khmelnytskyi oblast, far west
    assert raised <= {o.id for o in registry.oblasts()}
