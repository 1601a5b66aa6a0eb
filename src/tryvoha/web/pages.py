"""
The routes of the page: `/` (the live map), `/static/<fingerprint>/<file>` and
`/map/<fingerprint>/<file>` (the region list and polygons).

A request for a fingerprint that is not this server's (an old page during an upgrade, or a
node of another release behind the same balancer) gets the current file, revalidated on
use instead of cached for a year.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tryvoha.api.errors import ApiError
from tryvoha.core.regions import RegionRegistry
from tryvoha.web.assets import IMMUTABLE, REVALIDATE, Asset, respond
from tryvoha.web.bundle import CONTENT_SECURITY_POLICY, MAP_PREFIX, load_bundle
from tryvoha.web.mapdata import MapData, map_data

router = APIRouter(include_in_schema=False)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def page_config(data: MapData) -> dict[str, Any]:
    """What `map.js` is told by the page: where the map's files are."""
    base = f"{MAP_PREFIX}/{data.fingerprint}"
    return {"map": {"base": base, "files": data.names}}


def _map_data(request: Request) -> MapData:
    registry: RegionRegistry = request.app.state.registry
    return map_data(registry)


FIRST_FILES = ("regions.json", "oblast-0.json", "raion-0.json", "hromada-0.json")
"""What the page asks for first, in order."""


def _build_first_files(data: MapData) -> None:
    for name in FIRST_FILES:
        if name in data.names:
            data.file(name)


def start_building(data: MapData) -> None:
    """Build the files the page asks for first, in the background."""
    # A daemon thread, so that a server stopping meanwhile does not wait for it.
    threading.Thread(
        target=_build_first_files, args=(data,), name="tryvoha-map-data", daemon=True
    ).start()


@router.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request) -> Response:
    state = request.app.state
    page: Asset | None = getattr(state, "map_page", None)
    if page is not None:
        return respond(request, page, REVALIDATE, PAGE_HEADERS)
    config = await asyncio.to_thread(page_config, _map_data(request))
    page = state.map_page = load_bundle().render_page(config)
    return respond(request, page, REVALIDATE, PAGE_HEADERS)


@router.api_route("/static/{fingerprint}/{name}", methods=["GET", "HEAD"])
async def static_file(fingerprint: str, name: str, request: Request) -> Response:
    bundle = load_bundle()
    asset = bundle.assets.get(name)
    if asset is None:
        raise ApiError(404, "not_found", f"no such file: {name!r}")
    policy = IMMUTABLE if fingerprint == bundle.fingerprint else REVALIDATE
    return respond(request, asset, policy)


@router.api_route("/map/{fingerprint}/{name}", methods=["GET", "HEAD"])
async def map_file(fingerprint: str, name: str, request: Request) -> Response:
    data = _map_data(request)
    asset = await asyncio.to_thread(data.file, name)
    if asset is None:
        raise ApiError(404, "not_found", f"no such map file: {name!r}")
    policy = IMMUTABLE if fingerprint == data.fingerprint else REVALIDATE
    return respond(request, asset, policy)
