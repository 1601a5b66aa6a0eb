"""
`GET /api/time`: the server's clock, which the page shows every duration against.

It is not always the wall clock: `tryvoha demo` runs the night of 3–4 July 2025 on a clock
that starts at the night and runs faster than real time. The page samples this now and then
and follows the server's time at the rate it observes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep
from tryvoha.api.errors import error_responses
from tryvoha.core.codec import format_time
from tryvoha.service import utc_now

router = APIRouter(tags=["map"])


class TimeOut(BaseModel):
    now: str


@router.get("/api/time", response_model=TimeOut, responses=error_responses(401))
def server_time(request: Request, _reader: ReaderDep) -> Response:
    """
    The time on the server's clock, the one its events are stamped with.
    """
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    body = orjson.dumps({"now": format_time(clock())})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})
