"""
Property-based API testing from our own OpenAPI description: no 5xx, no answer that
breaks the schema, no undocumented status code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.regions_io import load_bundled
from tryvoha.storage.memory import MemoryStore
from tryvoha.tokens import create_token

if TYPE_CHECKING:
    # schemathesis names the case of an OpenAPI schema only for type checkers.
    from schemathesis.specs.openapi.schemas import OpenApiCase

store = MemoryStore()
ADMIN = create_token(store, name="schemathesis", role=Role.ADMIN)
app = create_app(Settings(), store=store, bus=MemoryBus(), registry=load_bundled())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@schema.exclude(path_regex="^/api/(stream|ws)").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: OpenApiCase) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=CHECKS)
