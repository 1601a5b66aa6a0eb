"""
Request dependencies: the running service, the registry, and who is asking.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tryvoha.api.errors import ApiError
from tryvoha.config import Settings
from tryvoha.core.auth import Permission, TokenRecord, has_permission
from tryvoha.core.regions import RegionRegistry
from tryvoha.service import AlertService
from tryvoha.tokens import hash_token

bearer = HTTPBearer(auto_error=False, description="A token made by `tryvoha token create`")


async def get_service(request: Request) -> AlertService:
    service: AlertService = request.app.state.service
    return service


async def get_registry(request: Request) -> RegionRegistry:
    registry: RegionRegistry = request.app.state.registry
    return registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[AlertService, Depends(get_service)]
RegistryDep = Annotated[RegionRegistry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def lookup_token(service: AlertService, raw: str) -> TokenRecord:
    # Looked up on every request, so a revoked token stops working at once.
    record = service.store.find_token(hash_token(raw))
    if record is None or not record.is_active:
        raise ApiError(401, "unauthorized", "invalid or revoked token", _CHALLENGE)
    return record


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, TokenRecord]]:
    # async, so FastAPI runs it on the event loop: the lookup is an indexed read of a few
    # microseconds, cheaper than a hop to a worker thread (and its own DB connection).
    async def dependency(service: ServiceDep, credentials: Credentials) -> TokenRecord:
        if credentials is None:
            raise ApiError(401, "unauthorized", "a Bearer token is required", _CHALLENGE)
        record = lookup_token(service, credentials.credentials)
        if not has_permission(record.role, permission):
            raise ApiError(
                403, "forbidden", f"role {record.role.value!r} may not {permission.value}"
            )
        return record

    return dependency


ACCESS_TOKEN_PARAM = "access_token"
"""
RFC 6750's query parameter, for reads only: a browser's EventSource and WebSocket cannot
send an Authorization header. Access logs redact it (`api.redact`).
"""

AccessToken = Annotated[
    str | None,
    Query(
        alias=ACCESS_TOKEN_PARAM,
        max_length=512,
        description="a reader token, for clients that cannot send `Authorization`",
    ),
]


async def reader(
    service: ServiceDep,
    settings: SettingsDep,
    credentials: Credentials,
    access_token: AccessToken = None,
) -> TokenRecord | None:
    """
    Reads are public unless `TRYVOHA_PUBLIC_READ=false`; a given token (a Bearer header,
    else `?access_token=`) must be valid.
    """
    raw = credentials.credentials if credentials is not None else access_token
    if not raw:
        if settings.public_read:
            return None
        raise ApiError(401, "unauthorized", "a Bearer token is required", _CHALLENGE)
    return lookup_token(service, raw)


WriterDep = Annotated[TokenRecord, Depends(require(Permission.WRITE_ALERTS))]
ReaderDep = Annotated[TokenRecord | None, Depends(reader)]
