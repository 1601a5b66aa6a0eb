"""
render -> parse is the identity on the CAP model, for any message it can express.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tryvoha.core.cap import (
    Area,
    CapMessage,
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
    parse,
    render,
)

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"), include_characters="\n\t"),
    max_size=40,
)
tokens = st.from_regex(r"[A-Za-z0-9.:_@-]{1,30}", fullmatch=True)
# Whole seconds in UTC, 1990 to 2090: what CAP times carry.
times = st.integers(631_152_000, 3_786_912_000).map(lambda s: datetime.fromtimestamp(s, UTC))
coordinates = st.tuples(
    st.integers(-900_000, 900_000).map(lambda v: v / 10_000),
    st.integers(-1_800_000, 1_800_000).map(lambda v: v / 10_000),
)
polygons = st.lists(coordinates, min_size=3, max_size=8).map(lambda ps: (*ps, ps[0]))
pairs = st.lists(st.tuples(tokens, texts), max_size=3).map(tuple)
areas = st.builds(
    Area,
    desc=texts,
    polygons=st.lists(polygons, max_size=3).map(tuple),
    geocodes=pairs,
)
optional_text = st.none() | texts
infos = st.builds(
    Info,
    language=st.sampled_from(["uk", "en", "en-US", "uk-UA"]),
    categories=st.lists(st.sampled_from(Category), min_size=1, max_size=2).map(tuple),
    event=texts,
    urgency=st.sampled_from(Urgency),
    severity=st.sampled_from(Severity),
    certainty=st.sampled_from(Certainty),
    response_types=st.lists(st.sampled_from(ResponseType), max_size=2).map(tuple),
    event_codes=pairs,
    onset=st.none() | times,
    expires=st.none() | times,
    sender_name=optional_text,
    headline=optional_text,
    description=optional_text,
    instruction=optional_text,
    web=st.none() | tokens.map(lambda t: f"https://example.org/{t}"),
    contact=optional_text,
    parameters=pairs,
    areas=st.lists(areas, max_size=2).map(tuple),
)
messages = st.builds(
    CapMessage,
    identifier=tokens,
    sender=tokens,
    sent=times,
    status=st.sampled_from(Status),
    msg_type=st.sampled_from(MsgType),
    scope=st.sampled_from(Scope),
    references=st.lists(st.builds(Reference, tokens, tokens, times), max_size=3).map(tuple),
    incidents=st.lists(tokens, max_size=2).map(tuple),
    infos=st.lists(infos, max_size=2).map(tuple),
)


@given(messages)
def test_render_then_parse_gives_the_message_back(message: CapMessage) -> None:
    assert parse(render(message)) == message
