"""
From events to a message: who publishes, and the CAP message of one issue of an alert.

A message is a pure function of the events of its alert up to the one it states (and of the
renewal number), so any message ever issued can be rebuilt from the log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tryvoha.core.cap.areas import Place
from tryvoha.core.cap.chain import Issue, check_chain, earlier_issues
from tryvoha.core.cap.model import (
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
    cap_time,
    format_cap_time,
)
from tryvoha.core.cap.wording import (
    EN,
    EVENTS,
    LANGUAGES,
    UK,
    area_name,
    description,
    headline,
    instruction,
)
from tryvoha.core.model import ENGINE_SOURCE, AlertLevel, AlertType, Event

GEOCODE_KATOTTG = "KATOTTG"
GEOCODE_UID = "alerts.in.ua-UID"
EVENT_CODE_TYPE = "tryvoha-type"
_FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")

# CAP: Security covers military threats; CBRNE is chemical, biological, radiological, nuclear.
_CATEGORIES: dict[AlertType, Category] = {
    AlertType.AIR_RAID: Category.SECURITY,
    AlertType.ARTILLERY_SHELLING: Category.SECURITY,
    AlertType.URBAN_FIGHTS: Category.SECURITY,
    AlertType.CHEMICAL: Category.CBRNE,
    AlertType.NUCLEAR: Category.CBRNE,
}


@dataclass(frozen=True, slots=True)
class Publisher:
    """
    Who sends: `sender` (a domain) names the messages, `base_url` is where people find more.
    """

    sender: str
    base_url: str
    status: Status = Status.ACTUAL

    def __post_init__(self) -> None:
        if not self.sender or _FORBIDDEN_IN_ID.search(self.sender):
            raise CapError(f"CAP sender {self.sender!r}: empty or holds whitespace , < or &")
        if not self.base_url.startswith(("http://", "https://")):
            raise CapError(f"base URL {self.base_url!r} is not an absolute http(s) URL")


def build_message(
    chain: Sequence[Event], issue: Issue, place: Place, publisher: Publisher
) -> CapMessage:
    """
    The CAP message for *issue*, given its alert's events (at least up to the one it
    states; later ones are ignored), where it applies, and who publishes it.
    """
    check_chain(chain)
    upto = [e for e in chain if e.seq <= issue.event.seq]
    if upto[-1] != issue.event:
        raise CapError(f"event {issue.event.seq} is not in the chain of alert {chain[0].seq}")
    sender = publisher.sender
    references = tuple(
        Reference(sender, earlier.identifier(sender), earlier.sent)
        for earlier in earlier_issues(upto, issue)
    )
    return CapMessage(
        identifier=issue.identifier(sender),
        sender=sender,
        sent=issue.sent,
        status=publisher.status,
        msg_type=issue.msg_type,
        scope=Scope.PUBLIC,
        references=references,
        incidents=(Issue(upto[0]).identifier(sender),),
        infos=tuple(_info(issue, place, publisher, lang) for lang in (UK, EN)),
    )


def _info(issue: Issue, place: Place, publisher: Publisher, lang: int) -> Info:
    alert = issue.event.alert
    region = place.region
    ending = issue.msg_type is MsgType.CANCEL
    red = alert.level is AlertLevel.ALERT
    if ending:
        response, urgency, severity, certainty = (
            ResponseType.ALL_CLEAR,
            Urgency.PAST,
            Severity.MINOR,
            Certainty.OBSERVED,
        )
    else:
        response = ResponseType.SHELTER if red else ResponseType.PREPARE
        urgency = Urgency.IMMEDIATE
        severity = Severity.EXTREME if red else Severity.SEVERE
        certainty = Certainty.OBSERVED if red else Certainty.LIKELY
    geocodes: list[Pair] = []
    if region.katottg:
        geocodes.append((GEOCODE_KATOTTG, region.katottg))
    geocodes.append((GEOCODE_UID, region.id))
    parameters: list[Pair] = [
        ("tryvoha-level", alert.level.value),
        ("tryvoha-seq", str(issue.event.seq)),
        ("tryvoha-alert-id", str(alert.id)),
    ]
    if issue.renewal:
        parameters.append(("tryvoha-renewal", str(issue.renewal)))
    parameters.append(("tryvoha-origin", "engine" if alert.source == ENGINE_SOURCE else "operator"))
    if alert.threat is not None:
        parameters.append(("tryvoha-threat", alert.threat.threat_class.value))
        if alert.threat.expected_arrival is not None:
            arrival = format_cap_time(alert.threat.expected_arrival)
            parameters.append(("tryvoha-expected-arrival", arrival))
    base = publisher.base_url
    return Info(
        language=LANGUAGES[lang],
        categories=(_CATEGORIES[alert.type],),
        event=EVENTS[alert.type][lang],
        response_types=(response,),
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        event_codes=((EVENT_CODE_TYPE, alert.type.value),),
        onset=cap_time(alert.started_at),
        expires=issue.expires,
        sender_name=(
            f"Сервер тривог tryvoha, {publisher.sender}"
            if lang == UK
            else f"tryvoha alert server, {publisher.sender}"
        ),
        headline=headline(issue, place, lang),
        description=description(issue, place, lang),
        instruction=instruction(issue, lang),
        web=f"{base}/?region={region.id}",
        contact=f"Сайт: {base}/" if lang == UK else f"Website: {base}/",
        parameters=tuple(parameters),
        areas=(Area(area_name(place, lang), place.polygons, tuple(geocodes)),),
    )
