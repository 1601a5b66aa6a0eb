"""
Reaching the real backends: required in CI, skipped with a reason elsewhere.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

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


SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
"""The public reference data, laid beside the repository on development machines and in CI."""


def require_shared_file(path: Path) -> Path:
    """
    *path* of the shared reference data; missing, it fails in CI and skips elsewhere.
    """
    if not path.is_file():
        message = f"{path} is absent: the real datasets are read from ../shared/data"
        if in_ci():
            pytest.fail(f"{message}; CI has them")
        pytest.skip(message)
    return path
