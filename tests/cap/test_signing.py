"""
Enveloped XML-DSig on CAP messages: signing, verifying, and tampering.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from tests.cap.chains import full_chain, write_keypair
from tryvoha.cap_signing import (
    OASIS_SCHEMA,
    CapSigner,
    SigningSetupError,
    load_signer,
    schema_problems,
    verify_signature,
)
from tryvoha.cli_cap import check_message
from tryvoha.core.cap import DSIG_NS, Issue, Publisher, build_message, place_of, render
from tryvoha.core.regions import RegionRegistry

DATA = Path(__file__).parent / "data"
PUBLISHER = Publisher("alerts.example.org", "https://alerts.example.org")


@pytest.fixture(scope="module", params=["rsa", "ec"])
def keys(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    return write_keypair(tmp_path_factory.mktemp("keys"), request.param)


@pytest.fixture(scope="module")
def signer(keys: tuple[Path, Path]) -> CapSigner:
    return load_signer(*keys)


@pytest.fixture(scope="module")
def unsigned(registry: RegionRegistry) -> bytes:
    chain = full_chain()
    return render(build_message(chain, Issue(chain[1]), place_of(registry, "14"), PUBLISHER))


@pytest.fixture(scope="module")
def signed(signer: CapSigner, unsigned: bytes) -> bytes:
    return signer.sign(unsigned)


def test_the_signature_is_one_enveloped_last_child(signed: bytes, signer: CapSigner) -> None:
    root = etree.fromstring(signed)
    assert root[-1].tag == f"{{{DSIG_NS}}}Signature"
    assert len(root.findall(f"{{{DSIG_NS}}}Signature")) == 1
    reference = root.find(f".//{{{DSIG_NS}}}Reference")
    assert reference is not None and reference.get("URI") == ""
    transforms = [t.get("Algorithm") for t in root.iter(f"{{{DSIG_NS}}}Transform")]
    assert "http://www.w3.org/2000/09/xmldsig#enveloped-signature" in transforms
    assert root.find(f".//{{{DSIG_NS}}}X509Certificate") is not None
    assert schema_problems(root, OASIS_SCHEMA) == []
    assert check_message(signed) == []


def test_a_signed_message_verifies_against_its_certificate(
    signed: bytes, keys: tuple[Path, Path], signer: CapSigner
) -> None:
    check = verify_signature(signed, keys[1].read_bytes())
    assert (check.signed, check.valid, check.trusted) == (True, True, True)
    assert check.algorithm == signer.algorithm
    assert check.subject == "CN=alerts.example.org"


def test_without_a_certificate_the_embedded_one_proves_integrity_only(signed: bytes) -> None:
    check = verify_signature(signed)
    assert (check.valid, check.trusted, check.self_signed) == (True, False, True)


def test_another_certificate_is_refused(signed: bytes, tmp_path: Path) -> None:
    _key, other = write_keypair(tmp_path, "ec", "someone.else")
    check = verify_signature(signed, other.read_bytes())
    assert not check.valid
    assert check.problem is not None and "another certificate" in check.problem


def info_span(document: bytes) -> tuple[int, int]:
    return document.index(b"<info>"), document.rindex(b"</info>") + len(b"</info>")


def test_any_changed_byte_in_the_info_fails(signed: bytes, keys: tuple[Path, Path]) -> None:
    """Every 23rd letter or digit of the info blocks, changed: verification fails each time."""
    cert = keys[1].read_bytes()
    start, end = info_span(signed)
    positions = [i for i in range(start, end) if chr(signed[i]).isalnum()][::23]
    assert len(positions) > 100
    for position in positions:
        byte = signed[position]
        swapped = byte + 1 if chr(byte + 1).isalnum() else byte - 1
        tampered = signed[:position] + bytes([swapped]) + signed[position + 1 :]
        assert not verify_signature(tampered, cert).valid, position


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("Київська", "Київськa", id="one-letter-of-the-area"),
        pytest.param("<severity>Severe", "<severity>Minor", id="severity"),
        pytest.param("<responseType>Prepare", "<responseType>AllClear", id="response"),
        pytest.param("<value>air_raid", "<value>nuclear", id="event-code"),
        pytest.param("</headline>", " </headline>", id="a-space"),
    ],
)
def test_a_meaningful_edit_fails(
    signed: bytes, keys: tuple[Path, Path], old: str, new: str
) -> None:
    tampered = signed.replace(old.encode(), new.encode(), 1)
    assert tampered != signed
    check = verify_signature(tampered, keys[1].read_bytes())
    assert not check.valid
    assert check.problem == "the signed content was changed (digest mismatch)"


def test_an_unsigned_message_says_so(unsigned: bytes) -> None:
    check = verify_signature(unsigned)
    assert (check.signed, check.valid) == (False, False)


def test_a_real_ipaws_signature_verifies_as_of_its_sending() -> None:
    """FEMA's message: valid signature, certificate expired in 2022."""
    document = (DATA / "ipaws-cancel-signed.xml").read_bytes()
    sent = datetime(2019, 4, 19, 17, 46, 20, tzinfo=UTC)
    check = verify_signature(document, at=sent)
    assert (check.valid, check.algorithm, check.self_signed) == (True, "RSA-SHA256", False)
    assert check.subject is not None and "CN=IPAWSOPEN_200302" in check.subject
    expired = verify_signature(document)
    assert not expired.valid
    assert expired.problem is not None and "2022-03-04" in expired.problem
    tampered = document.replace(b"<status>Actual", b"<status>Test")
    assert not verify_signature(tampered, at=sent).valid


def test_signing_needs_matching_readable_pem_files(tmp_path: Path) -> None:
    key, cert = write_keypair(tmp_path, "rsa", "one")
    other_key, _other_cert = write_keypair(tmp_path, "ec", "two")
    with pytest.raises(SigningSetupError, match="is not the certificate of the key"):
        load_signer(other_key, cert)
    with pytest.raises(SigningSetupError, match="cannot read"):
        load_signer(tmp_path / "missing.key", cert)
    with pytest.raises(SigningSetupError, match=r"not a PEM X\.509 certificate"):
        load_signer(key, key)
    with pytest.raises(SigningSetupError, match="not an unencrypted PEM private key"):
        load_signer(cert, cert)
