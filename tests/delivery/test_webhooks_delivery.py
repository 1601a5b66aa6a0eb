"""
Webhook delivery against a real HTTP receiver on loopback, with retries on a virtual clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from tests.delivery.delivery_support import (
    SHELLING,
    T0,
    Receiver,
    VirtualClock,
    running_delivery,
    until,
)
from tryvoha.core.codec import event_to_dict
from tryvoha.core.model import Event, EventKind
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.formats import builtin_formats
from tryvoha.delivery.model import DeliveryState, Webhook
from tryvoha.delivery.options import WebhookOptions
from tryvoha.delivery.outbox import MemoryOutbox
from tryvoha.delivery.retry import RetryPolicy
from tryvoha.delivery.signing import verify_signature
from tryvoha.delivery.urlguard import UrlPolicy

pytestmark = pytest.mark.anyio

OUTAGE = timedelta(minutes=5)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(name="receiver")
def _receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def assert_signed(receiver: Receiver, secret: str, clock: VirtualClock) -> None:
    for request in receiver.requests:
        header = request.headers["x-tryvoha-signature"]
        assert verify_signature(
            secret, request.body, header, now=clock.now.timestamp(), tolerance=1e9
        )


@pytest.mark.parametrize("outage", ["refused", "503"])
async def test_receiver_down_for_five_minutes_then_gets_everything_in_order(
    receiver: Receiver, outage: str
) -> None:
    clock = VirtualClock()
    if outage == "refused":

        def come_back(now: object) -> None:
            if clock.now >= T0 + OUTAGE and not receiver.running:
                receiver.start()

        clock.on_move.append(come_back)
    else:
        receiver.answer = lambda _request: 503 if clock.now < T0 + OUTAGE else 200
        receiver.start()

    async with running_delivery(clock, clock.timing()) as delivery:
        webhook = await delivery.webhooks.create(receiver.url, owner="reader")
        events: list[Event] = []
        events += await delivery.raise_("3", "4")
        events += await delivery.raise_("300", type=SHELLING)
        events += await delivery.lift("3")
        events += await delivery.raise_("31")
        await until(lambda: len(receiver.accepted()) >= len(events))
        assert clock.now >= T0 + OUTAGE
        await until(lambda: delivery.dispatcher.state(webhook.id).cursor == events[-1].seq)  # type: ignore[union-attr]
        state = delivery.dispatcher.state(webhook.id)

    assert receiver.accepted_seqs() == [e.seq for e in events]
    assert [orjson.loads(r.body) for r in receiver.accepted()] == [event_to_dict(e) for e in events]
    first = receiver.accepted()[0]
    assert int(first.headers["x-tryvoha-delivery-attempt"]) > 1
    assert first.headers["content-type"] == "application/json"
    assert state is not None and not state.failing and state.attempts == 0
    if outage == "503":
        assert all(r.seq == events[0].seq for r in receiver.requests if r.status == 503)
    assert_signed(receiver, webhook.secret, clock)
    assert delivery.metrics.retries._value.get() > 0


async def test_dead_letters_after_the_retry_budget_then_moves_on(receiver: Receiver) -> None:
    clock = VirtualClock()
    receiver.answer = lambda _request: 503
    receiver.start()
    async with running_delivery(clock, clock.timing()) as delivery:
        webhook = await delivery.webhooks.create(receiver.url, owner="reader")
        first = await delivery.raise_("3")
        queued = await delivery.raise_("4")

        await until(lambda: delivery.outbox.count_dead_letters(webhook.id) == 2)
        assert clock.now >= T0 + timedelta(hours=24)
        letters = await delivery.webhooks.dead_letters(webhook.id, owner="reader")
        assert [d.seq for d in letters] == [first[0].seq, queued[0].seq]
        assert letters[0].attempts > 10 and letters[0].error == "HTTP 503"
        assert letters[0].event == first[0]
        assert letters[1].attempts == 0 and "expired" in letters[1].error
        assert {r.seq for r in receiver.requests} == {first[0].seq}

        receiver.answer = lambda _request: 200
        after = await delivery.raise_("31")
        await until(lambda: receiver.accepted_seqs() == [after[0].seq])
        await until(lambda: not delivery.dispatcher.state(webhook.id).failing)  # type: ignore[union-attr]
        assert delivery.metrics.dead_letters._value.get() == 2


async def test_filters_select_regions_with_relatives_and_types(receiver: Receiver) -> None:
    clock = VirtualClock()
    receiver.start()
    async with running_delivery(clock, clock.timing()) as delivery:
        webhook = await delivery.webhooks.create(
            receiver.url, owner="reader", regions=["30"], types=["air_raid"]
        )
        wanted: list[Event] = []
        wanted += await delivery.raise_("3")  # the oblast covers the raion
        await delivery.raise_("4")
        wanted += await delivery.raise_("300")  # a hromada inside it
        await delivery.raise_("30", type=SHELLING)
        last = await delivery.raise_("40")
        await until(lambda: len(receiver.accepted()) >= 2)
        await until(lambda: delivery.dispatcher.state(webhook.id).cursor == last[0].seq)  # type: ignore[union-attr]
    assert receiver.accepted_seqs() == [e.seq for e in wanted]


async def test_a_body_format_renders_or_skips_events(receiver: Receiver) -> None:
    def raises_only(event: Event, registry: RegionRegistry) -> bytes | None:
        if event.kind is not EventKind.RAISED:
            return None
        return orjson.dumps({"oblast": registry.oblast_of(event.region_id).name_en})

    clock = VirtualClock()
    receiver.start()
    formats = {**builtin_formats(), "short": raises_only}
    async with running_delivery(clock, clock.timing(), formats=formats) as delivery:
        await delivery.webhooks.create(receiver.url, owner="reader", body_format="short")
        await delivery.raise_("300")
        await delivery.lift("300")
        raised = await delivery.raise_("4")
        await until(lambda: len(receiver.accepted()) >= 2)
        assert [orjson.loads(r.body) for r in receiver.accepted()] == [
            {"oblast": "Khmelnytskyi oblast"},
            {"oblast": "Vinnytsia oblast"},
        ]
        assert receiver.accepted()[-1].seq == raised[0].seq


async def test_one_request_in_flight_per_subscription(receiver: Receiver) -> None:
    clock = VirtualClock()
    receiver.delay = 0.02
    receiver.start()
    async with running_delivery(clock, clock.timing()) as delivery:
        hooks = [await delivery.webhooks.create(receiver.url, owner="reader") for _ in range(3)]
        events = await delivery.raise_("3", "4", "31", "300", "400")
        await until(lambda: len(receiver.accepted()) == 3 * len(events))
    for hook in hooks:
        assert receiver.accepted_seqs(hook.id) == [e.seq for e in events]
        assert receiver.max_in_flight[hook.id] == 1


async def test_a_refused_address_is_retried_not_called() -> None:
    clock = VirtualClock()
    options = WebhookOptions(
        url_policy=UrlPolicy(allow_private=True),
        retry=RetryPolicy(budget=timedelta(minutes=1)),
    )
    async with running_delivery(clock, clock.timing(), options=options) as delivery:
        webhook = await delivery.webhooks.create("http://127.0.0.1:9/hook", owner="reader")
        # The address policy tightens after the subscription was made (a DNS change).
        delivery.dispatcher.sender.policy = UrlPolicy()
        await delivery.raise_("3")
        await until(lambda: delivery.outbox.count_dead_letters(webhook.id) == 1)
        letters = await delivery.webhooks.dead_letters(webhook.id)
    assert "loopback or private" in letters[0].error


async def test_a_failing_body_format_is_retried_then_dead_lettered(receiver: Receiver) -> None:
    def broken(event: Event, registry: RegionRegistry) -> bytes | None:
        raise ValueError("no template")

    clock = VirtualClock()
    receiver.start()
    options = WebhookOptions(
        url_policy=UrlPolicy(allow_private=True), retry=RetryPolicy(budget=timedelta(hours=1))
    )
    formats = {**builtin_formats(), "broken": broken}
    async with running_delivery(clock, clock.timing(), options=options, formats=formats) as d:
        webhook = await d.webhooks.create(receiver.url, owner="reader", body_format="broken")
        await d.raise_("3")
        await until(lambda: d.outbox.count_dead_letters(webhook.id) == 1)
        [letter] = await d.webhooks.dead_letters(webhook.id)
    assert "no template" in letter.error and letter.attempts > 1
    assert receiver.requests == []


async def test_stored_subscriptions_with_vanished_regions_match_nothing(
    receiver: Receiver,
) -> None:
    """A region that left the registry narrows its webhook; it never widens it to all."""
    receiver.start()
    outbox = MemoryOutbox()
    stale = Webhook(
        id="wh_stale",
        owner="reader",
        url=receiver.url,
        secret="s" * 32,
        regions=("999",),
        types=(),
        body_format="tryvoha",
        created_at=T0,
        state=DeliveryState(cursor=0),
    )
    outbox.create(stale)
    outbox.create(replace(stale, id="wh_mixed", regions=("999", "4")))
    clock = VirtualClock()
    async with running_delivery(clock, clock.timing(), outbox=outbox) as delivery:
        await delivery.raise_("3")
        [wanted] = await delivery.raise_("4")
        await until(lambda: delivery.dispatcher.state("wh_stale").cursor == wanted.seq)  # type: ignore[union-attr]
        await until(lambda: len(receiver.accepted()) == 1)
    assert receiver.accepted_seqs("wh_mixed") == [wanted.seq]
    assert receiver.accepted_seqs("wh_stale") == []
