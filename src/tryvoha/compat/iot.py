"""
alerts.in.ua's compact IoT status strings, for LED maps and microcontrollers.

One character per location: `A` the location or an ancestor has an air-raid alert (v1;
v2 says `R` for the red `alert` level and `Y` for the yellow `warning` level), `P` only
some part of it has one, `N` none, and a space for a UID no location has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tryvoha.core.model import Alert, AlertLevel, AlertType, RegionStatus
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.status import status_map

OBLAST_ORDER: tuple[str, ...] = (
    "29", "8", "4", "9", "28", "10", "11", "12", "13", "31", "14", "15", "16", "27",
    "17", "18", "19", "5", "30", "20", "21", "22", "23", "3", "24", "26", "25",
)  # fmt: skip
"""UIDs in the order of `/v1/iot/active_air_raid_alerts_by_oblast.json`: 27 characters."""

MIN_UID_STRING_LENGTH = 1805
"""The official client reads the all-UIDs string up to UID 1804 (the Luhansk raions)."""

UNASSIGNED = " "
NO_ALERT = "N"
PARTIAL = "P"


def status_char(status: tuple[RegionStatus, AlertLevel] | None, *, with_level: bool) -> str:
    if status is None:
        return NO_ALERT
    state, level = status
    if state is RegionStatus.PARTIAL:
        return PARTIAL
    if not with_level:
        return "A"
    return "R" if level is AlertLevel.ALERT else "Y"


def air_raid_statuses(
    registry: RegionRegistry, alerts: Iterable[Alert]
) -> dict[str, tuple[RegionStatus, AlertLevel]]:
    """The air-raid status of every region that is not clear."""
    return status_map(registry, alerts, AlertType.AIR_RAID)


def by_oblast(statuses: Mapping[str, tuple[RegionStatus, AlertLevel]], *, with_level: bool) -> str:
    return "".join(status_char(statuses.get(uid), with_level=with_level) for uid in OBLAST_ORDER)


def by_uid(
    registry: RegionRegistry,
    statuses: Mapping[str, tuple[RegionStatus, AlertLevel]],
    *,
    with_level: bool,
) -> str:
    """
    Character *i* is the status of UID *i*. Regions whose id is not a number have no UID
    and are left out.
    """
    uids = [int(region.id) for region in registry if is_uid(region.id)]
    length = max(MIN_UID_STRING_LENGTH, max(uids, default=0) + 1)
    chars = [UNASSIGNED] * length
    for uid in uids:
        chars[uid] = status_char(statuses.get(str(uid)), with_level=with_level)
    return "".join(chars)


def is_uid(region_id: str) -> bool:
    """A region id that is an alerts.in.ua UID: a number written without leading zeros."""
    return region_id.isascii() and region_id.isdigit() and str(int(region_id)) == region_id
