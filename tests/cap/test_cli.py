"""
`tryvoha cap verify`: what it prints and how it exits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cap.chains import full_chain, write_keypair
from tryvoha.cap_signing import load_signer
from tryvoha.cli import main
from tryvoha.core.cap import Issue, Publisher, build_message, place_of, render
from tryvoha.core.regions import RegionRegistry

DATA = Path(__file__).parent / "data"


@pytest.fixture
def files(tmp_path: Path, registry: RegionRegistry) -> dict[str, Path]:
    key, cert = write_keypair(tmp_path)
    _other_key, other_cert = write_keypair(tmp_path, "ec", "someone.else")
    chain = full_chain(region_id="22")  # Kharkiv oblast: one large polygon
    publisher = Publisher("alerts.example.org", "https://alerts.example.org")
    unsigned = render(build_message(chain, Issue(chain[0]), place_of(registry, "22"), publisher))
    signed = load_signer(key, cert).sign(unsigned)
    paths = {
        "cert": cert,
        "other_cert": other_cert,
        "unsigned": tmp_path / "unsigned.xml",
        "signed": tmp_path / "signed.xml",
        "tampered": tmp_path / "tampered.xml",
        "invalid": tmp_path / "invalid.xml",
        "unclosed": tmp_path / "unclosed.xml",
        "no_web": tmp_path / "no_web.xml",
    }
    paths["unsigned"].write_bytes(unsigned)
    paths["signed"].write_bytes(signed)
    paths["tampered"].write_bytes(signed.replace(b"<urgency>Immediate", b"<urgency>Expected", 1))
    paths["invalid"].write_bytes(unsigned.replace(b"<urgency>Immediate", b"<urgency>Now", 1))
    start = unsigned.index(b"<polygon>") + len(b"<polygon>")
    first_point = unsigned[start : unsigned.index(b" ", start)]
    unclosed = unsigned.replace(b" " + first_point + b"</polygon>", b"</polygon>", 1)
    paths["unclosed"].write_bytes(unclosed)
    paths["no_web"].write_bytes(re.sub(rb"\s*<web>[^<]*</web>", b"", unsigned))
    return paths


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = main(["cap", "verify", *(str(a) for a in args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_good_signed_message_passes(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, files["signed"], "--cert", files["cert"], "--require-signature")
    assert (status, err) == (0, "")
    assert out.count("pass ") == 14
    assert (
        "signature: valid (RSA-SHA256), signed by the given certificate CN=alerts.example.org"
        in out
    )


def test_without_a_certificate_it_says_what_the_signature_proves(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _err = run(capsys, files["signed"])
    assert status == 0
    assert "self-signed" in out and "pass --cert" in out


def test_a_changed_byte_fails_with_one_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, files["tampered"], "--cert", files["cert"])
    assert status == 1
    assert "signature: INVALID" in out
    assert err.count("\n") == 1
    assert err.startswith("tryvoha: error: ") and "digest mismatch" in err


def test_the_wrong_certificate_fails(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = run(capsys, files["signed"], "--cert", files["other_cert"])
    assert status == 1
    assert "another certificate" in err


def test_an_unsigned_message_fails_only_when_a_signature_is_required(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, files["unsigned"])[0] == 0
    status, out, err = run(capsys, files["unsigned"], "--require-signature")
    assert status == 1
    assert "signature: none" in out
    assert err.strip().endswith("the message is not signed")


def test_a_schema_error_fails(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, files["invalid"])
    assert status == 1
    assert "FAIL   1" in out and "FAIL   4" in out
    assert "checklist item 1" in err


def test_an_unclosed_polygon_fails(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, files["unclosed"])
    assert status == 1
    assert "FAIL  10" in out and "not closed" in err


def test_warnings_fail_only_in_strict_mode(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _err = run(capsys, files["no_web"])
    assert status == 0
    assert out.count("warn   7  info blocks and their fields: info") == 2
    status, _out, err = run(capsys, files["no_web"], "--strict")
    assert status == 1 and "has no web" in err


def test_a_real_ipaws_message_verifies_as_of_its_sending(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ipaws = DATA / "ipaws-cancel-signed.xml"
    status, out, _err = run(capsys, ipaws, "--at-sent", "--require-signature")
    assert status == 0
    assert "signature: valid (RSA-SHA256)" in out
    status, _out, err = run(capsys, ipaws)
    assert status == 1 and "2022-03-04" in err  # the certificate has expired since


def test_unreadable_input_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = run(capsys, tmp_path / "missing.xml")
    assert status == 1 and "cannot read" in err
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<alert")
    status, out, err = run(capsys, broken)
    assert status == 1 and "FAIL   1" in out
    doctype = tmp_path / "doctype.xml"
    doctype.write_bytes(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    assert run(capsys, doctype)[0] == 1
