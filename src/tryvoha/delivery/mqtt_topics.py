"""
What the MQTT publisher sends, as pure functions: topics, region states and payloads.

    <prefix>/events                    every event, in order (QoS 1, not retained)
    <prefix>/regions/<id>/status       every region's status (QoS 1, retained)
    <prefix>/oblasts/<id>/status       the same, for oblast-level units only (retained)
    <prefix>/server/status             {"online": true|false} (retained; false is the will)
    <prefix>/server/events_sent        {"seq": n}, the newest event the broker acknowledged
                                       (retained; where the next publisher resumes)

A region's status payload combines the alert types: `status` is `active` when any type
is active there, else `partial` when any type is partial, else `none`; `level` is the most
severe level among the types with that status; `types` has each type's own status and level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from tryvoha.core.codec import event_to_dict
from tryvoha.core.model import Alert, AlertLevel, AlertType, Event, RegionStatus
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.status import status_map

_RANK = {RegionStatus.NONE: 0, RegionStatus.PARTIAL: 1, RegionStatus.ACTIVE: 2}
_TOPIC_UNSAFE = frozenset("/+#\x00")

TypeStatus = tuple[RegionStatus, AlertLevel | None]


@dataclass(frozen=True, slots=True)
class RegionState:
    status: RegionStatus
    level: AlertLevel | None
    types: tuple[TypeStatus, ...]
    """One entry per `AlertType`, in its order."""


NONE_STATE = RegionState(
    RegionStatus.NONE, None, tuple((RegionStatus.NONE, None) for _ in AlertType)
)


def events_topic(prefix: str) -> str:
    return f"{prefix}/events"


def region_topic(prefix: str, region_id: str) -> str:
    return f"{prefix}/regions/{region_id}/status"


def oblast_topic(prefix: str, region_id: str) -> str:
    return f"{prefix}/oblasts/{region_id}/status"


def server_topic(prefix: str) -> str:
    return f"{prefix}/server/status"


def cursor_topic(prefix: str) -> str:
    return f"{prefix}/server/events_sent"


def is_topic_safe(region_id: str) -> bool:
    """Ids with MQTT separators or wildcards cannot be one topic level."""
    return bool(region_id) and not _TOPIC_UNSAFE & set(region_id)


def _combine(types: tuple[TypeStatus, ...]) -> RegionState:
    status = max((s for s, _ in types), key=_RANK.__getitem__)
    levels = {level for s, level in types if s is status and level is not None}
    level = AlertLevel.ALERT if AlertLevel.ALERT in levels else next(iter(levels), None)
    return RegionState(status, level, types)


def region_states(registry: RegionRegistry, alerts: Iterable[Alert]) -> dict[str, RegionState]:
    """The state of every region of *registry*, `none` included."""
    active = list(alerts)
    if not active:
        return {region.id: NONE_STATE for region in registry}
    by_type = [status_map(registry, active, alert_type) for alert_type in AlertType]
    states: dict[str, RegionState] = {}
    for region in registry:
        types = tuple(statuses.get(region.id, (RegionStatus.NONE, None)) for statuses in by_type)
        states[region.id] = _combine(types)
    return states


def status_payload(region_id: str, state: RegionState, seq: int) -> bytes:
    types: dict[str, Any] = {
        alert_type.value: {"status": status.value, "level": level.value if level else None}
        for alert_type, (status, level) in zip(AlertType, state.types, strict=True)
    }
    return orjson.dumps(
        {
            "region_id": region_id,
            "status": state.status.value,
            "level": state.level.value if state.level else None,
            "types": types,
            "seq": seq,
        }
    )


def event_payload(event: Event) -> bytes:
    return orjson.dumps(event_to_dict(event))


def server_payload(online: bool) -> bytes:
    return orjson.dumps({"online": online})


def cursor_payload(seq: int) -> bytes:
    return orjson.dumps({"seq": seq})


def cursor_of(payload: object) -> int | None:
    """The seq in a cursor payload, or None for anything else (an empty retained message)."""
    if not isinstance(payload, bytes | bytearray) or not payload:
        return None
    try:
        seq = orjson.loads(payload).get("seq")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None
