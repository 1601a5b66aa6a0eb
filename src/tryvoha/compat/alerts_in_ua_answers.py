"""
The alerts.in.ua endpoints' answers, whichever way the request arrived: a FastAPI route,
the ASGI fast path or the HTTP protocol shortcut.

Polled bodies (active alerts, IoT strings) are rendered once per log version and answered
from memory with `Last-Modified`; `If-Modified-Since` gets 304. History is read from the
store on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import orjson

from tryvoha.compat import iot
from tryvoha.compat.alerts_in_ua import render_alerts
from tryvoha.compat.answers import Answer, error
from tryvoha.compat.runtime import CompatRuntime
from tryvoha.core.model import AlertLevel, RegionStatus
from tryvoha.storage.base import HistoryQuery

PERIODS = {"week_ago": timedelta(days=7), "month_ago": timedelta(days=30)}
MAX_HISTORY_ALERTS = 5000


@dataclass(frozen=True, slots=True)
class Ask:
    """What every request brings: its key, its cached copy's date, and who sends it."""

    key: str | None
    if_modified_since: str | None
    client: str


Polled = Callable[[CompatRuntime, Ask], Answer]
"""The answer to an admitted request for a polled body."""


def bearer_key(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


async def respond(runtime: CompatRuntime, ask: Ask, polled: Polled) -> Answer:
    admission = await runtime.admit(ask.key, ask.client)
    return admission.refusal() or polled(runtime, ask)


def respond_now(runtime: CompatRuntime, ask: Ask, polled: Polled) -> Answer | None:
    """The answer without waiting, or None when the key must first be looked up."""
    admission = runtime.admit_now(ask.key, ask.client)
    if admission is None:
        return None
    return admission.refusal() or polled(runtime, ask)


# -- polled bodies --------------------------------------------------------------------------


def _statuses(runtime: CompatRuntime) -> dict[str, tuple[RegionStatus, AlertLevel]]:
    return runtime.per_version(
        "air_raid_statuses",
        lambda: iot.air_raid_statuses(runtime.registry, runtime.service.active),
    )


def _uid_string(runtime: CompatRuntime, with_level: bool) -> str:
    return runtime.per_version(
        f"uids:{with_level}",
        lambda: iot.by_uid(runtime.registry, _statuses(runtime), with_level=with_level),
    )


def active(runtime: CompatRuntime, ask: Ask) -> Answer:
    service = runtime.service
    changed_at = runtime.changes.last_event_at
    rendered = runtime.bodies.get(
        ("active",),
        service.last_seq,
        changed_at,
        lambda: render_alerts(service.active, runtime.registry, changed_at),
    )
    return rendered.answer(ask.if_modified_since)


def by_oblast(with_level: bool) -> Polled:
    def answer(runtime: CompatRuntime, ask: Ask) -> Answer:
        rendered = runtime.bodies.get(
            ("by_oblast", with_level),
            runtime.service.last_seq,
            runtime.changes.last_event_at,
            lambda: orjson.dumps(iot.by_oblast(_statuses(runtime), with_level=with_level)),
        )
        return rendered.answer(ask.if_modified_since)

    return answer


def all_uids(with_level: bool) -> Polled:
    def answer(runtime: CompatRuntime, ask: Ask) -> Answer:
        rendered = runtime.bodies.get(
            ("by_uid", with_level),
            runtime.service.last_seq,
            runtime.changes.last_event_at,
            lambda: orjson.dumps(_uid_string(runtime, with_level)),
        )
        return rendered.answer(ask.if_modified_since)

    return answer


def one_uid(uid: str, with_level: bool) -> Polled:
    def answer(runtime: CompatRuntime, ask: Ask) -> Answer:
        if not iot.is_uid(uid) or uid not in runtime.registry:
            return error(404, f"unknown location UID: {uid!r}")
        rendered = runtime.bodies.get(
            ("uid", with_level, uid),
            runtime.service.last_seq,
            runtime.changes.last_event_at,
            lambda: orjson.dumps(_uid_string(runtime, with_level)[int(uid)]),
        )
        return rendered.answer(ask.if_modified_since)

    return answer


_EXACT: dict[str, Polled] = {
    "/v1/alerts/active.json": active,
    "/v1/iot/active_air_raid_alerts_by_oblast.json": by_oblast(False),
    "/v2/iot/active_air_raid_alerts_by_oblast.json": by_oblast(True),
    "/v1/iot/active_air_raid_alerts.json": all_uids(False),
    "/v2/iot/active_air_raid_alerts.json": all_uids(True),
}
_ONE_UID = {"/v1/iot/active_air_raid_alerts/": False, "/v2/iot/active_air_raid_alerts/": True}


def polled_at(path: str) -> Polled | None:
    """The polled body a GET of *path* asks for, or None for any other path."""
    found = _EXACT.get(path)
    if found is not None or not path.endswith(".json"):
        return found
    for prefix, with_level in _ONE_UID.items():
        if path.startswith(prefix):
            uid = path[len(prefix) : -len(".json")]
            return None if not uid or "/" in uid else one_uid(uid, with_level)
    return None


# -- history --------------------------------------------------------------------------------


async def history(runtime: CompatRuntime, ask: Ask, uid: str, period: str) -> Answer:
    """Finished and active alerts of a location and its parts over the period."""
    refused = (await runtime.admit(ask.key, ask.client, history=True)).refusal()
    if refused is not None:
        return refused
    span = PERIODS.get(period)
    if span is None:
        return error(400, f"unknown period {period!r}: use week_ago or month_ago")
    registry = runtime.registry
    if uid not in registry:
        return error(404, f"unknown location UID: {uid!r}")
    service = runtime.service
    version = service.last_seq
    query = HistoryQuery(
        region_ids={uid, *registry.descendants(uid)},
        since=runtime.now() - span,
        limit=MAX_HISTORY_ALERTS,
    )
    alerts = sorted(await service.history(query), key=lambda a: a.id)
    changed_at = runtime.changes.last_event_at
    rendered = runtime.bodies.get(
        ("history", uid, period),
        version,
        changed_at,
        lambda: render_alerts(alerts, registry, changed_at, threats=False),
        always=True,
    )
    return rendered.answer(ask.if_modified_since)
