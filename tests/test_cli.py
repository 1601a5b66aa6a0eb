"""
The command line: tokens, regions, alert commands, and one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tryvoha.cli import main
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import hash_token


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_token_create_list_revoke(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        main(
            [
                "token",
                "create",
                "--name",
                "duty",
                "--role",
                "operator",
                "--regions",
                "14,31",
                "--database-url",
                db,
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.startswith("tv_")
    assert "\n" not in token
    store = SQLiteStore(tmp_path / "cli.db")
    record = store.find_token(hash_token(token))
    assert record is not None
    assert record.regions == ("14", "31")
    store.close()
    assert main(["token", "list", "--database-url", db]) == 0
    assert capsys.readouterr().out.strip() == "duty\toperator\t14,31\tactive"
    assert main(["token", "revoke", "duty", "--database-url", db]) == 0
    capsys.readouterr()
    assert main(["token", "revoke", "duty", "--database-url", db]) == 1
    assert capsys.readouterr().err.strip() == "tryvoha: error: no active token named 'duty'"


def test_token_errors_are_one_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["token", "create", "--name", "duty", "--role", "admin", "--database-url", db]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert capsys.readouterr().err == "tryvoha: error: a token named 'duty' already exists\n"
    assert (
        main(["token", "create", "--name", "bad name", "--role", "admin", "--database-url", db])
        == 1
    )
    assert "invalid token name" in capsys.readouterr().err
    assert (
        main(
            [
                "token",
                "create",
                "--name",
                "op",
                "--role",
                "operator",
                "--regions",
                "999999",
                "--database-url",
                db,
            ]
        )
        == 1
    )
    assert capsys.readouterr().err.strip() == "tryvoha: error: unknown region: '999999'"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--name", "x", "--role", "king"]) == 2
    assert main(["no-such-command"]) == 2


def test_regions_find_and_at(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regions", "find", "Київська область"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.split("\t")[:2] == ["14", "oblast"]
    assert main(["regions", "at", "49.9935", "36.2304"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:2] == ["oblast", "22"]
    assert main(["regions", "at", "43.0", "33.0"]) == 1
    assert "no region contains" in capsys.readouterr().err
    assert main(["regions", "find", "Atlantis"]) == 1


def test_alert_without_token_or_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRYVOHA_TOKEN", raising=False)
    assert main(["alert", "raise", "14"]) == 1
    assert "a token is required" in capsys.readouterr().err
    assert main(["alert", "raise", "14", "--token", "x", "--url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tryvoha: error: cannot reach http://127.0.0.1:9")
    assert err.count("\n") == 1
