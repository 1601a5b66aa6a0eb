"""
`WebhookRegistry`: the Python API of webhook subscriptions, used by the HTTP routes and by
other features that register webhooks of their own (with a body format of their own).

A new subscription starts at the end of the log: it receives the events committed after
it was created. Every method takes the caller's token name as `owner`; None means an
administrator, who sees every subscription. Someone else's subscription is "not found".

Every node of a cluster keeps a registry, but only the leader delivers: `dispatcher` is
None on the others, which store the change and leave it to the leader to notice.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from tryvoha.core.errors import TryvohaError, UnknownAlertType
from tryvoha.core.model import AlertType
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.dispatcher import Dispatcher
from tryvoha.delivery.filters import EventFilter
from tryvoha.delivery.formats import BodyFormats
from tryvoha.delivery.model import DEFAULT_FORMAT, DeadLetter, DeliveryState, Webhook
from tryvoha.delivery.options import WebhookOptions
from tryvoha.delivery.outbox import Outbox
from tryvoha.delivery.urlguard import RefusedUrl, Resolver, check_url, resolve

SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
MAX_FILTER_REGIONS = 2000


class WebhookError(TryvohaError):
    pass


class InvalidWebhook(WebhookError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class WebhookNotFound(WebhookError):
    def __init__(self, webhook_id: str) -> None:
        super().__init__(f"no such webhook: {webhook_id!r}")
        self.webhook_id = webhook_id


class TooManyWebhooks(WebhookError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _alert_types(values: Iterable[AlertType | str]) -> tuple[AlertType, ...]:
    types: list[AlertType] = []
    for value in values:
        try:
            types.append(AlertType(value))
        except ValueError:
            raise UnknownAlertType(str(value)) from None
    return tuple(dict.fromkeys(types))


class WebhookRegistry:
    def __init__(
        self,
        *,
        outbox: Outbox,
        dispatcher: Dispatcher | None = None,
        regions: RegionRegistry,
        formats: BodyFormats,
        last_seq: Callable[[], int],
        clock: Callable[[], datetime],
        options: WebhookOptions | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._outbox = outbox
        self.dispatcher = dispatcher
        """The dispatcher of this node while it leads, else None."""
        self._regions = regions
        self._formats = formats
        self._last_seq = last_seq
        self._clock = clock
        self._options = options or WebhookOptions()
        self._resolver = resolver or resolve

    async def create(
        self,
        url: str,
        *,
        owner: str,
        regions: Iterable[str] = (),
        types: Iterable[AlertType | str] = (),
        secret: str | None = None,
        body_format: str = DEFAULT_FORMAT,
    ) -> Webhook:
        """
        Store a subscription and start delivering to it; the returned `secret` is the only
        time it is shown. Raises `InvalidWebhook`, `UnknownRegion`, `UnknownAlertType` or
        `TooManyWebhooks`.
        """
        region_ids = tuple(dict.fromkeys(str(r) for r in regions))
        if len(region_ids) > MAX_FILTER_REGIONS:
            raise InvalidWebhook("invalid_request", f"regions: at most {MAX_FILTER_REGIONS}")
        alert_types = _alert_types(types)
        EventFilter.build(self._regions, region_ids, alert_types)
        if body_format not in self._formats:
            known = ", ".join(sorted(self._formats))
            raise InvalidWebhook("unknown_format", f"format {body_format!r} is not one of {known}")
        if secret is not None and not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
            raise InvalidWebhook(
                "invalid_secret",
                f"secret: {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters",
            )
        try:
            await check_url(url, self._options.url_policy, self._resolver)
        except RefusedUrl as exc:
            raise InvalidWebhook("refused_url", str(exc)) from None
        existing = await asyncio.to_thread(self._outbox.list_webhooks, owner)
        if len(existing) >= self._options.max_per_owner:
            raise TooManyWebhooks(
                f"{owner!r} has {len(existing)} webhooks, the most allowed; delete one first"
            )
        webhook = Webhook(
            id="wh_" + secrets.token_hex(8),
            owner=owner,
            url=url,
            secret=secret or new_secret(),
            regions=region_ids,
            types=alert_types,
            body_format=body_format,
            created_at=self._clock(),
            state=DeliveryState(cursor=self._last_seq()),
        )
        await asyncio.to_thread(self._outbox.create, webhook)
        if self.dispatcher is not None:
            self.dispatcher.track(webhook)
        return webhook

    async def get(self, webhook_id: str, *, owner: str | None = None) -> Webhook:
        webhook = await asyncio.to_thread(self._outbox.find, webhook_id)
        if webhook is None or (owner is not None and webhook.owner != owner):
            raise WebhookNotFound(webhook_id)
        return self._live(webhook)

    async def list_webhooks(self, *, owner: str | None = None) -> list[Webhook]:
        webhooks = await asyncio.to_thread(self._outbox.list_webhooks, owner)
        return [self._live(w) for w in webhooks]

    async def delete(self, webhook_id: str, *, owner: str | None = None) -> None:
        await self.get(webhook_id, owner=owner)
        # Deleted from the outbox first, so a dispatcher re-reading it cannot bring it back.
        if not await asyncio.to_thread(self._outbox.delete, webhook_id, self._clock()):
            raise WebhookNotFound(webhook_id)
        if self.dispatcher is not None:
            await self.dispatcher.forget(webhook_id)

    async def dead_letters(
        self, webhook_id: str, *, owner: str | None = None, after: int = 0, limit: int = 100
    ) -> list[DeadLetter]:
        await self.get(webhook_id, owner=owner)
        return await asyncio.to_thread(self._outbox.dead_letters, webhook_id, after, limit)

    async def count_dead_letters(self, webhook_id: str) -> int:
        return await asyncio.to_thread(self._outbox.count_dead_letters, webhook_id)

    def _live(self, webhook: Webhook) -> Webhook:
        state = None if self.dispatcher is None else self.dispatcher.state(webhook.id)
        return webhook if state is None else replace(webhook, state=state)
