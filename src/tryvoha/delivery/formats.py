"""
Webhook body formats: a format name maps to a function that renders an event's body.

A renderer is `render(event, registry) -> bytes | None`. It returns the JSON body to POST,
or None when its format has nothing to say about this event; the subscription then moves
past the event without a request. Every app starts with the built-in `tryvoha` format (the
event as `tryvoha.core.codec.event_to_dict` gives it) in `app.state.webhook_formats`; a
feature adds its own from its `install(app)` with `add_body_format(app, name, render)`.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from fastapi import FastAPI

from tryvoha.core.codec import event_to_dict
from tryvoha.core.model import Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.model import DEFAULT_FORMAT

BodyRenderer = Callable[[Event, RegionRegistry], bytes | None]
BodyFormats = dict[str, BodyRenderer]


def render_tryvoha(event: Event, registry: RegionRegistry) -> bytes:
    return orjson.dumps(event_to_dict(event))


def builtin_formats() -> BodyFormats:
    return {DEFAULT_FORMAT: render_tryvoha}


def body_formats(app: FastAPI) -> BodyFormats:
    """The app's formats, created with the built-ins on first use."""
    formats: BodyFormats | None = getattr(app.state, "webhook_formats", None)
    if formats is None:
        formats = app.state.webhook_formats = builtin_formats()
    return formats


def add_body_format(app: FastAPI, name: str, renderer: BodyRenderer) -> None:
    """Let subscriptions of *app* ask for *name*; replaces an earlier renderer of that name."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"format name {name!r}: use letters, digits and '_'")
    body_formats(app)[name] = renderer
