"""
What a message says, in Ukrainian and English: event names, headline, description,
instruction and the name of its area.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tryvoha.core.cap.areas import Place
from tryvoha.core.cap.chain import Issue
from tryvoha.core.cap.model import MsgType
from tryvoha.core.model import ENGINE_SOURCE, AlertLevel, AlertType, EventKind, ThreatClass

MAX_HEADLINE = 140

KYIV = ZoneInfo("Europe/Kyiv")
LANGUAGES = ("uk", "en")
UK, EN = 0, 1
"""Indexes into `LANGUAGES` and into every pair of `Words`."""
Words = tuple[str, str]

EVENTS: dict[AlertType, Words] = {
    AlertType.AIR_RAID: ("Повітряна тривога", "Air raid alert"),
    AlertType.ARTILLERY_SHELLING: ("Загроза артобстрілу", "Artillery shelling threat"),
    AlertType.URBAN_FIGHTS: ("Загроза вуличних боїв", "Urban fighting threat"),
    AlertType.CHEMICAL: ("Хімічна загроза", "Chemical threat"),
    AlertType.NUCLEAR: ("Радіаційна загроза", "Nuclear threat"),
}
_TAKE_COVER: dict[AlertType, Words] = {
    AlertType.AIR_RAID: (
        "Негайно пройдіть до найближчого укриття й залишайтеся там до відбою тривоги.",
        "Go to the nearest shelter now and stay there until the all-clear.",
    ),
    AlertType.ARTILLERY_SHELLING: (
        "Негайно сховайтеся в укритті або в приміщенні без вікон, далі від зовнішніх стін; "
        "залишайтеся там до відбою.",
        "Take cover at once in a shelter or a windowless room away from outer walls; "
        "stay there until the all-clear.",
    ),
    AlertType.URBAN_FIGHTS: (
        "Залишайтеся в укритті або в приміщенні далі від вікон; не виходьте надвір до відбою.",
        "Stay in a shelter or a room away from windows; do not go outside until the all-clear.",
    ),
    AlertType.CHEMICAL: (
        "Зачиніть вікна й двері, вимкніть вентиляцію, захистіть органи дихання вологою "
        "тканиною й виконуйте вказівки влади.",
        "Close windows and doors, switch off ventilation, cover your nose and mouth with a "
        "damp cloth and follow official instructions.",
    ),
    AlertType.NUCLEAR: (
        "Негайно зайдіть до найближчої будівлі або укриття, зачиніть вікна й двері й "
        "залишайтеся всередині до відбою.",
        "Get inside the nearest building or shelter now, close windows and doors and stay "
        "inside until the all-clear.",
    ),
}
_BE_READY: Words = (
    "Будьте готові негайно пройти до укриття; стежте за оновленнями.",
    "Be ready to go to a shelter at once and keep following updates.",
)
_ALL_CLEAR: Words = (
    "Можна залишити укриття. Стежте за оновленнями: тривогу можуть оголосити знову.",
    "You may leave the shelter. Keep following updates: the alert may be declared again.",
)
_LEVELS: dict[AlertLevel, Words] = {
    AlertLevel.ALERT: (
        "Рівень: тривога — небезпека безпосередня.",
        "Level: alert — the danger is immediate.",
    ),
    AlertLevel.WARNING: (
        "Рівень: попередження — підвищена небезпека, тривога можлива найближчим часом.",
        "Level: early warning — elevated danger; an alert may follow soon.",
    ),
}
_THREATS: dict[ThreatClass, Words] = {
    ThreatClass.SHAHED: ("ударні БпЛА типу «Шахед»", "Shahed-type attack drones"),
    ThreatClass.JET_DRONE: ("реактивні ударні БпЛА", "jet-powered attack drones"),
    ThreatClass.CRUISE_MISSILE: ("крилаті ракети", "cruise missiles"),
    ThreatClass.BALLISTIC_MISSILE: ("балістичні ракети", "ballistic missiles"),
    ThreatClass.AIRCRAFT: ("військова авіація", "military aircraft"),
    ThreatClass.UNKNOWN: ("невизначена", "not identified"),
}
_CHANGES: dict[str, Words] = {
    "level": ("рівень", "level"),
    "note": ("примітка", "note"),
    "threat": ("відомості про загрозу", "threat details"),
    "source": ("джерело (тривогу веде оператор)", "source (an operator now keeps the alert)"),
}
_PREFIX: dict[MsgType, Words] = {
    MsgType.UPDATE: ("Оновлення", "Update"),
    MsgType.CANCEL: ("Відбій", "All clear"),
}
_STILL: Words = ("Триває", "Still in force")
_WARNING_MARK: Words = ("попередження", "early warning")
_ENGINE: Words = (
    "Тривогу оголошено автоматично системою раннього попередження за траєкторією загрози.",
    "Declared automatically by the early-warning engine from the threat's track.",
)


def _local(value: datetime, lang: int) -> str:
    local = value.astimezone(KYIV)
    if lang == UK:
        return f"{local:%H:%M} {local:%d.%m.%Y} за київським часом"
    return f"{local:%H:%M} Kyiv time on {local:%Y-%m-%d} ({value.astimezone(UTC):%H:%M} UTC)"


def _duration(span: timedelta, lang: int) -> str:
    minutes = max(0, round(span.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if lang == UK:
        return f"{hours} год {minutes} хв" if hours else f"{minutes} хв"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def area_name(place: Place, lang: int) -> str:
    names = [place.region, *place.lineage]
    return ", ".join(r.name_uk if lang == UK else r.name_en for r in names)


def _short_name(place: Place, lang: int) -> str:
    names = [place.region, *place.lineage[-1:]]
    return ", ".join(r.name_uk if lang == UK else r.name_en for r in names)


def headline(issue: Issue, place: Place, lang: int) -> str:
    alert = issue.event.alert
    event = EVENTS[alert.type][lang]
    if alert.level is AlertLevel.WARNING and issue.msg_type is not MsgType.CANCEL:
        event = f"{event} ({_WARNING_MARK[lang]})"
    prefix = _STILL[lang] if issue.renewal else _PREFIX.get(issue.msg_type, ("", ""))[lang]
    text = f"{event} — {_short_name(place, lang)}"
    if prefix:
        text = f"{prefix}: {text}"
    if len(text) > MAX_HEADLINE:
        text = text[: MAX_HEADLINE - 1].rstrip() + "…"
    return text


def description(issue: Issue, place: Place, lang: int) -> str:
    event, alert = issue.event, issue.event.alert
    area = area_name(place, lang)
    name = EVENTS[alert.type][lang]
    if issue.msg_type is MsgType.CANCEL:
        lasted = _duration(event.at - alert.started_at, lang)
        if lang == UK:
            return f"Відбій: {name.lower()}, {area}, о {_local(event.at, UK)}. Тривала {lasted}."
        return f"All clear: {name.lower()}, {area}, at {_local(event.at, EN)}. It lasted {lasted}."
    if lang == UK:
        parts = [f"{name}: {area}. Оголошено о {_local(alert.started_at, UK)}."]
    else:
        parts = [f"{name}: {area}. Declared at {_local(alert.started_at, EN)}."]
    if issue.renewal:
        parts.append(
            f"Тривога триває; повідомлення поновлено о {_local(issue.at, UK)}."
            if lang == UK
            else f"The alert is still in force; message renewed at {_local(issue.at, EN)}."
        )
    elif event.kind is EventKind.UPDATED:
        changed = ", ".join(_CHANGES[c][lang] for c in event.changes if c in _CHANGES)
        parts.append(
            f"Оновлено о {_local(event.at, UK)}; змінено: {changed or 'подробиці'}."
            if lang == UK
            else f"Updated at {_local(event.at, EN)}; changed: {changed or 'details'}."
        )
    parts.append(_LEVELS[alert.level][lang])
    if alert.threat is not None:
        threat = _THREATS[alert.threat.threat_class][lang]
        arrival = alert.threat.expected_arrival
        if lang == UK:
            when = f", очікуваний час підльоту — {_local(arrival, UK)}" if arrival else ""
            parts.append(f"Загроза: {threat}{when}.")
        else:
            when = f", expected to arrive at {_local(arrival, EN)}" if arrival else ""
            parts.append(f"Threat: {threat}{when}.")
    if alert.source == ENGINE_SOURCE:
        parts.append(_ENGINE[lang])
    if alert.note:
        parts.append(("Примітка: " if lang == UK else "Note: ") + alert.note)
    return " ".join(parts)


def instruction(issue: Issue, lang: int) -> str:
    alert = issue.event.alert
    if issue.msg_type is MsgType.CANCEL:
        return _ALL_CLEAR[lang]
    if alert.level is AlertLevel.WARNING:
        return _BE_READY[lang]
    return _TAKE_COVER[alert.type][lang]
