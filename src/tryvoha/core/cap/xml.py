"""
CAP 1.2 messages as XML documents: rendering, and parsing untrusted input back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from tryvoha.core.cap.areas import parse_polygon, polygon_text
from tryvoha.core.cap.model import (
    NS,
    Area,
    CapError,
    CapMessage,
    Category,
    Certainty,
    Info,
    MsgType,
    Pair,
    Reference,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    format_cap_time,
    parse_cap_time,
)

MAX_DOCUMENT_BYTES = 2_000_000
# XML 1.0 `Char`: anything else cannot be written, so it is dropped from free text.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, _tag(name)).text = _NOT_XML_CHAR.sub("", text)


def _add_pairs(parent: etree._Element, name: str, pairs: Sequence[Pair]) -> None:
    for value_name, value in pairs:
        element = etree.SubElement(parent, _tag(name))
        _add(element, "valueName", value_name)
        _add(element, "value", value)


def to_element(message: CapMessage) -> etree._Element:
    """*message* as an lxml `alert` element, children in the order the XSD requires."""
    root = etree.Element(_tag("alert"), nsmap={None: NS})  # type: ignore[dict-item]
    _add(root, "identifier", message.identifier)
    _add(root, "sender", message.sender)
    _add(root, "sent", format_cap_time(message.sent))
    _add(root, "status", message.status.value)
    _add(root, "msgType", message.msg_type.value)
    _add(root, "scope", message.scope.value)
    if message.references:
        _add(root, "references", " ".join(str(r) for r in message.references))
    if message.incidents:
        _add(root, "incidents", " ".join(message.incidents))
    for info in message.infos:
        _info_element(root, info)
    return root


def _info_element(root: etree._Element, info: Info) -> None:
    element = etree.SubElement(root, _tag("info"))
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category.value)
    _add(element, "event", info.event)
    for response in info.response_types:
        _add(element, "responseType", response.value)
    _add(element, "urgency", info.urgency.value)
    _add(element, "severity", info.severity.value)
    _add(element, "certainty", info.certainty.value)
    _add_pairs(element, "eventCode", info.event_codes)
    if info.onset is not None:
        _add(element, "onset", format_cap_time(info.onset))
    if info.expires is not None:
        _add(element, "expires", format_cap_time(info.expires))
    _add(element, "senderName", info.sender_name)
    _add(element, "headline", info.headline)
    _add(element, "description", info.description)
    _add(element, "instruction", info.instruction)
    _add(element, "web", info.web)
    _add(element, "contact", info.contact)
    _add_pairs(element, "parameter", info.parameters)
    for area in info.areas:
        area_element = etree.SubElement(element, _tag("area"))
        _add(area_element, "areaDesc", area.desc)
        for polygon in area.polygons:
            _add(area_element, "polygon", polygon_text(polygon))
        _add_pairs(area_element, "geocode", area.geocodes)


def render(message: CapMessage) -> bytes:
    """*message* as a UTF-8 CAP 1.2 document (unsigned)."""
    return etree.tostring(
        to_element(message), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def parse_xml(data: bytes) -> etree._Element:
    """
    Parse untrusted XML: no DTD, no entity expansion, no network, bounded size.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CapError(f"document over {MAX_DOCUMENT_BYTES} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CapError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise CapError("a DOCTYPE is not allowed in a CAP message")
    return root


def parse(data: bytes) -> CapMessage:
    """Read a CAP 1.2 message (the parts `CapMessage` holds)."""
    return from_element(parse_xml(data))


def from_element(root: etree._Element) -> CapMessage:
    if root.tag != _tag("alert"):
        raise CapError(f"the root element is {root.tag!r}, not a CAP 1.2 alert")
    references = tuple(_reference(token) for token in _words(root, "references"))
    try:
        return CapMessage(
            identifier=_required(root, "identifier"),
            sender=_required(root, "sender"),
            sent=parse_cap_time(_required(root, "sent")),
            status=Status(_required(root, "status")),
            msg_type=MsgType(_required(root, "msgType")),
            scope=Scope(_required(root, "scope")),
            references=references,
            incidents=tuple(_words(root, "incidents")),
            infos=tuple(_read_info(e) for e in root.iterfind(_tag("info"))),
        )
    except ValueError as exc:
        raise CapError(str(exc)) from None


def _text(parent: etree._Element, name: str, default: str | None = None) -> str | None:
    element = parent.find(_tag(name))
    if element is None:
        return default
    return element.text or ""


def _words(parent: etree._Element, name: str) -> list[str]:
    return (_text(parent, name) or "").split()


def _required(parent: etree._Element, name: str) -> str:
    value = _text(parent, name)
    if value is None:
        raise CapError(f"<{name}> is missing")
    return value


def _optional_time(parent: etree._Element, name: str) -> datetime | None:
    value = _text(parent, name)
    return None if value is None else parse_cap_time(value)


def _pairs(parent: etree._Element, name: str) -> tuple[Pair, ...]:
    return tuple(
        (_required(e, "valueName"), _required(e, "value")) for e in parent.iterfind(_tag(name))
    )


def _all(parent: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in parent.iterfind(_tag(name))]


def _reference(token: str) -> Reference:
    parts = token.split(",")
    if len(parts) != 3:
        raise CapError(f"a reference is sender,identifier,sent: {token!r}")
    return Reference(parts[0], parts[1], parse_cap_time(parts[2]))


def _read_info(element: etree._Element) -> Info:
    return Info(
        language=_text(element, "language") or "en-US",
        categories=tuple(Category(c) for c in _all(element, "category")),
        event=_required(element, "event"),
        response_types=tuple(ResponseType(r) for r in _all(element, "responseType")),
        urgency=Urgency(_required(element, "urgency")),
        severity=Severity(_required(element, "severity")),
        certainty=Certainty(_required(element, "certainty")),
        event_codes=_pairs(element, "eventCode"),
        onset=_optional_time(element, "onset"),
        expires=_optional_time(element, "expires"),
        sender_name=_text(element, "senderName"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        web=_text(element, "web"),
        contact=_text(element, "contact"),
        parameters=_pairs(element, "parameter"),
        areas=tuple(
            Area(
                desc=_required(area, "areaDesc"),
                polygons=tuple(parse_polygon(p) for p in _all(area, "polygon")),
                geocodes=_pairs(area, "geocode"),
            )
            for area in element.iterfind(_tag("area"))
        ),
    )
