"""
Webhook signatures: HMAC-SHA256 over `"<unix time>.<body>"`, sent as
`X-Tryvoha-Signature: t=<unix time>,v1=<hex digest>`.

The timestamp is inside the signed text, so a receiver that also checks it is recent
refuses a captured request replayed later. Several `v1=` parts may appear (while a secret is
being rotated); one valid part is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Tryvoha-Signature"
EVENT_ID_HEADER = "X-Tryvoha-Event-Id"
ATTEMPT_HEADER = "X-Tryvoha-Delivery-Attempt"
WEBHOOK_ID_HEADER = "X-Tryvoha-Webhook-Id"

DEFAULT_TOLERANCE_SECONDS = 300
"""How old (or how far in the future) a signature may be before a receiver refuses it."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-Tryvoha-Signature` value for *body* sent at *timestamp* (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """
    True when *header* signs exactly *body* with *secret* at a time within *tolerance*
    seconds of *now* (the current time by default).
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
