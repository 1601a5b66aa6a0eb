"""
`create_app()`: the ASGI application, its lifespan wiring the store, bus and service.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tryvoha import __version__, cluster, web
from tryvoha.api import streams
from tryvoha.api.errors import install_error_handlers
from tryvoha.api.middleware import BodyLimitMiddleware, ConditionalGetMiddleware
from tryvoha.api.redact import install_redaction
from tryvoha.api.routes import (
    cap,
    compat_alerts_in_ua,
    compat_ukrainealarm,
    history,
    native,
    shelters,
    tracks,
)
from tryvoha.bus.base import Bus
from tryvoha.bus.factory import open_bus
from tryvoha.config import Settings
from tryvoha.core.model import Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery import mqtt, webhooks
from tryvoha.metrics import Metrics
from tryvoha.regions_io import load_bundled, load_from_dir
from tryvoha.service import AlertService, utc_now
from tryvoha.storage.base import Store
from tryvoha.storage.factory import open_store


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = f"{message['status'] // 100}xx"
                self.metrics.http_requests.labels(scope["method"], status).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


def load_registry(settings: Settings) -> RegionRegistry:
    if settings.regions_dir:
        return load_from_dir(settings.regions_dir)
    return load_bundled()


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    bus: Bus | None = None,
    registry: RegionRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """
    Build the app. Backends not passed in are opened from *settings* when it starts.
    """
    settings = settings or Settings()
    metrics = Metrics()
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = AlertService(
            store if store is not None else open_store(settings.database_url),
            bus if bus is not None else open_bus(settings.bus_url),
            app.state.registry,
            clock=clock,
        )

        def observe(events: Sequence[Event]) -> None:
            for event in events:
                metrics.events.labels(event.kind.value).inc()
            metrics.last_seq.set(service.last_seq)
            metrics.active_alerts.set(len(service.active))

        service.add_listener(observe)
        await service.start()
        metrics.last_seq.set(service.last_seq)
        metrics.active_alerts.set(len(service.active))
        app.state.service = service
        for hook in app.state.on_start:
            await hook(app)
        # Regions, geometry and caches built at start live as long as the process: keep
        # them out of the collector's full passes, which otherwise stall every request.
        gc.freeze()
        gc.set_threshold(20_000, 50, 1000)
        try:
            yield
        finally:
            for hook in reversed(app.state.on_stop):
                await hook(app)
            await service.stop()
            if store is None:
                service.store.close()

    app = FastAPI(
        title="tryvoha",
        version=__version__,
        summary="An open, self-hostable civil air-raid alert server",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.registry = registry if registry is not None else load_registry(settings)
    app.state.metrics = metrics
    app.state.active_cache = {}
    app.state.on_start = []
    app.state.on_stop = []
    install_error_handlers(app)
    app.include_router(native.router)
    # Each feature adds its routes and start/stop hooks; the map page mounts `/` last.
    for feature in (
        cluster,
        streams,
        webhooks,
        mqtt,
        compat_alerts_in_ua,
        compat_ukrainealarm,
        cap,
        tracks,
        history,
        shelters,
    ):
        feature.install(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    web.install(app)
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    # Outermost: stream events skip the other layers once a stream's response has started.
    app.add_middleware(streams.DirectSendMiddleware)
    return app
