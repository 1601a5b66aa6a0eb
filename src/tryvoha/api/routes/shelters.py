"""
Shelters near a point: `GET /api/shelters/nearest` and the list, `GET /api/shelters`.

Distances are great-circle metres (haversine) and walking minutes at 5 km/h, both as the
crow flies: a real route is longer. Shelters are imported with `tryvoha shelters import`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.shelters.repository import ShelterRepository

router = APIRouter(tags=["shelters"])

MAX_NEAREST = 50
MAX_PAGE = 5000


class ShelterOut(BaseModel):
    id: str
    name_uk: str
    name_en: str
    lat: float
    lon: float
    kind: str = Field(description="What the source says it is: subway, bomb_shelter, bunker…")


class NearbyShelterOut(ShelterOut):
    distance_m: int = Field(description="Metres as the crow flies (haversine)")
    walking_minutes: int = Field(description="At 5 km/h (83 m a minute), rounded up")


class NearestOut(BaseModel):
    lat: float
    lon: float
    shelters: list[NearbyShelterOut]


class SheltersOut(BaseModel):
    shelters: list[ShelterOut]
    total: int = Field(description="All shelters the server knows, in or out of the box")
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page")


def get_repository(request: Request) -> ShelterRepository:
    repository: ShelterRepository | None = getattr(request.app.state, "shelters", None)
    if repository is None:
        raise ApiError(503, "unavailable", "shelters are not loaded yet", {"Retry-After": "1"})
    return repository


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ApiError(
            422, "invalid_request", f"bbox: expected min_lon,min_lat,max_lon,max_lat: {text!r}"
        )
    min_lon, min_lat, max_lon, max_lat = values
    if min_lon > max_lon or min_lat > max_lat:
        raise ApiError(422, "invalid_request", f"bbox: minimum above maximum: {text!r}")
    return min_lon, min_lat, max_lon, max_lat


@router.get(
    "/api/shelters/nearest",
    response_model=NearestOut,
    responses=error_responses(401, 422, 503),
)
def nearest_shelters(
    request: Request,
    _reader: ReaderDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    n: Annotated[int, Query(ge=1, le=MAX_NEAREST, description="how many")] = 3,
    max_m: Annotated[
        float | None,
        Query(gt=0, allow_inf_nan=False, description="leave out shelters farther than this"),
    ] = None,
) -> Response:
    """
    The *n* shelters nearest to a point, nearest first, with the distance in metres and
    walking minutes (5 km/h, straight line).
    """
    found = get_repository(request).index().nearest(lat, lon, n, max_m)
    return _json({"lat": lat, "lon": lon, "shelters": [near.to_dict() for near in found]})


@router.get("/api/shelters", response_model=SheltersOut, responses=error_responses(401, 422, 503))
def list_shelters(
    request: Request,
    _reader: ReaderDep,
    bbox: Annotated[
        str | None,
        Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> Response:
    """
    Every known shelter in id order, in pages (pass `next_cursor` back as `cursor`),
    optionally only those inside a bounding box.
    """
    repository = get_repository(request)
    box = _parse_bbox(bbox) if bbox is not None else None
    page = repository.page(after=cursor, limit=limit, bbox=box)
    return _json(
        {
            "shelters": [shelter.to_dict() for shelter in page],
            "total": repository.count(),
            "next_cursor": page[-1].id if len(page) == limit else None,
        }
    )


def install(app: FastAPI) -> None:
    """Add the shelter routes; the repository opens on the service's store at start."""
    app.include_router(router)

    async def open_repository(app: Any) -> None:
        app.state.shelters = ShelterRepository.for_store(app.state.service.store)

    async def close_repository(app: Any) -> None:
        repository: ShelterRepository | None = getattr(app.state, "shelters", None)
        if repository is not None:
            repository.close()
            app.state.shelters = None

    app.state.on_start.append(open_repository)
    app.state.on_stop.append(close_repository)
