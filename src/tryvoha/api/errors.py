"""
Every error leaves the API as JSON: `{"error": <code>, "message": <what was wrong>}`.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tryvoha.core.errors import (
    InvalidCommand,
    TryvohaError,
    UnknownAlertType,
    UnknownRegion,
)
from tryvoha.service import IdempotencyMismatch, ServiceUnavailable


class ErrorBody(BaseModel):
    error: str
    message: str


class ApiError(Exception):
    def __init__(
        self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error": code, "message": message}),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer."""
    # A 304 has no body, so it gets a description and no model.
    return {
        code: {"description": _DESCRIPTIONS[code]}
        if code == 304
        else {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in codes
    }


_DESCRIPTIONS = {
    304: "Not modified",
    400: "Bad request",
    401: "Missing or invalid token",
    403: "The token may not do this here",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "The request names something unknown or is malformed",
    429: "Too many requests",
    503: "Temporarily unavailable",
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status_code, exc.code, exc.message, exc.headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such resource: {request.url.path}"
        if exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _describe_validation(exc))

    async def on_core(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TryvohaError)
        code = {
            UnknownRegion: "unknown_region",
            UnknownAlertType: "unknown_type",
            InvalidCommand: "invalid_command",
            IdempotencyMismatch: "idempotency_key_reused",
        }.get(type(exc), "invalid_request")
        return error_response(422, code, exc.message)

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        return error_response(503, "unavailable", str(exc), {"Retry-After": "1"})

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(TryvohaError, on_core)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
