"""
Token generation and hashing: the random part lives at the edge, out of the core.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from tryvoha.core.auth import Role, TokenRecord
from tryvoha.core.errors import TryvohaError
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.base import Store

TOKEN_PREFIX = "tv_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough: there is nothing to
    # brute-force that a slow hash would protect.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(
    store: Store,
    *,
    name: str,
    role: Role,
    regions: tuple[str, ...] = (),
    registry: RegionRegistry | None = None,
    now: datetime | None = None,
) -> str:
    """
    Store a new token's hash and return the token, which is never stored or shown again.
    """
    if not NAME_PATTERN.match(name):
        raise TryvohaError(
            f"invalid token name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'"
        )
    if regions and role is not Role.OPERATOR:
        raise TryvohaError("--regions applies to operator tokens only")
    if registry is not None:
        unknown = [r for r in regions if r not in registry]
        if unknown:
            raise TryvohaError(f"unknown region: {unknown[0]!r}")
    token = new_token()
    store.add_token(
        TokenRecord(
            name=name,
            role=role,
            token_hash=hash_token(token),
            created_at=now or datetime.now(UTC),
            regions=tuple(regions),
        )
    )
    return token
