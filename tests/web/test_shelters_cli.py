"""
`tryvoha shelters import` and `tryvoha shelters nearest`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.web.conftest import KYIV_CENTRE
from tryvoha.cli import main


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_then_again_changes_nothing(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "shelters", "import", str(KYIV_CENTRE), "--database-url", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "shelters_kyiv_centre.geojson: 12 imported, 0 updated, 0 unchanged, 1 rejected"
    )
    assert lines[1] == (
        "  rejected 1: not in use (construction=station): node/3489940106 «Львівська брама»"
    )
    code, out, _ = run(capsys, "shelters", "import", str(KYIV_CENTRE), "--database-url", db)
    assert code == 0
    assert out.splitlines()[0].endswith("0 imported, 0 updated, 12 unchanged, 1 rejected")


def test_nearest_prints_distance_minutes_and_names(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run(capsys, "shelters", "import", str(KYIV_CENTRE), "--database-url", db)
    code, out, _ = run(
        capsys, "shelters", "nearest", "50.4501", "30.5234", "-n", "2", "--database-url", db
    )
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[2] for row in rows] == ["Майдан Незалежності", "Хрещатик"]
    assert rows[0][:2] == ["76 m", "1 min"]
    assert rows[0][3] == "Independence Square"
    assert rows[0][5] == "node/9151090552"


def test_nearest_with_no_shelters_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run(capsys, "shelters", "nearest", "50.45", "30.52", "--database-url", db)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "no shelters are known" in err


def test_import_of_a_missing_or_broken_file_fails(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "shelters", "import", str(tmp_path / "nope.geojson"), "--database-url", db
    )
    assert code == 1
    assert "no such file" in err
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "Feature"}')
    code, _, err = run(capsys, "shelters", "import", str(broken), "--database-url", db)
    assert code == 1
    assert "not a GeoJSON FeatureCollection" in err


def test_prune_reports_what_it_removed(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    run(capsys, "shelters", "import", str(KYIV_CENTRE), "--database-url", db)
    fewer = tmp_path / KYIV_CENTRE.name
    data = json.loads(KYIV_CENTRE.read_text("utf-8"))
    data["features"] = data["features"][:5]
    fewer.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    code, out, _ = run(capsys, "shelters", "import", str(fewer), "--prune", "--database-url", db)
    assert code == 0
    assert out.splitlines()[0].endswith("removed")
    removed = int(out.splitlines()[0].rsplit(",", 1)[1].split()[0])
    kept = 5 - sum(1 for f in data["features"] if f["properties"].get("construction"))
    assert removed == 12 - kept


def test_bad_coordinates_are_a_usage_error(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, _ = run(capsys, "shelters", "nearest", "95", "30", "--database-url", db)
    assert code == 2


def test_import_into_memory_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "shelters", "import", str(KYIV_CENTRE), "--database-url", "memory://"
    )
    assert code == 1
    assert "memory:// keeps nothing" in err
