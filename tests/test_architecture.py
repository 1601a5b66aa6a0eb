"""
The core stays pure: no I/O, clocks, randomness or frameworks imported under tryvoha.core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "src" / "tryvoha" / "core"
DENIED = {
    "asyncio",
    "socket",
    "subprocess",
    "random",
    "time",
    "os",
    "io",
    "pathlib",
    "sqlite3",
    "sqlalchemy",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "nats",
    "aiomqtt",
    "requests",
    "threading",
    "urllib",
    "http",
    "tryvoha.storage",
    "tryvoha.bus",
    "tryvoha.api",
    "tryvoha.service",
    "tryvoha.config",
    "tryvoha.delivery",
    "tryvoha.cli",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_is_pure(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        if any(name == denied or name.startswith(denied + ".") for denied in DENIED)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_async_in_core() -> None:
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not any(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(tree)), path
