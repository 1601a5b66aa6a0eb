"""
CAP 1.2 over HTTP: `GET /cap/feed.atom`, an Atom index of the messages in force, and
`GET /cap/alerts/{identifier}.xml`, any message ever issued.

Nothing CAP-specific is stored. A message is rebuilt from the events of its alert (see
`tryvoha.core.cap`), signed when a key is configured, and kept in a small LRU cache. The
alerts the feed lists (those in force, and those lifted less than an hour ago, whose
`Cancel` is still in force) are followed in memory from the service's events.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from lxml import etree
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.api.middleware import etag_matches
from tryvoha.cap_signing import CapSigner, SigningSetupError, load_signer
from tryvoha.core.cap import (
    ALL_CLEAR_LIFETIME,
    MIME_TYPE,
    CapMessage,
    Issue,
    Place,
    Publisher,
    build_message,
    current_issue,
    is_issued,
    parse_identifier,
    place_of,
    render,
)
from tryvoha.core.model import Event, EventKind
from tryvoha.core.regions import RegionRegistry
from tryvoha.service import AlertService, utc_now
from tryvoha.storage.base import HistoryQuery

ATOM_MEDIA = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
MESSAGE_CACHE_SIZE = 1024
FEEDS_KEPT = 8
SCAN_PAGE = 5000
SETTLE = timedelta(seconds=5)

router = APIRouter(tags=["CAP 1.2"])


# -- following the chains of recent alerts ------------------------------------------------


class AlertChains:
    """
    The events of every alert in force or lifted recently, keyed by alert id.

    Events after it is made come from the service's listener; the start of the chains of
    alerts already in force then (or lifted within the hour) is read from the log once,
    on first use.
    """

    def __init__(self, service: AlertService) -> None:
        self._service = service
        self._chains: dict[int, list[Event]] = {}
        self._lifted: deque[int] = deque()
        """Ids of the lifted alerts still kept, in the order of their lifts."""
        self._since = service.last_seq
        self._backfill_ids = {alert.id for alert in service.active}
        self._loaded = False
        self._lock = asyncio.Lock()
        self._scans = asyncio.Semaphore(1)
        self.last_drop: datetime | None = None
        service.add_listener(self._on_events)

    def _on_events(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.seq > self._since:
                self._chains.setdefault(event.alert.id, []).append(event)
                if event.kind is EventKind.LIFTED:
                    self._lifted.append(event.alert.id)
        if events:
            self._forget(events[-1].at - SETTLE)

    def _forget(self, now: datetime) -> None:
        """Drop the chains whose `Cancel` is no longer in force (lifts come in time order)."""
        while self._lifted:
            chain = self._chains.get(self._lifted[0])
            if chain is not None:
                expires = Issue(chain[-1]).expires
                if expires > now:
                    return
                del self._chains[chain[0].alert.id]
                self.last_drop = max(self.last_drop or expires, expires)
            self._lifted.popleft()

    async def ready(self, now: datetime) -> None:
        async with self._lock:
            if self._loaded:
                return
            since = now - ALL_CLEAR_LIFETIME
            recent = await self._service.history(HistoryQuery(since=since, limit=100_000))
            wanted = self._backfill_ids | {a.id for a in recent if a.id <= self._since}
            if wanted:
                head = await self._scan(min(wanted), self._since, wanted)
                for alert_id, events in head.items():
                    self._chains[alert_id] = events + self._chains.get(alert_id, [])
                earlier = sorted(
                    (c[-1].seq, alert_id)
                    for alert_id, c in head.items()
                    if c[-1].kind is EventKind.LIFTED and c[-1].seq <= self._since
                )
                self._lifted.extendleft(alert_id for _seq, alert_id in reversed(earlier))
            self._loaded = True

    async def _scan(self, first: int, last: int, wanted: set[int]) -> dict[int, list[Event]]:
        found: dict[int, list[Event]] = {}
        after = first - 1
        while after < last:
            page = await self._service.read_events(after, min(SCAN_PAGE, last - after))
            if not page:
                break
            for event in page:
                if event.alert.id in wanted:
                    found.setdefault(event.alert.id, []).append(event)
            after = page[-1].seq
        return found

    def recent(self, now: datetime) -> list[list[Event]]:
        """The chains whose newest message is in force: alerts in force, recent lifts."""
        self._forget(now)
        # A chain whose head is not read yet is never shown half.
        return [chain for alert_id, chain in self._chains.items() if chain[0].seq == alert_id]

    async def chain_through(self, seq: int, until: datetime | None) -> list[Event]:
        """
        The chain of the alert of event *seq*: all its events up to *seq*, and later ones
        at or before *until* (when given). Empty when no such event exists.
        """
        for chain in self._chains.values():
            if chain[0].seq == chain[0].alert.id and any(e.seq == seq for e in chain):
                return list(chain)
        async with self._scans:
            page = await self._service.read_events(seq - 1, 1)
            if not page or page[0].seq != seq:
                return []
            alert_id = page[0].alert.id
            found: list[Event] = []
            after = alert_id - 1
            while True:
                page = await self._service.read_events(after, SCAN_PAGE)
                for event in page:
                    if event.seq > seq and (until is None or event.at > until):
                        return found
                    if event.alert.id == alert_id:
                        found.append(event)
                        if event.kind is EventKind.LIFTED:
                            return found
                if not page:
                    return found
                after = page[-1].seq


# -- messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    modified: datetime


def _rendered(body: bytes, modified: datetime) -> Rendered:
    return Rendered(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"', modified)


class CapArchive:
    """
    Everything the CAP routes share: the chains, the signer, and caches of rendered
    messages and of region polygons.
    """

    def __init__(
        self,
        service: AlertService,
        registry: RegionRegistry,
        signer: CapSigner | None,
        public_url: str | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.service = service
        self.registry = registry
        self.signer = signer
        self.public_url = public_url.rstrip("/") if public_url else None
        self.clock = clock
        self.chains = AlertChains(service)
        self._messages: OrderedDict[tuple[str, str], Rendered] = OrderedDict()
        self._places: dict[str, Place] = {}
        self._feeds: dict[str, tuple[tuple[str, ...], Rendered]] = {}
        self.started_at = clock()

    def now(self) -> datetime:
        """
        The moment up to which the log counts as settled: a renewal is issued only when no
        event that precedes it can still be on its way (being committed, or on the bus).
        """
        value: datetime = self.clock()
        return value - SETTLE

    def publisher(self, request: Request) -> Publisher:
        base = self.public_url or str(request.base_url).rstrip("/")
        return Publisher(sender=urlsplit(base).hostname or "localhost", base_url=base)

    def place(self, region_id: str) -> Place:
        found = self._places.get(region_id)
        if found is None:
            found = self._places[region_id] = place_of(self.registry, region_id)
        return found

    def headlines(self, chain: Sequence[Event], issue: Issue, publisher: Publisher) -> CapMessage:
        place = place_of(self.registry, issue.event.region_id, with_polygons=False)
        return build_message(chain, issue, place, publisher)

    async def message(self, identifier: str, publisher: Publisher) -> Rendered | None:
        key = (publisher.base_url, identifier)
        cached = self._messages.get(key)
        if cached is not None:
            self._messages.move_to_end(key)
            return cached
        wanted = parse_identifier(publisher.sender, identifier)
        if wanted is None:
            return None
        now = self.now()
        chain = await self.chains.chain_through(wanted.seq, None)
        event = next((e for e in chain if e.seq == wanted.seq), None)
        if event is None:
            return None
        issue = Issue(event, wanted.renewal)
        if issue.renewal:
            chain = await self.chains.chain_through(wanted.seq, min(issue.at, now))
        if not is_issued(chain, issue, now) or issue.identifier(publisher.sender) != identifier:
            return None
        rendered = await asyncio.to_thread(self._render, chain, issue, publisher)
        self._messages[key] = rendered
        if len(self._messages) > MESSAGE_CACHE_SIZE:
            self._messages.popitem(last=False)
        return rendered

    def _render(self, chain: Sequence[Event], issue: Issue, publisher: Publisher) -> Rendered:
        message = build_message(chain, issue, self.place(issue.event.region_id), publisher)
        body = render(message)
        if self.signer is not None:
            body = self.signer.sign(body)
        return _rendered(body, message.sent)

    async def feed(self, publisher: Publisher) -> Rendered:
        now = self.now()
        await self.chains.ready(now)
        entries = [(chain, current_issue(chain, now)) for chain in self.chains.recent(now)]
        entries.sort(key=lambda entry: (entry[1].at, entry[1].event.seq), reverse=True)
        names = tuple(issue.identifier(publisher.sender) for _chain, issue in entries)
        updated = self._changed(entries)
        cached = self._feeds.get(publisher.base_url)
        if cached is not None and cached[0] == names and cached[1].modified == updated:
            return cached[1]
        messages = [self.headlines(chain, issue, publisher) for chain, issue in entries]
        rendered = _rendered(atom_feed(messages, publisher, updated), updated)
        if len(self._feeds) >= FEEDS_KEPT:
            self._feeds.clear()  # one per base URL; many only when Host headers vary
        self._feeds[publisher.base_url] = (names, rendered)
        return rendered

    def _changed(self, entries: Sequence[tuple[Sequence[Event], Issue]]) -> datetime:
        moments = [issue.sent for _chain, issue in entries]
        if self.chains.last_drop is not None:
            moments.append(self.chains.last_drop)
        return max(moments, default=self.started_at.astimezone(UTC).replace(microsecond=0))


# -- the Atom index ---------------------------------------------------------------------


def _atom(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> None:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
    if text is not None:
        element.text = text


def _atom_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_url(publisher: Publisher, identifier: str) -> str:
    return f"{publisher.base_url}/cap/alerts/{identifier}.xml"


def atom_feed(messages: Sequence[CapMessage], publisher: Publisher, updated: datetime) -> bytes:
    """
    An Atom (RFC 4287) index: one entry per message, linking to it as `application/cap+xml`.
    """
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    self_url = f"{publisher.base_url}/cap/feed.atom"
    _atom(feed, "id", self_url)
    _atom(feed, "title", f"tryvoha: alerts in force, {publisher.sender}")
    _atom(feed, "updated", _atom_time(updated))
    author = etree.SubElement(feed, f"{{{ATOM_NS}}}author")
    _atom(author, "name", f"tryvoha alert server, {publisher.sender}")
    _atom(author, "uri", f"{publisher.base_url}/")
    _atom(feed, "link", rel="self", type=ATOM_MEDIA, href=self_url)
    for message in messages:
        uk, en = message.infos[0], message.infos[-1]
        url = message_url(publisher, message.identifier)
        entry = etree.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _atom(entry, "id", url)
        _atom(entry, "title", uk.headline)
        _atom(entry, "updated", _atom_time(message.sent))
        _atom(entry, "summary", en.headline)
        _atom(entry, "link", rel="alternate", type=MIME_TYPE, href=url)
    body: bytes = etree.tostring(feed, xml_declaration=True, encoding="UTF-8")
    return body


# -- HTTP -------------------------------------------------------------------------------


def _archive(request: Request) -> CapArchive:
    archive: CapArchive | None = getattr(request.app.state, "cap", None)
    if archive is None:
        raise ApiError(503, "unavailable", "the CAP feed is not running yet")
    return archive


def _answer(request: Request, rendered: Rendered, media_type: str, cache: str) -> Response:
    headers = {
        "ETag": rendered.etag,
        "Last-Modified": format_datetime(rendered.modified.astimezone(UTC), usegmt=True),
        "Cache-Control": cache,
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if etag_matches(if_none_match, rendered.etag):
            return Response(status_code=304, headers=headers)
    elif _not_modified_since(request.headers.get("if-modified-since"), rendered.modified):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=media_type, headers=headers)


def _not_modified_since(header: str | None, modified: datetime) -> bool:
    if header is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return modified.replace(microsecond=0) <= since


_FEED_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {ATOM_MEDIA: {}}, "description": "The Atom index"}
}
_MESSAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {MIME_TYPE: {}}, "description": "A CAP 1.2 message"}
}


@router.get(
    "/cap/feed.atom",
    response_class=Response,
    responses={**_FEED_DOC, **error_responses(304, 401)},
)
async def cap_feed(request: Request, _reader: ReaderDep) -> Response:
    """
    An Atom index of the CAP messages in force: the newest message of every alert in force,
    and for an hour after a lift its `Cancel`. Each entry links to the message.
    """
    archive = _archive(request)
    rendered = await archive.feed(archive.publisher(request))
    return _answer(request, rendered, ATOM_MEDIA, "no-cache")


@router.get(
    "/cap/alerts/{identifier}.xml",
    response_class=Response,
    responses={**_MESSAGE_DOC, **error_responses(304, 401, 404)},
)
async def cap_message(identifier: str, request: Request, _reader: ReaderDep) -> Response:
    """
    One CAP 1.2 message by its identifier, signed when the server has a key. Messages never
    change once issued.
    """
    archive = _archive(request)
    rendered = await archive.message(identifier, archive.publisher(request))
    if rendered is None:
        raise ApiError(404, "unknown_message", f"no CAP message {identifier!r} was issued here")
    return _answer(request, rendered, MIME_TYPE, "public, max-age=86400")


def install(app: FastAPI) -> None:
    """Add the CAP routes; the archive starts with the service."""
    app.include_router(router)

    async def start(app: FastAPI) -> None:
        settings = app.state.settings
        if bool(settings.cap_key) != bool(settings.cap_cert):
            raise SigningSetupError("set both TRYVOHA_CAP_KEY and TRYVOHA_CAP_CERT, or neither")
        signer = load_signer(settings.cap_key, settings.cap_cert) if settings.cap_key else None
        app.state.cap = CapArchive(
            app.state.service,
            app.state.registry,
            signer,
            settings.public_url,
            getattr(app.state, "clock", utc_now),
        )

    app.state.on_start.append(start)
