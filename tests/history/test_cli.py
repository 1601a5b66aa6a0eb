"""
`tryvoha history ...` and `tryvoha stats ...`: imports with summaries, the numbers as text,
JSON and CSV, pictures, and one-line errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tryvoha.cli import main

HEADER = "oblast,raion,hromada,level,started_at,finished_at,source\n"
ROWS = [
    "Kyiv City,,,oblast,2023-10-28 16:00:00+00:00,2023-10-28 18:00:00+00:00,official",
    "Kyiv City,,,oblast,2023-10-28 17:00:00+00:00,2023-10-28 19:30:00+00:00,official",
    "Kyiv City,,,oblast,2023-10-29 01:00:00+00:00,2023-10-29 02:00:00+00:00,official",
    "Kyivska oblast,,,oblast,2023-10-29 00:00:00+00:00,2023-10-29 03:00:00+00:00,official",
    "Atlantis,,,oblast,2023-10-29 00:00:00+00:00,2023-10-29 03:00:00+00:00,official",
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture
def sirens(tmp_path: Path) -> Path:
    path = tmp_path / "sirens.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_import_summarises_and_a_second_import_adds_nothing(
    db: str, sirens: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rejects = tmp_path / "rejects.csv"
    status, out, err = run(
        capsys, "history", "import", str(sirens), "--database-url", db, "--rejects", str(rejects)
    )
    assert status == 0, err
    assert "imported:   4" in out
    assert "rejected:   1" in out
    assert "line 6: unknown oblast 'Atlantis'" in out
    assert "writing 4 intervals" in err  # the progress bar
    assert rejects.read_text(encoding="utf-8").splitlines() == [
        "line,reason",
        "6,unknown oblast 'Atlantis'",
    ]
    status, out, _ = run(capsys, "history", "import", str(sirens), "--database-url", db, "--quiet")
    assert status == 0
    assert "imported:   0" in out
    assert "duplicates: 4" in out


def test_stats_json_has_the_promised_keys(
    db: str, sirens: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "history", "import", str(sirens), "--database-url", db, "--quiet")
    status, out, err = run(
        capsys,
        "stats",
        "--region",
        "31",
        "--since",
        "2023-10-28",
        "--until",
        "2023-10-29",
        "--json",
        "--database-url",
        db,
    )
    assert status == 0, err
    body = json.loads(out)
    # 16:00-19:30 (two overlapping alerts counted once) and 01:00-02:00.
    assert body["count"] == 2
    assert body["total_seconds"] == 4.5 * 3600
    assert body["longest_seconds"] == 3.5 * 3600
    assert body["alerts"] == 3
    # The night of the clock change runs from 18:00 summer time on the 28th (15:00 UTC) to
    # 06:00 winter time (04:00 UTC): it holds both episodes.
    assert body["longest_night"] == "2023-10-29"
    assert body["longest_night_seconds"] == 4.5 * 3600


def test_stats_by_name_as_text_and_csv(
    db: str, sirens: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "history", "import", str(sirens), "--database-url", db, "--quiet")
    status, out, _ = run(
        capsys, "stats", "--region", "Kyiv City", "--until", "2023-10-31", "--database-url", db
    )
    assert status == 0
    assert "time under alert:   4h 30m" in out
    status, out, _ = run(
        capsys,
        "stats",
        "--rankings",
        "--csv",
        "--limit",
        "2",
        "--no-permanent",
        "--database-url",
        db,
    )
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("id,level,name_uk,name_en,count")
    assert [line.split(",")[0] for line in lines[1:]] == ["31", "14"]
    status, out, _ = run(
        capsys, "stats", "--region", "31", "--hourly", "--csv", "--database-url", db
    )
    assert out.splitlines()[0] == "hour,seconds,share,starts"
    assert len(out.splitlines()) == 25


def test_stats_draws_a_plot(
    db: str, sirens: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "history", "import", str(sirens), "--database-url", db, "--quiet")
    picture = tmp_path / "night.png"
    status, out, err = run(
        capsys,
        "stats",
        "--plot",
        str(picture),
        "--kind",
        "timeline",
        "--date",
        "2023-10-29",
        "--lang",
        "en",
        "--database-url",
        db,
    )
    assert status == 0, err
    assert f"wrote {picture}" in out
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_night_shows_539_drones_and_11_missiles(
    db: str, attacks_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        capsys, "history", "import-attacks", str(attacks_csv), "--database-url", db, "--quiet"
    )
    assert status == 0, err
    assert "imported:   3585" in out
    assert "weapon classes from missiles_and_uavs.csv" in out
    status, out, _ = run(capsys, "history", "night", "2025-07-04", "--database-url", db)
    assert status == 0
    assert "drones      539 launched" in out
    assert "missiles     11 launched" in out
    status, out, _ = run(capsys, "history", "night", "2025-07-04", "--json", "--database-url", db)
    body = json.loads(out)
    assert (body["drones"]["launched"], body["missiles"]["launched"]) == (539, 11)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "import", "nowhere.csv"], "no such file: nowhere.csv"),
        (["stats", "--since", "2024-01-01"], "--region is required for a region summary"),
        (["stats", "--region", "Atlantis"], "unknown region: 'Atlantis'"),
        (["stats", "--region", "31", "--since", "soon"], "not a date (YYYY-MM-DD)"),
        (["stats", "--rankings", "--overlap"], "ask one question at a time"),
        (["stats", "--region", "31", "--source", "rumour"], "--source: 'rumour' is not one of"),
        (["history", "night", "2025-07-32"], "not a date"),
    ],
)
def test_errors_are_one_line(
    db: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, *args, "--database-url", db)
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("tryvoha: error: ")
    assert message in err
