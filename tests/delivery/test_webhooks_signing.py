"""
Webhook signatures: what a receiver checks with `verify_signature`.
"""

from __future__ import annotations

import pytest

from tryvoha.delivery.signing import sign, verify_signature

SECRET = "whsec_test-secret-0123456789"
BODY = b'{"seq":42,"kind":"alert.raised","alert":{"region_id":"31","type":"air_raid"}}'
SENT_AT = 1_751_576_520


def test_the_signed_body_verifies() -> None:
    header = sign(SECRET, BODY, SENT_AT)
    assert header.startswith(f"t={SENT_AT},v1=")
    assert verify_signature(SECRET, BODY, header, now=SENT_AT + 10)


@pytest.mark.parametrize("position", [0, 1, len(BODY) // 2, len(BODY) - 1])
def test_a_changed_byte_fails(position: int) -> None:
    header = sign(SECRET, BODY, SENT_AT)
    changed = bytearray(BODY)
    changed[position] ^= 0x01
    assert not verify_signature(SECRET, bytes(changed), header, now=SENT_AT)


def test_another_secret_fails() -> None:
    header = sign(SECRET, BODY, SENT_AT)
    assert not verify_signature(SECRET + "x", BODY, header, now=SENT_AT)


@pytest.mark.parametrize("skew", [-301, 301, 86_400])
def test_a_timestamp_outside_the_tolerance_fails(skew: int) -> None:
    """A captured request replayed later (or a clock far off) is refused."""
    header = sign(SECRET, BODY, SENT_AT)
    assert not verify_signature(SECRET, BODY, header, now=SENT_AT + skew)
    assert verify_signature(SECRET, BODY, header, now=SENT_AT + skew, tolerance=abs(skew) + 1)


def test_a_moved_timestamp_fails() -> None:
    """The timestamp is signed too: replacing it with a fresh one breaks the signature."""
    digest = sign(SECRET, BODY, SENT_AT).split(",")[1]
    forged = f"t={SENT_AT + 3600},{digest}"
    assert not verify_signature(SECRET, BODY, forged, now=SENT_AT + 3600)


@pytest.mark.parametrize(
    "header",
    ["", "garbage", f"t={SENT_AT}", "v1=abc", f"t=soon,v1={'0' * 64}"],
)
def test_malformed_headers_fail(header: str) -> None:
    assert not verify_signature(SECRET, BODY, header, now=SENT_AT)


def test_any_of_several_signatures_may_match() -> None:
    """During a secret rotation a header may carry a signature per secret."""
    old = sign("whsec_old-secret-0123456789", BODY, SENT_AT)
    new = sign(SECRET, BODY, SENT_AT).split(",")[1]
    assert verify_signature(SECRET, BODY, f"{old},{new}", now=SENT_AT)
