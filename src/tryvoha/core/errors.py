"""
Errors raised by the core, each naming what was wrong.

    TryvohaError
    ├── UnknownRegion          an id or name that is not in the registry
    ├── UnknownAlertType       a type that is not one of AlertType
    ├── InvalidCommand         a command that cannot be applied as a whole
    ├── InvalidTransition      an illegal move of the alert state machine
    └── RegionImportError      a GeoJSON file that cannot become regions

The HTTP layer maps them to 4xx JSON answers; the CLI prints the message on one line.
"""

from __future__ import annotations


class TryvohaError(Exception):
    """
    Base class of every error the core raises on purpose.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownRegion(TryvohaError):
    def __init__(self, region_id: str) -> None:
        super().__init__(f"unknown region: {region_id!r}")
        self.region_id = region_id


class UnknownAlertType(TryvohaError):
    def __init__(self, value: str) -> None:
        super().__init__(f"unknown alert type: {value!r}")
        self.value = value


class InvalidCommand(TryvohaError):
    pass


class InvalidTransition(TryvohaError):
    pass


class RegionImportError(TryvohaError):
    pass
