"""
The live map page at `/`: the region map coloured by status, live over SSE, with the active
alerts, a region panel, a replay timeline and the nearest shelters. All of it is served by
this package: no file comes from another host.

`install(app)` is called after every API router, so `/` and `/static/...` shadow none of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tryvoha.web import pages, replay, servertime
from tryvoha.web.mapdata import map_data


def install(app: FastAPI) -> None:
    """Add the page, its static files, the map data, the replay API and the server's time."""
    app.include_router(replay.router)
    app.include_router(servertime.router)
    app.include_router(pages.router)

    async def build_map_data(app: Any) -> None:
        # The files the page asks for first, built once per registry in the background:
        # the first visitor after a start need not wait for them.
        pages.start_building(map_data(app.state.registry))

    app.state.on_start.append(build_map_data)
