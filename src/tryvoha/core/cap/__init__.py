"""
CAP 1.2 (OASIS Common Alerting Protocol): tryvoha's alerts as CAP messages, and back.

Every event of the log becomes one message about one region: a raise is an `Alert`, a
change an `Update`, a lift a `Cancel` carrying an all-clear `info`. Renewals are not
stored: a message is a pure function of the events of its alert up to the one it states
(and of the renewal number), so any message ever issued can be rebuilt from the log.

- `model`: the message model (`CapMessage`, `Info`, `Area`, CAP's enumerations) and times.
- `chain`: the messages of one alert: issues, renewals, references, identifiers.
- `areas`: where a message applies, and region boundaries as CAP polygons.
- `wording`: what a message says, in Ukrainian and English.
- `build`: from events to a message.
- `xml`: messages as XML documents, rendered and parsed.

Signing and schema validation read files and keys, so they live in `tryvoha.cap_signing`.
"""

from __future__ import annotations

from tryvoha.core.cap.areas import MAX_AREA_POINTS, Place, cap_polygons, place_of
from tryvoha.core.cap.build import Publisher, build_message
from tryvoha.core.cap.chain import (
    ALL_CLEAR_LIFETIME,
    LIFETIME,
    RENEW_EVERY,
    Issue,
    check_chain,
    current_issue,
    earlier_issues,
    is_issued,
    parse_identifier,
)
from tryvoha.core.cap.model import (
    DSIG_NS,
    MIME_TYPE,
    NS,
    Area,
    CapError,
    CapMessage,
    CapPolygon,
    Category,
    Certainty,
    Info,
    MsgType,
    Reference,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    parse_cap_time,
)
from tryvoha.core.cap.wording import MAX_HEADLINE
from tryvoha.core.cap.xml import parse, parse_xml, render

__all__ = [
    "ALL_CLEAR_LIFETIME",
    "DSIG_NS",
    "LIFETIME",
    "MAX_AREA_POINTS",
    "MAX_HEADLINE",
    "MIME_TYPE",
    "NS",
    "RENEW_EVERY",
    "Area",
    "CapError",
    "CapMessage",
    "CapPolygon",
    "Category",
    "Certainty",
    "Info",
    "Issue",
    "MsgType",
    "Place",
    "Publisher",
    "Reference",
    "ResponseType",
    "Scope",
    "Severity",
    "Status",
    "Urgency",
    "build_message",
    "cap_polygons",
    "check_chain",
    "current_issue",
    "earlier_issues",
    "is_issued",
    "parse",
    "parse_cap_time",
    "parse_identifier",
    "parse_xml",
    "place_of",
    "render",
]
