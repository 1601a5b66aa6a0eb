"""
The CAP 1.2 message model: the elements tryvoha writes and reads, and CAP's times.

Times are written in UTC as `-00:00`, whole seconds (CAP 1.2 §3.3.2 forbids `Z`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tryvoha.core.errors import TryvohaError

NS = "urn:oasis:names:tc:emergency:cap:1.2"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
MIME_TYPE = "application/cap+xml"

_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


class CapError(TryvohaError):
    """A document that is not a CAP 1.2 message tryvoha can read, or a bad identifier."""


# -- CAP's enumerations ---------------------------------------------------------------


class Status(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class Category(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


# -- the message model ----------------------------------------------------------------

CapPolygon = tuple[tuple[float, float], ...]
"""`(lat, lon)` pairs, at least four, the first equal to the last."""
Pair = tuple[str, str]
"""A `valueName`/`value` pair of a geocode, eventCode or parameter."""


@dataclass(frozen=True, slots=True)
class Reference:
    sender: str
    identifier: str
    sent: datetime

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{format_cap_time(self.sent)}"


@dataclass(frozen=True, slots=True)
class Area:
    desc: str
    polygons: tuple[CapPolygon, ...] = ()
    geocodes: tuple[Pair, ...] = ()


@dataclass(frozen=True, slots=True)
class Info:
    language: str
    categories: tuple[Category, ...]
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    response_types: tuple[ResponseType, ...] = ()
    event_codes: tuple[Pair, ...] = ()
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[Pair, ...] = ()
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True, slots=True)
class CapMessage:
    """
    The part of CAP 1.2 tryvoha writes; `parse` reads it back (other elements are skipped).
    """

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    references: tuple[Reference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[Info, ...] = ()

    def reference(self) -> Reference:
        """How later messages refer to this one."""
        return Reference(self.sender, self.identifier, self.sent)


# -- times ----------------------------------------------------------------------------


def cap_time(value: datetime) -> datetime:
    """*value* in UTC, cut to whole seconds: the precision CAP times carry."""
    return value.astimezone(UTC).replace(microsecond=0)


def format_cap_time(value: datetime) -> str:
    return cap_time(value).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def parse_cap_time(text: str) -> datetime:
    if not _TIME.match(text):
        raise CapError(f"not a CAP time (YYYY-MM-DDThh:mm:ss±hh:mm): {text!r}")
    return datetime.fromisoformat(text).astimezone(UTC)
