"""
`Dispatcher`: runs a `Courier` per webhook subscription and commits their progress.

Each subscription has at most one request in flight (its courier awaits the answer before
the next event), which keeps its events in order; the `Sender` bounds the requests in
flight over all subscriptions. Progress (cursors, retry
state, dead letters) is saved by one flusher task that writes whatever has accumulated in a
single transaction, so a burst of acknowledgements costs one commit, not one per receiver.
A crash can lose the newest acknowledgements, and then those events are sent again:
delivery is at least once, and `X-Tryvoha-Event-Id` lets receivers drop repeats.

In a cluster only the leader runs a dispatcher, while subscriptions are created and deleted
through any node: with `refresh_seconds` set, it re-reads the outbox on that schedule and
starts or stops couriers to match.

Clock, sleep and randomness come in through `Timing`, so tests can run a day of retries
in a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tryvoha.core.model import Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.courier import Courier
from tryvoha.delivery.feed import EventFeed
from tryvoha.delivery.filters import EventFilter
from tryvoha.delivery.formats import BodyFormats, BodyRenderer
from tryvoha.delivery.metrics import WebhookMetrics
from tryvoha.delivery.model import DeliveryState, Progress, Webhook
from tryvoha.delivery.options import WebhookOptions
from tryvoha.delivery.outbox import Outbox
from tryvoha.delivery.sender import Sender
from tryvoha.delivery.urlguard import Resolver, resolve
from tryvoha.tasks import stop_task, stop_tasks

log = logging.getLogger(__name__)

FLUSH_RETRY_SECONDS = 1.0
REFRESH_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Timing:
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.SystemRandom)


def _missing_format(name: str) -> BodyRenderer:
    def render(event: Event, registry: RegionRegistry) -> bytes | None:
        raise LookupError(f"no body format {name!r} is installed")

    return render


class Dispatcher:
    def __init__(
        self,
        *,
        feed: EventFeed,
        outbox: Outbox,
        regions: RegionRegistry,
        formats: BodyFormats,
        metrics: WebhookMetrics,
        options: WebhookOptions | None = None,
        timing: Timing | None = None,
        resolver: Resolver | None = None,
        refresh_seconds: float | None = None,
    ) -> None:
        self.feed = feed
        self.outbox = outbox
        self.regions = regions
        self.metrics = metrics
        self.options = options or WebhookOptions()
        self.timing = timing or Timing()
        self._formats = formats
        self.sender = Sender(
            policy=self.options.url_policy,
            resolver=resolver or resolve,
            clock=self.timing.clock,
            timeout_seconds=self.options.timeout_seconds,
            concurrency=self.options.concurrency,
        )
        self._couriers: dict[str, Courier] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pending: dict[str, Progress] = {}
        self._dirty = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._refresh_seconds = refresh_seconds
        self._refresher: asyncio.Task[None] | None = None
        # Ids are never reused: one forgotten must not come back from an older outbox read.
        self._forgotten: set[str] = set()
        # Saves go one at a time: the newest state of a subscription must land last.
        self._io = ThreadPoolExecutor(1, thread_name_prefix="tryvoha-webhooks")

    # -- life cycle ------------------------------------------------------------------------

    async def start(self, webhooks: Iterable[Webhook]) -> None:
        self.metrics.subscriptions.set_function(lambda: len(self._couriers))
        self.metrics.failing.set_function(
            lambda: sum(1 for c in self._couriers.values() if c.state.failing)
        )
        self._flusher = asyncio.create_task(self._flush_forever(), name="tryvoha-webhook-flush")
        for webhook in webhooks:
            self.track(webhook)
        if self._refresh_seconds is not None:
            self._refresher = asyncio.create_task(
                self._refresh_forever(self._refresh_seconds), name="tryvoha-webhook-refresh"
            )

    async def stop(self) -> None:
        if self._refresher is not None:
            await stop_task(self._refresher)
            self._refresher = None
        await stop_tasks(list(self._tasks.values()))
        self._tasks.clear()
        self._couriers.clear()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self._flush()
        await self.sender.close()
        self._io.shutdown(wait=True)

    # -- subscriptions ---------------------------------------------------------------------

    def track(self, webhook: Webhook) -> None:
        """Start delivering *webhook* (after it was stored, or at start)."""
        if webhook.id in self._couriers or webhook.id in self._forgotten:
            return
        # Regions may have left the registry since (another regions directory): those
        # match nothing rather than stop the server from starting.
        event_filter = EventFilter.build(self.regions, webhook.regions, webhook.types, strict=False)
        unknown = [r for r in webhook.regions if r not in self.regions]
        if unknown:
            log.warning("webhook %s: unknown regions %s are ignored", webhook.id, unknown)
        courier = Courier(webhook, event_filter, self)
        self._couriers[webhook.id] = courier
        task = asyncio.create_task(self._run(courier), name=f"tryvoha-webhook-{webhook.id}")
        self._tasks[webhook.id] = task

    async def forget(self, webhook_id: str) -> None:
        """Stop delivering (the subscription was deleted); a request in flight is dropped."""
        self._forgotten.add(webhook_id)
        self._couriers.pop(webhook_id, None)
        task = self._tasks.pop(webhook_id, None)
        if task is not None:
            await stop_task(task)
        await self.sender.discard(webhook_id)

    async def refresh(self) -> None:
        """Match the couriers to the outbox: follow what other nodes created or deleted."""
        known = set(self._couriers)
        stored = await asyncio.to_thread(self.outbox.list_webhooks)
        for webhook in stored:
            self.track(webhook)
        # Only those tracked before the read: one created here meanwhile is not in it yet.
        for webhook_id in known - {w.id for w in stored}:
            log.info("webhook %s was deleted; delivery stops", webhook_id)
            await self.forget(webhook_id)

    async def _refresh_forever(self, seconds: float) -> None:
        # Real time, not `timing`: a test's virtual clock must not spin this loop.
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("reading the webhook subscriptions failed; retrying")

    def state(self, webhook_id: str) -> DeliveryState | None:
        """The live state, fresher than the stored one; None when not delivering."""
        courier = self._couriers.get(webhook_id)
        return None if courier is None else courier.state

    async def _run(self, courier: Courier) -> None:
        while True:
            try:
                await courier.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug must not end a subscription's deliveries for good.
                log.exception("webhook %s: courier failed; restarting", courier.webhook.id)
                await self.timing.sleep(FLUSH_RETRY_SECONDS)

    def renderer(self, name: str) -> BodyRenderer:
        return self._formats.get(name) or _missing_format(name)

    # -- saving progress -------------------------------------------------------------------

    def save(self, progress: Progress) -> None:
        """Queue *progress* for the next commit; dead letters accumulate, the newest state wins."""
        earlier = self._pending.get(progress.webhook_id)
        if earlier is not None and earlier.dead_letters:
            progress = Progress(
                progress.webhook_id, progress.state, earlier.dead_letters + progress.dead_letters
            )
        self._pending[progress.webhook_id] = progress
        self._dirty.set()

    async def _flush_forever(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not await self._flush():
                await asyncio.sleep(FLUSH_RETRY_SECONDS)

    async def _flush(self) -> bool:
        if not self._pending:
            return True
        batch, self._pending = self._pending, {}
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._io, self.outbox.save_progress, list(batch.values()))
        except Exception:
            log.exception("saving the progress of %d webhook(s) failed; retrying", len(batch))
            for progress in batch.values():
                newer = self._pending.get(progress.webhook_id)
                if newer is None:
                    self._pending[progress.webhook_id] = progress
                else:
                    self._pending[progress.webhook_id] = Progress(
                        newer.webhook_id, newer.state, progress.dead_letters + newer.dead_letters
                    )
            self._dirty.set()
            return False
        return True
