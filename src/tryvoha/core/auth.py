"""
Roles, what each may do, and the region scope of operator tokens.

Tokens are random strings shown once; only their SHA-256 is stored. Hashing and random
generation happen at the edge (`tryvoha.tokens`); this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tryvoha.core.regions import RegionRegistry


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    ENGINE = "engine"
    READER = "reader"


class Permission(StrEnum):
    READ = "read"
    WRITE_ALERTS = "write_alerts"
    WRITE_TRACKS = "write_tracks"
    MANAGE_WEBHOOKS = "manage_webhooks"
    ADMIN = "admin"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE_ALERTS}),
    Role.ENGINE: frozenset({Permission.READ, Permission.WRITE_ALERTS, Permission.WRITE_TRACKS}),
    Role.READER: frozenset({Permission.READ, Permission.MANAGE_WEBHOOKS}),
}


@dataclass(frozen=True, slots=True)
class TokenRecord:
    name: str
    role: Role
    token_hash: str
    created_at: datetime
    regions: tuple[str, ...] = ()
    """Region subtrees an operator may act on; empty means everywhere."""
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


def out_of_scope(
    token: TokenRecord, region_ids: Iterable[str], registry: RegionRegistry
) -> list[str]:
    """
    The regions of *region_ids* that lie outside the token's subtrees (none for unscoped).
    """
    if not token.regions:
        return []
    roots = set(token.regions)
    outside = []
    for region_id in region_ids:
        lineage = {region_id, *registry.ancestors(region_id)}
        if not lineage & roots:
            outside.append(region_id)
    return outside
