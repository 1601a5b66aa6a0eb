"""
Reaching the real backends: required in CI, skipped with a reason elsewhere.
"""

from __future__ import annotations

import os
import socket

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, host: str, port: int) -> None:
    """
    Fail (in CI) or skip (elsewhere) unless something listens at host:port.
    """
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable at {host}:{port} ({exc})"
        if in_ci():
            pytest.fail(f"{message}; CI requires it")
        pytest.skip(message)
