"""
CAP at the edge: the bundled XML Schemas, and enveloped XML-DSig signatures.

A message is signed as CAP 1.2 allows: one enveloped `ds:Signature` as the last child of
`alert` (`Reference URI=""`, the enveloped-signature transform, exclusive c14n, SHA-256,
RSA or ECDSA by the key's type) with the X.509 certificate in `KeyInfo`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from tryvoha.core.cap import DSIG_NS, CapError, parse_xml

OASIS_SCHEMA = "CAP-v1.2.xsd"
GOOGLE_SCHEMA = "CAP-v1.2-extended-google.xsd"
"""Google's stricter variant: patterns for identifier, sender, references, circle, altitude."""

_ALGORITHMS = {
    SignatureMethod.RSA_SHA256: "RSA-SHA256",
    SignatureMethod.ECDSA_SHA256: "ECDSA-SHA256",
}
_EXPECTED = SignatureConfiguration(
    expect_references=1,
    signature_methods=frozenset(_ALGORITHMS),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


class SigningSetupError(Exception):
    """The configured key or certificate cannot sign CAP."""


# -- schemas --------------------------------------------------------------------------


@functools.cache
def _schema(name: str) -> etree.XMLSchema:
    source = resources.files("tryvoha").joinpath("data", "cap", name).read_bytes()
    return etree.XMLSchema(etree.fromstring(source, etree.XMLParser(no_network=True)))


def schema_problems(root: etree._Element, schema: str = OASIS_SCHEMA) -> list[str]:
    """Why *root* is not valid against the bundled *schema*; empty when it is."""
    validator = _schema(schema)
    if validator.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log]  # type: ignore[attr-defined]


# -- signing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapSigner:
    key_pem: bytes
    cert_pem: bytes
    method: SignatureMethod

    @property
    def algorithm(self) -> str:
        return _ALGORITHMS[self.method]

    def sign(self, document: bytes) -> bytes:
        """*document* (an unsigned CAP message) with an enveloped signature appended."""
        signer = XMLSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=self.method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signed = signer.sign(parse_xml(document), key=self.key_pem, cert=self.cert_pem.decode())
        result: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return result


def load_signer(key_path: str | Path, cert_path: str | Path) -> CapSigner:
    """
    A signer from PEM files (`TRYVOHA_CAP_KEY`, `TRYVOHA_CAP_CERT`); the key must be an
    unencrypted RSA or EC private key matching the certificate.
    """
    key_pem = _read(key_path, "CAP signing key")
    cert_pem = _read(cert_path, "CAP certificate")
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningSetupError(f"{key_path}: not an unencrypted PEM private key ({exc})") from None
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise SigningSetupError(f"{cert_path}: not a PEM X.509 certificate ({exc})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    else:
        raise SigningSetupError(f"{key_path}: CAP signing needs an RSA or EC key")
    if key.public_key() != cert.public_key():
        raise SigningSetupError(f"{cert_path} is not the certificate of the key in {key_path}")
    return CapSigner(key_pem, cert_pem, method)


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SigningSetupError(f"cannot read the {what} {path}: {exc.strerror}") from None


# -- verifying ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """
    What a signature proved: `valid` means the signed bytes are intact and signed by
    `subject`'s key; `trusted` that this key is the one given to check against.
    """

    signed: bool
    valid: bool
    trusted: bool = False
    algorithm: str | None = None
    subject: str | None = None
    self_signed: bool = False
    problem: str | None = None


def _ds(*names: str) -> str:
    return "/".join(f"{{{DSIG_NS}}}{name}" for name in names)


def embedded_certificate(root: etree._Element) -> x509.Certificate | None:
    text = root.findtext(_ds("Signature", "KeyInfo", "X509Data", "X509Certificate"))
    if not text:
        return None
    body = "".join(text.split())
    pem = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def verify_signature(
    document: bytes, cert_pem: bytes | None = None, at: datetime | None = None
) -> SignatureCheck:
    """
    Check the enveloped signature of a CAP message against *cert_pem*, or, without one,
    against the certificate it carries (which proves integrity, not who signed).

    *at* is when the certificate must have been valid (default: now).
    """
    try:
        root = parse_xml(document)
    except CapError as exc:
        return SignatureCheck(signed=False, valid=False, problem=exc.message)
    if root.find(_ds("Signature")) is None:
        return SignatureCheck(signed=False, valid=False, problem="the message is not signed")
    embedded = embedded_certificate(root)
    given = None
    if cert_pem is not None:
        try:
            given = x509.load_pem_x509_certificate(cert_pem)
        except ValueError as exc:
            return _failed(f"the given certificate is not PEM X.509: {exc}")
    signer_cert = given or embedded
    if signer_cert is None:
        return _failed("the signature carries no X.509 certificate and none was given")
    if given is not None and embedded is not None and given != embedded:
        return _failed("the message was signed with another certificate than the one given")
    when = at or datetime.now(UTC)
    if not signer_cert.not_valid_before_utc <= when <= signer_cert.not_valid_after_utc:
        first, last = signer_cert.not_valid_before_utc, signer_cert.not_valid_after_utc
        return _failed(
            f"the certificate is valid {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
            f"not at {when:%Y-%m-%d %H:%M} UTC",
            signer_cert,
        )
    config = replace(_EXPECTED, verification_time=when)
    try:
        XMLVerifier().verify(document, x509_cert=signer_cert, expect_config=config)
    except InvalidDigest:
        return _failed("the signed content was changed (digest mismatch)", signer_cert)
    except (InvalidSignature, InvalidCertificate, InvalidInput) as exc:
        return _failed(str(exc).split("\n", 1)[0], signer_cert)
    except etree.LxmlError as exc:
        return _failed(f"cannot read the signature: {exc}", signer_cert)
    return SignatureCheck(
        signed=True,
        valid=True,
        trusted=given is not None,
        algorithm=_algorithm_of(root),
        subject=signer_cert.subject.rfc4514_string(),
        self_signed=signer_cert.issuer == signer_cert.subject,
    )


def _algorithm_of(root: etree._Element) -> str | None:
    element = root.find(_ds("Signature", "SignedInfo", "SignatureMethod"))
    if element is None:
        return None
    uri = element.get("Algorithm", "")
    return next((name for m, name in _ALGORITHMS.items() if m.value == uri), uri)


def _failed(problem: str, cert: x509.Certificate | None = None) -> SignatureCheck:
    return SignatureCheck(
        signed=True,
        valid=False,
        subject=None if cert is None else cert.subject.rfc4514_string(),
        self_signed=cert is not None and cert.issuer == cert.subject,
        problem=problem,
    )
