"""
`tryvoha simulate` and `tryvoha score` from the command line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.backends import require_shared_file
from tests.sim.night_fixtures import tiny_table
from tests.sim.test_from_attacks import ATTACKS
from tryvoha.cli import main
from tryvoha.sim.output import REPORT_FIELDS, THREAT_FIELDS, TRUTH_FIELDS


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_table()))
    return path


def test_simulate_writes_truth_and_reports_as_csv(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "night"
    assert main(["simulate", str(tiny), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tiny" in printed and "6 threats" in printed
    manifest = json.loads((out / "night.json").read_text())
    assert manifest["schema"] == "tryvoha-night/1"
    assert manifest["seed"] == 5 and manifest["threats"] == 6
    for name, fields in (
        ("threats", THREAT_FIELDS),
        ("truth", TRUTH_FIELDS),
        ("reports", REPORT_FIELDS),
    ):
        with (out / f"{name}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == fields
    with (out / "threats.csv").open() as handle:
        threats = list(csv.DictReader(handle))
    assert sorted(t["fate"] for t in threats) == [
        "destroyed",
        "destroyed",
        "impact",
        "impact",
        "lost",
        "lost",
    ]
    with (out / "reports.csv").open() as handle:
        reports = list(csv.DictReader(handle))
    assert len(reports) == manifest["reports"]
    assert reports == sorted(reports, key=lambda r: r["received_at"])


def test_simulate_writes_json_lines_and_is_reproducible(tiny: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["simulate", str(tiny), "--out", str(first), "--format", "jsonl"]) == 0
    assert main(["simulate", str(tiny), "--out", str(second), "--format", "jsonl"]) == 0
    for name in ("threats", "truth", "reports"):
        assert (first / f"{name}.jsonl").read_bytes() == (second / f"{name}.jsonl").read_bytes()
    report = json.loads((first / "reports.jsonl").read_text().splitlines()[0])
    assert set(report) == {
        "received_at",
        "track_id",
        "class",
        "lat",
        "lon",
        "time",
        "precision_m",
        "status",
        "course_deg",
        "speed_mps",
        "impact",
    }
    other = tmp_path / "c"
    assert (
        main(["simulate", str(tiny), "--out", str(other), "--format", "jsonl", "--seed", "6"]) == 0
    )
    assert (other / "truth.jsonl").read_bytes() != (first / "truth.jsonl").read_bytes()


def test_score_prints_one_json_object_keyed_by_policy(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["score", str(tiny), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for policy in ("engine", "oblast_wide", "real_sirens"):
        for key in (
            "encounters",
            "misses",
            "timely_rate",
            "lead_time_median_s",
            "lead_time_p5_s",
            "over_warning_hromada_hours",
            "false_alarm_ratio",
        ):
            assert key in result[policy]
    assert result["engine"]["encounters"] > 0
    assert result["engine"]["misses"] == 0
    assert result["real_sirens"]["scope"] == "kyiv"
    assert set(result["kyiv"]) == {"engine", "oblast_wide", "real_sirens"}


def test_score_prints_a_table(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "over-warning hromada-h" in out and "real sirens, Kyiv" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["simulate", "1999-01-01"], "no scenario '1999-01-01'", id="unknown"),
        pytest.param(["simulate"], "name a scenario", id="none"),
        pytest.param(
            ["simulate", "2025-07-04", "--format", "xml"], "--format must be one of", id="format"
        ),
        pytest.param(
            ["simulate", "2025-07-04", "--night", "2025-07-04"], "need --from-attacks", id="night"
        ),
        pytest.param(["score", "2025-07-04", "--tick", "0"], "--tick must be positive", id="tick"),
        pytest.param(
            ["score", "--from-attacks", "/nowhere.csv", "--row", "1"],
            "cannot read /nowhere.csv",
            id="file",
        ),
    ],
)
def test_mistakes_are_one_line_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("tryvoha: error: ") and message in err
    assert err.count("\n") == 1


def test_simulate_a_row_of_the_attacks_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_shared_file(ATTACKS)
    saved = tmp_path / "row.json"
    # Data row 954 (line 955): the Iskander-K of 2025-07-04 (4 launched, 2 destroyed).
    code = main(
        ["simulate", "--from-attacks", str(ATTACKS), "--row", "954", "--save-scenario", str(saved)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Iskander-K" in out and "2 destroyed" in out
    table = json.loads(saved.read_text())
    assert table["groups"][0]["count"] == 4
    assert main(["simulate", str(saved)]) == 0
