"""
One live-stream connection as the fan-out hub sees it: a filter, a cursor, a bounded buffer.

The hub writes to the connection's ASGI `send` from its own loop. Sending to a healthy
connection finishes without suspending (the server only waits when the socket's write buffer
is full), so the hub runs the `send` coroutine by hand and a fan-out to N connections costs N
plain writes, with no task switch and no queue per connection. Only when a send does suspend
does the connection get a task of its own to finish it; until that task has drained, further
events wait in the connection's buffer. A buffer that grows past its limit ends the stream:
the client resumes from its last id, and nobody else waited for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    Awaitable,
    Callable,
    Generator,
    Iterable,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from tryvoha.core.errors import UnknownAlertType
from tryvoha.core.model import AlertType
from tryvoha.core.regions import RegionRegistry

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


class EndReason(StrEnum):
    SLOW = "slow consumer"
    SHUTDOWN = "server shutting down"
    FAILED = "server error"
    GONE = "connection lost"


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """
    What a connection wants: region ids (already widened to relatives) and alert types.

    `None` means no restriction on that dimension.
    """

    regions: frozenset[str] | None = None
    types: frozenset[AlertType] | None = None

    def matches(self, region_id: str, alert_type: AlertType) -> bool:
        return (self.regions is None or region_id in self.regions) and (
            self.types is None or alert_type in self.types
        )


EVERYTHING = StreamFilter()
NOTHING = StreamFilter(regions=frozenset())


def region_set(registry: RegionRegistry, region_ids: Iterable[str]) -> frozenset[str]:
    """
    The regions whose alerts concern *region_ids*: themselves, their descendants, and their
    ancestors (an ancestor's alert covers them).
    """
    return registry.concerning(region_ids)


def type_set(values: Iterable[str]) -> frozenset[AlertType]:
    found: set[AlertType] = set()
    for value in values:
        try:
            found.add(AlertType(value))
        except ValueError:
            raise UnknownAlertType(str(value)) from None
    return frozenset(found)


def make_filter(
    registry: RegionRegistry, region_ids: Sequence[str] | None, types: Sequence[str] | None
) -> StreamFilter:
    """A filter from requested ids and type names; None or empty means all of them."""
    return StreamFilter(
        region_set(registry, region_ids) if region_ids else None,
        type_set(types) if types else None,
    )


@dataclass(frozen=True, slots=True)
class Encoded:
    """
    One event, serialised once for every connection: its ASGI message per connection kind.
    """

    seq: int
    region_id: str
    type: AlertType
    messages: tuple[Message, ...]
    """Indexed by `Subscriber.kind_index`."""


class _Resumed:
    """
    Awaits the rest of a coroutine that was started by hand and then suspended.

    This is what `await` itself does for a coroutine (PEP 380), split at the first
    suspension: whatever the coroutine yields goes to the task awaiting this object.
    """

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Generator[Any, Any, None], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value = self._coro, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return


class Subscriber:
    """
    The hub's end of one connection. Subclasses say how events, pings and the end look.

    Only one send is ever in flight: the hub writes directly while the connection is live and
    idle; otherwise whoever owns the connection (its catch-up, or the task finishing a
    suspended send) drains the buffer before it lets go.
    """

    __slots__ = (
        "_busy",
        "_ending",
        "_finisher",
        "_idle_waiters",
        "_limit",
        "_pending",
        "_send",
        "_write_now",
        "closed",
        "end_reason",
        "filter",
        "last_seq",
        "live",
        "on_end",
    )
    kind: ClassVar[str] = "stream"
    kind_index: ClassVar[int] = 0

    def __init__(
        self,
        send: Send,
        stream_filter: StreamFilter,
        buffer_limit: int,
        write_now: Callable[[Message], bool] | None = None,
    ) -> None:
        """
        *write_now*, when the server offers one, writes a message without a coroutine and
        says whether it did; what it declines goes through *send*.
        """
        self.filter = stream_filter
        # The newest seq handed over: live events at or below it are duplicates.
        self.last_seq = 0
        # False while catching up: the hub's events wait in the buffer meanwhile.
        self.live = False
        self.closed = False
        self.end_reason: EndReason | None = None
        self.on_end: Callable[[Subscriber], None] | None = None
        self._send = send
        self._write_now = write_now
        self._limit = buffer_limit
        self._pending: list[tuple[int, Message]] = []
        self._busy = False
        self._ending: Message | None = None
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._finisher: asyncio.Task[None] | None = None

    # -- what the kinds differ in -------------------------------------------------------

    def ping_message(self) -> Message:
        raise NotImplementedError

    def snapshot_message(self, last_seq: int, alerts: list[dict[str, Any]]) -> Message:
        raise NotImplementedError

    def end_message(self, reason: EndReason) -> Message | None:
        """The last message, or None to just stop."""
        raise NotImplementedError

    def coalesce(self, messages: list[Message]) -> list[Message]:
        """Fewer, larger writes where the kind allows (SSE frames concatenate)."""
        return messages

    # -- called by the hub --------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def offer(self, seq: int, message: Message) -> None:
        if self.closed:
            return
        if self.live:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
            if not self._busy:
                self._write(message)
                return
        self._pending.append((seq, message))
        if len(self._pending) > self._limit:
            self.end(EndReason.SLOW)

    def ping(self) -> None:
        if self.closed or not self.live:
            return
        if self._busy:
            self._pending.append((0, self.ping_message()))
            if len(self._pending) > self._limit:
                self.end(EndReason.SLOW)
        else:
            self._write(self.ping_message())

    def end(self, reason: EndReason) -> None:
        """Stop the stream: drop the buffer and send the kind's last message when possible."""
        if self.closed:
            return
        self.closed = True
        self.end_reason = reason
        self._pending.clear()
        if self.on_end is not None:
            self.on_end(self)
        if reason is EndReason.GONE:
            return
        message = self.end_message(reason)
        if message is None:
            return
        if self._busy:
            self._ending = message
        else:
            self._write(message)

    # -- writing ------------------------------------------------------------------------

    def _write(self, message: Message) -> None:
        if self._write_now is not None:
            try:
                if self._write_now(message):
                    return
            except Exception:
                self.end(EndReason.GONE)
                return
        coro = self._send(message).__await__()
        try:
            suspended_on = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self.end(EndReason.GONE)
            return
        # The server's write buffer is full: finish this send in a task of its own, and
        # buffer what comes meanwhile.
        self._busy = True
        self._finisher = asyncio.get_running_loop().create_task(
            self._finish(coro, suspended_on), name=f"tryvoha-{self.kind}-drain"
        )

    async def _finish(self, coro: Generator[Any, Any, None], suspended_on: Any) -> None:
        try:
            await _Resumed(coro, suspended_on)
            await self._drain()
        except Exception:
            self.end(EndReason.GONE)
        finally:
            self._finisher = None
            self.release()

    async def _drain(self) -> None:
        """Send the buffer, then the last message if the stream was ended meanwhile."""
        while self._pending and not self.closed:
            batch = [message for _, message in self._pending]
            self._pending = []
            for message in self.coalesce(batch):
                await self._send(message)
        if self._ending is not None:
            message, self._ending = self._ending, None
            await self._send(message)

    # -- owning the connection for a catch-up --------------------------------------------

    async def acquire(self) -> None:
        """Wait until no send is in flight, then own the connection until `release()`."""
        while self._busy:
            waiter = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter
        self._busy = True

    async def say(self, messages: list[Message]) -> None:
        """Send messages of the connection's own (not events), in order with the events."""
        await self.acquire()
        try:
            await self.send_now(messages)
            await self._drain()
        except Exception:
            self.end(EndReason.GONE)
        finally:
            self.release()

    async def send_now(self, messages: list[Message]) -> None:
        """Send while owning the connection (after `acquire()`)."""
        if self.closed:
            return
        try:
            for message in self.coalesce(messages):
                await self._send(message)
        except Exception:
            self.end(EndReason.GONE)

    async def go_live(self, cursor: int) -> None:
        """
        Send what the hub buffered after *cursor*, then let it write directly; releases.
        """
        try:
            while self._pending and not self.closed:
                fresh = [(seq, m) for seq, m in self._pending if seq > cursor]
                self._pending = []
                if fresh:
                    cursor = fresh[-1][0]
                    await self.send_now([message for _, message in fresh])
            # No await since the buffer was last seen empty: nothing can slip in between.
            self.last_seq = cursor
            self.live = True
            await self._drain()
        except Exception:
            self.end(EndReason.GONE)
        finally:
            self.release()

    def pause(self) -> None:
        """Buffer the hub's events from now on (a catch-up is about to start)."""
        self.live = False

    def first_buffered_seq(self) -> int | None:
        for seq, _ in self._pending:
            if seq:
                return seq
        return None

    def release(self) -> None:
        self._busy = False
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
