"""
Builders for the events of one alert, and a signing key and certificate for tests.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tryvoha.core.model import (
    Alert,
    AlertLevel,
    AlertType,
    Event,
    EventKind,
    Threat,
    ThreatClass,
)

T0 = datetime(2025, 7, 3, 21, 22, 0, 123000, tzinfo=UTC)


def raised(
    seq: int,
    region_id: str = "14",
    type: AlertType = AlertType.AIR_RAID,
    level: AlertLevel = AlertLevel.ALERT,
    at: datetime = T0,
    source: str = "duty",
) -> Event:
    alert = Alert(
        id=seq,
        region_id=region_id,
        type=type,
        level=level,
        started_at=at,
        updated_at=at,
        source=source,
    )
    return Event(seq, EventKind.RAISED, at, source, alert)


def updated(previous: Event, seq: int, at: datetime, **changes: object) -> Event:
    alert = replace(previous.alert, updated_at=at, **changes)  # type: ignore[arg-type]
    return Event(seq, EventKind.UPDATED, at, previous.actor, alert, tuple(sorted(changes)))


def lifted(previous: Event, seq: int, at: datetime) -> Event:
    alert = replace(previous.alert, updated_at=at, finished_at=at)
    return Event(seq, EventKind.LIFTED, at, previous.actor, alert)


def full_chain(
    type: AlertType = AlertType.AIR_RAID,
    level: AlertLevel = AlertLevel.ALERT,
    region_id: str = "14",
) -> list[Event]:
    """Raise, a change of level with a threat and a note four hours on, a lift seven later."""
    first = raised(5, region_id, type, level)
    other = AlertLevel.WARNING if level is AlertLevel.ALERT else AlertLevel.ALERT
    at = T0 + timedelta(hours=4)
    threat = Threat(ThreatClass.SHAHED, at + timedelta(minutes=20), "t-1")
    second = updated(first, 9, at, level=other, threat=threat, note="Група БпЛА з півночі")
    return [first, second, lifted(second, 12, at + timedelta(hours=7))]


def write_keypair(
    directory: Path, kind: str = "rsa", name: str = "alerts.example.org"
) -> tuple[Path, Path]:
    """A private key and a self-signed certificate for it, as PEM files in *directory*."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path = directory / f"{name}-{kind}.key"
    cert_path = directory / f"{name}-{kind}.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
