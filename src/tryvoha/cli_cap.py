"""
`tryvoha cap verify FILE`: is this a sound, signed CAP 1.2 message?

It validates against the bundled OASIS schema (and Google's stricter one), runs the
checklist of docs/cap.md that one message can be judged by, and verifies the signature.
Problems are errors (the message breaks CAP 1.2) or warnings (it breaks a profile's advice).
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from lxml import etree
from shapely.geometry import Polygon

from tryvoha.cap_signing import (
    GOOGLE_SCHEMA,
    OASIS_SCHEMA,
    SignatureCheck,
    schema_problems,
    verify_signature,
)
from tryvoha.core.cap import (
    DSIG_NS,
    MAX_HEADLINE,
    NS,
    CapError,
    Category,
    Certainty,
    MsgType,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    parse_cap_time,
    parse_xml,
)

ERROR, WARNING = "error", "warning"

ITEMS = {
    1: "a UTF-8 CAP 1.2 alert, valid against the schemas",
    2: "identifier and sender",
    3: "time format",
    4: "enumerated values",
    5: "scope, restriction and addresses",
    6: "references",
    7: "info blocks and their fields",
    8: "languages, shared category and eventCode",
    9: "effective, sent and expires in order",
    10: "areas, polygons, circles, altitude",
    11: "valueName/value pairs",
    12: "resources",
    13: "web link and free text",
    14: "signature placement",
}

_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
_REFERENCE = re.compile(rf"^[^\s,]+,[^\s,]+,{_TIME}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_SHA1 = re.compile(r"^[0-9A-Fa-f]{40}$")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
_FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")
_ENUMS: dict[str, frozenset[str]] = {
    "status": frozenset(Status),
    "msgType": frozenset(MsgType),
    "scope": frozenset(Scope),
    "category": frozenset(Category),
    "responseType": frozenset(ResponseType),
    "urgency": frozenset(Urgency),
    "severity": frozenset(Severity),
    "certainty": frozenset(Certainty),
}
_FREE_TEXT = ("headline", "description", "instruction")


@dataclass(frozen=True, slots=True)
class Problem:
    item: int
    severity: str
    text: str


def _cap(name: str) -> str:
    return f"{{{NS}}}{name}"


def _texts(parent: etree._Element, name: str) -> list[str]:
    return [(e.text or "").strip() for e in parent.iterfind(_cap(name))]


def _text(parent: etree._Element, name: str) -> str | None:
    found = parent.find(_cap(name))
    return None if found is None else (found.text or "").strip()


def check_message(document: bytes) -> list[Problem]:
    """Every checklist problem of *document*, in checklist order."""
    try:
        document.decode("utf-8")
        root = parse_xml(document)
    except (UnicodeDecodeError, CapError) as exc:
        return [Problem(1, ERROR, f"not a readable UTF-8 XML document: {exc}")]
    if root.tag != _cap("alert"):
        return [Problem(1, ERROR, f"the root element is {root.tag}, not a CAP 1.2 alert")]
    problems = list(_schemas(root))
    for check in (_ids, _times, _enums, _scope, _references, _infos, _languages):
        problems.extend(check(root))
    for check in (_order, _areas, _pairs, _resources, _text_and_web, _signature):
        problems.extend(check(root))
    return sorted(problems, key=lambda p: p.item)


def _schemas(root: etree._Element) -> Iterator[Problem]:
    encoding = root.getroottree().docinfo.encoding
    if encoding and encoding.upper().replace("_", "-") != "UTF-8":
        yield Problem(1, ERROR, f"declared encoding is {encoding}, not UTF-8")
    for problem in schema_problems(root, OASIS_SCHEMA)[:5]:
        yield Problem(1, ERROR, f"{OASIS_SCHEMA}: {problem}")
    for problem in schema_problems(root, GOOGLE_SCHEMA)[:5]:
        yield Problem(1, WARNING, f"{GOOGLE_SCHEMA}: {problem}")


def _ids(root: etree._Element) -> Iterator[Problem]:
    for name in ("identifier", "sender"):
        value = _text(root, name) or ""
        if not value or _FORBIDDEN_IN_ID.search(value):
            yield Problem(2, ERROR, f"{name} {value!r} is empty or holds whitespace , < or &")


def _times(root: etree._Element) -> Iterator[Problem]:
    names = ("sent", "effective", "onset", "expires")
    for element in root.iter(*(_cap(n) for n in names)):
        try:
            parse_cap_time((element.text or "").strip())
        except (CapError, ValueError):
            name = etree.QName(element).localname
            yield Problem(3, ERROR, f"{name} {element.text!r} is not YYYY-MM-DDThh:mm:ss±hh:mm")


def _enums(root: etree._Element) -> Iterator[Problem]:
    for name, allowed in _ENUMS.items():
        for element in root.iter(_cap(name)):
            if element.text not in allowed:
                yield Problem(4, ERROR, f"{name} {element.text!r} is not one of CAP's values")


def _scope(root: etree._Element) -> Iterator[Problem]:
    scope = _text(root, "scope")
    restriction = root.find(_cap("restriction")) is not None
    if (scope == Scope.RESTRICTED) != restriction:
        yield Problem(5, ERROR, "restriction goes with scope Restricted, and only with it")
    if scope == Scope.PRIVATE and root.find(_cap("addresses")) is None:
        yield Problem(5, ERROR, "scope Private needs addresses")


def _time_or_none(text: str | None) -> datetime | None:
    try:
        return None if text is None else parse_cap_time(text)
    except CapError:
        return None


def _references(root: etree._Element) -> Iterator[Problem]:
    tokens = (_text(root, "references") or "").split()
    identifier, sent = _text(root, "identifier"), _time_or_none(_text(root, "sent"))
    if _text(root, "msgType") in (MsgType.UPDATE, MsgType.CANCEL) and not tokens:
        yield Problem(6, WARNING, "an Update or Cancel should list the messages it replaces")
    for token in tokens:
        if not _REFERENCE.match(token):
            yield Problem(6, ERROR, f"reference {token!r} is not sender,identifier,sent")
            continue
        _sender, ref_id, ref_sent = token.split(",")
        if ref_id == identifier:
            yield Problem(6, ERROR, "the message refers to itself")
        referred = _time_or_none(ref_sent)
        if referred is not None and sent is not None and referred > sent:
            yield Problem(6, WARNING, f"reference {ref_id} was sent after this message")


def _infos(root: etree._Element) -> Iterator[Problem]:
    infos = list(root.iterfind(_cap("info")))
    msg_type, status = _text(root, "msgType"), _text(root, "status")
    if not infos and msg_type in (MsgType.ALERT, MsgType.UPDATE) and status == Status.ACTUAL:
        yield Problem(7, WARNING, f"an actual {msg_type} should carry an info block")
    for number, info in enumerate(infos, 1):
        for name in ("category", "event", "urgency", "severity", "certainty"):
            if info.find(_cap(name)) is None:
                yield Problem(7, ERROR, f"info {number} has no {name}")
        wanted = ("expires", "description", "area", "senderName", "headline", "instruction")
        for name in (*wanted, "web", "contact"):
            if info.find(_cap(name)) is None:
                yield Problem(7, WARNING, f"info {number} has no {name}")
        headline = _text(info, "headline") or ""
        if len(headline) > MAX_HEADLINE:
            yield Problem(7, WARNING, f"info {number}: headline over {MAX_HEADLINE} characters")


def _languages(root: etree._Element) -> Iterator[Problem]:
    infos = list(root.iterfind(_cap("info")))
    languages = [_text(info, "language") or "en-US" for info in infos]
    for language in languages:
        if not _LANGUAGE.match(language):
            yield Problem(8, ERROR, f"language {language!r} is not an RFC 3066 tag")
    if len(set(languages)) < len(languages):
        yield Problem(8, WARNING, "several info blocks share a language")
    categories = {frozenset(_texts(info, "category")) for info in infos}
    codes = {frozenset(_pair_texts(info, "eventCode")) for info in infos}
    if len(categories) > 1 or len(codes) > 1:
        yield Problem(8, WARNING, "info blocks differ in category or eventCode")
    for name in _FREE_TEXT:
        values = [_text(info, name) for info in infos]
        present = [v for v in values if v]
        if len(set(present)) < len(present) and len(set(languages)) > 1:
            yield Problem(8, WARNING, f"the same {name} appears under different languages")


def _order(root: etree._Element) -> Iterator[Problem]:
    sent = _time_or_none(_text(root, "sent"))
    for number, info in enumerate(root.iterfind(_cap("info")), 1):
        expires = _time_or_none(_text(info, "expires"))
        if expires is None:
            continue
        for name, value in (("sent", sent), ("effective", _time_or_none(_text(info, "effective")))):
            if value is not None and value > expires:
                yield Problem(9, WARNING, f"info {number}: {name} is later than expires")


def _areas(root: etree._Element) -> Iterator[Problem]:
    for area in root.iter(_cap("area")):
        desc = _text(area, "areaDesc") or "(no areaDesc)"
        shapes = [area.find(_cap(n)) for n in ("polygon", "circle", "geocode")]
        if all(shape is None for shape in shapes):
            yield Problem(10, WARNING, f"area {desc!r} has no polygon, circle or geocode")
        for polygon in _texts(area, "polygon"):
            problem = polygon_problem(polygon)
            if problem:
                yield Problem(10, ERROR, f"area {desc!r}: {problem}")
        for circle in _texts(area, "circle"):
            found = re.fullmatch(r"(\S+),(\S+)\s+(\S+)", circle)
            if found is None or not _number(found[3]) or float(found[3]) <= 0:
                yield Problem(10, WARNING, f"area {desc!r}: circle {circle!r} has no radius > 0")
        altitude, ceiling = _text(area, "altitude"), _text(area, "ceiling")
        if ceiling is not None and altitude is None:
            yield Problem(10, ERROR, f"area {desc!r}: ceiling without altitude")
        numbers = bool(altitude and ceiling and _number(altitude) and _number(ceiling))
        if numbers and float(altitude or 0) > float(ceiling or 0):
            yield Problem(10, ERROR, f"area {desc!r}: altitude above ceiling")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def polygon_problem(text: str) -> str | None:
    """Why *text* is not a CAP polygon (≥4 points, closed, in range, simple), or None."""
    points: list[tuple[float, float]] = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        if not (_number(lat) and _number(lon)):
            return f"{pair!r} is not a lat,lon pair"
        points.append((float(lat), float(lon)))
    if len(points) < 4:
        return "a polygon needs at least 4 points"
    if points[0] != points[-1]:
        return "the polygon is not closed (first point differs from last)"
    if any(not (-90 <= lat <= 90 and -180 <= lon <= 180) for lat, lon in points):
        return "a point lies outside lat [-90, 90] or lon [-180, 180]"
    if not Polygon([(lon, lat) for lat, lon in points]).is_valid:
        return "the polygon's edges intersect"
    return None


def _pair_texts(parent: etree._Element, name: str) -> list[tuple[str, str]]:
    return [
        (_text(e, "valueName") or "", _text(e, "value") or "") for e in parent.iterfind(_cap(name))
    ]


def _pairs(root: etree._Element) -> Iterator[Problem]:
    for info in root.iterfind(_cap("info")):
        pairs = {n: _pair_texts(info, n) for n in ("eventCode", "parameter")}
        pairs["geocode"] = [
            p for a in info.iterfind(_cap("area")) for p in _pair_texts(a, "geocode")
        ]
        for name, found in pairs.items():
            if any(not value_name or not value for value_name, value in found):
                yield Problem(11, WARNING, f"a {name} has an empty valueName or value")


def _resources(root: etree._Element) -> Iterator[Problem]:
    for resource in root.iter(_cap("resource")):
        desc = _text(resource, "resourceDesc")
        if not desc:
            yield Problem(12, ERROR, "a resource has no resourceDesc")
        if not _MIME.match(_text(resource, "mimeType") or ""):
            yield Problem(12, ERROR, f"resource {desc!r}: mimeType is not type/subtype")
        uri, deref = _text(resource, "uri"), _text(resource, "derefUri")
        if uri and not _is_absolute(uri) and deref is None:
            yield Problem(12, ERROR, f"resource {desc!r}: relative uri without derefUri")
        if deref is not None and not _is_base64(deref):
            yield Problem(12, ERROR, f"resource {desc!r}: derefUri is not base64")
        size = _text(resource, "size")
        if size is not None and not size.isdigit():
            yield Problem(12, ERROR, f"resource {desc!r}: size is not an integer")
        digest = _text(resource, "digest")
        if digest is not None and not _SHA1.match(digest):
            yield Problem(12, ERROR, f"resource {desc!r}: digest is not a SHA-1 hex digest")


def _is_absolute(uri: str) -> bool:
    parts = urlsplit(uri)
    return bool(parts.scheme and (parts.netloc or parts.scheme in ("urn", "mailto", "tel")))


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _text_and_web(root: etree._Element) -> Iterator[Problem]:
    for info in root.iterfind(_cap("info")):
        web = _text(info, "web")
        if web is not None and not _is_absolute(web):
            yield Problem(13, ERROR, f"web {web!r} is not an absolute URI")
        for name in _FREE_TEXT:
            if _MARKUP.search(_text(info, name) or ""):
                yield Problem(13, WARNING, f"{name} holds HTML tags or entities")


def _signature(root: etree._Element) -> Iterator[Problem]:
    signatures = root.findall(f"{{{DSIG_NS}}}Signature")
    if not signatures:
        return
    if len(signatures) > 1:
        yield Problem(14, ERROR, "more than one ds:Signature")
    if root[-1] is not signatures[-1]:
        yield Problem(14, ERROR, "ds:Signature is not the last child of alert")
    references = signatures[0].findall(f".//{{{DSIG_NS}}}Reference")
    transforms = [t.get("Algorithm") for t in signatures[0].iter(f"{{{DSIG_NS}}}Transform")]
    enveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    if len(references) != 1 or references[0].get("URI") != "" or enveloped not in transforms:
        yield Problem(14, ERROR, 'not an enveloped signature (one Reference URI="" + transform)')


# -- the command ----------------------------------------------------------------------


def describe_signature(check: SignatureCheck) -> str:
    if not check.signed:
        return "signature: none"
    if not check.valid:
        return f"signature: INVALID: {check.problem}"
    if check.trusted:
        return (
            f"signature: valid ({check.algorithm}), signed by the given certificate {check.subject}"
        )
    kind = "self-signed" if check.self_signed else "not checked against any trusted authority"
    return (
        f"signature: valid ({check.algorithm}) with the certificate it carries, {check.subject}"
        f" ({kind}): the message is intact, but pass --cert to check who signed it"
    )


def register(app: typer.Typer) -> None:
    """Add `tryvoha cap ...` to the CLI."""
    cap_app = typer.Typer(help="Check CAP 1.2 messages.", no_args_is_help=True)
    app.add_typer(cap_app, name="cap")
    cap_app.command("verify")(verify)


def verify(
    file: Annotated[Path, typer.Argument(help="A CAP 1.2 XML file ('-' for stdin).")],
    cert: Annotated[
        Path | None, typer.Option(help="PEM certificate the signature must verify against.")
    ] = None,
    require_signature: Annotated[
        bool, typer.Option("--require-signature", help="Fail when the message is unsigned.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    at_sent: Annotated[
        bool,
        typer.Option(
            "--at-sent", help="Check the certificate's validity when the message was sent."
        ),
    ] = False,
) -> None:
    """Validate a CAP 1.2 message, run the docs/cap.md checklist and verify its signature."""
    from tryvoha.cli import fail

    document = _read(file)
    cert_pem = _read(cert) if cert is not None else None
    problems = check_message(document)
    for item, title in ITEMS.items():
        found = [p for p in problems if p.item == item]
        if not found:
            print(f"pass  {item:>2}  {title}")
        for problem in found:
            label = "FAIL" if problem.severity == ERROR else "warn"
            print(f"{label}  {item:>2}  {title}: {problem.text}")
    at = _sent_time(document) if at_sent else None
    signature = verify_signature(document, cert_pem, at)
    print(describe_signature(signature))
    failures = [p for p in problems if p.severity == ERROR or strict]
    if failures:
        fail(f"{file}: checklist item {failures[0].item}: {failures[0].text}")
    if signature.signed and not signature.valid:
        fail(f"{file}: the signature does not verify: {signature.problem}")
    if require_signature and not signature.signed:
        fail(f"{file}: the message is not signed")
    if cert is not None and not signature.signed:
        fail(f"{file}: a certificate was given but the message is not signed")


def _read(path: Path) -> bytes:
    from tryvoha.cli import fail

    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def _sent_time(document: bytes) -> datetime | None:
    try:
        return parse_cap_time(_text(parse_xml(document), "sent") or "")
    except CapError:
        return None
