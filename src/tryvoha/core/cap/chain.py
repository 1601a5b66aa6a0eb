"""
The chain of messages of one alert: which messages exist, what they refer to, their names.

Every event of the log becomes one message: a raise is an `Alert`, a change an `Update`, a
lift a `Cancel`. An air raid has no known end, so every message expires `LIFETIME` after it
is sent, and an alert still in force is re-issued as an `Update` (a *renewal*) every
`RENEW_EVERY`.

Identifiers are `<sender>:<sent>-<seq>` for an event's own message and
`<sender>:<sent>-<seq>-<k>` for its k-th renewal, `<sent>` being `YYYYMMDDThhmmss` (UTC).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tryvoha.core.cap.model import CapError, MsgType, cap_time
from tryvoha.core.model import Event, EventKind

LIFETIME = timedelta(hours=6)
"""How long an `Alert` or `Update` stays in force after it is sent."""
RENEW_EVERY = timedelta(hours=3)
"""An alert still in force is re-issued this often, so a current message never has less
than `LIFETIME - RENEW_EVERY` left."""
ALL_CLEAR_LIFETIME = timedelta(hours=1)
"""How long a `Cancel` stays in force (and in the feed) after the lift."""

# Bounded digits: a sequence number fits a 64-bit column, a renewal a few centuries.
_IDENTIFIER = re.compile(
    r"^(?P<stamp>\d{8}T\d{6})-(?P<seq>[1-9]\d{0,17})(?:-(?P<renewal>[1-9]\d{0,5}))?$"
)


def _stamp(value: datetime) -> str:
    return cap_time(value).strftime("%Y%m%dT%H%M%S")


@dataclass(frozen=True, slots=True)
class Issue:
    """
    One message of an alert's chain: *event*'s own message, or its *renewal*-th renewal.
    """

    event: Event
    renewal: int = 0

    @property
    def at(self) -> datetime:
        """The exact moment it was issued (`sent` is this, cut to seconds)."""
        return self.event.at + self.renewal * RENEW_EVERY

    @property
    def sent(self) -> datetime:
        return cap_time(self.at)

    @property
    def msg_type(self) -> MsgType:
        if self.renewal:
            return MsgType.UPDATE
        return _MSG_TYPES[self.event.kind]

    @property
    def expires(self) -> datetime:
        if self.msg_type is MsgType.CANCEL:
            return self.sent + ALL_CLEAR_LIFETIME
        return self.sent + LIFETIME

    def identifier(self, sender: str) -> str:
        suffix = f"-{self.renewal}" if self.renewal else ""
        return f"{sender}:{_stamp(self.at)}-{self.event.seq}{suffix}"


_MSG_TYPES = {
    EventKind.RAISED: MsgType.ALERT,
    EventKind.UPDATED: MsgType.UPDATE,
    EventKind.LIFTED: MsgType.CANCEL,
}


@dataclass(frozen=True, slots=True)
class MessageId:
    """An identifier taken apart: which event, which renewal, and the stamp it carries."""

    seq: int
    renewal: int
    stamp: str


def parse_identifier(sender: str, identifier: str) -> MessageId | None:
    """The parts of one of *sender*'s identifiers; None when it is not one."""
    prefix, colon, rest = identifier.rpartition(":")
    if not colon or prefix != sender:
        return None
    found = _IDENTIFIER.match(rest)
    if found is None:
        return None
    return MessageId(int(found["seq"]), int(found["renewal"] or 0), found["stamp"])


def check_chain(chain: Sequence[Event]) -> None:
    """Raise `CapError` unless *chain* is the events of one alert, in order, from its raise."""
    if not chain or chain[0].kind is not EventKind.RAISED or chain[0].seq != chain[0].alert.id:
        raise CapError("an alert's chain starts with the event that raised it")
    for earlier, later in itertools.pairwise(chain):
        if later.alert.id != chain[0].alert.id or later.seq <= earlier.seq:
            raise CapError(f"event {later.seq} does not continue the chain of alert {chain[0].seq}")
        if earlier.kind is EventKind.LIFTED:
            raise CapError(f"event {later.seq} follows the lift of alert {chain[0].seq}")


def current_issue(chain: Sequence[Event], now: datetime) -> Issue:
    """The newest message of the chain as of *now*."""
    last = chain[-1]
    if last.kind is EventKind.LIFTED or now <= last.at:
        return Issue(last)
    return Issue(last, (now - last.at) // RENEW_EVERY)


def is_issued(chain: Sequence[Event], issue: Issue, now: datetime) -> bool:
    """
    Whether *issue* is a message of *chain* that exists by *now*: a renewal only while
    its event is the chain's newest and the renewal time has come.
    """
    position = next((i for i, e in enumerate(chain) if e.seq == issue.event.seq), None)
    if position is None or chain[position] != issue.event or issue.renewal < 0:
        return False
    if issue.renewal == 0:
        return True
    if issue.event.kind is EventKind.LIFTED or issue.at > now:
        return False
    following = chain[position + 1] if position + 1 < len(chain) else None
    return following is None or issue.at < following.at


def earlier_issues(chain: Sequence[Event], issue: Issue) -> list[Issue]:
    """
    What *issue* refers to: every earlier event's message, and every earlier renewal still
    in force when *issue* is sent (older renewals only repeat what they renewed).
    """
    found: list[Issue] = []
    for position, event in enumerate(chain):
        if event.seq > issue.event.seq:
            break
        if event.seq < issue.event.seq or issue.renewal:
            found.append(Issue(event))
        if event.kind is EventKind.LIFTED:
            continue
        if event.seq == issue.event.seq:
            last_renewal = issue.renewal - 1
        else:
            # Renewals come strictly before the next event: ceil(gap / RENEW_EVERY) - 1.
            gap = chain[position + 1].at - event.at
            last_renewal = -(-gap // RENEW_EVERY) - 1
        first_live = max(1, (issue.sent - LIFETIME - event.at) // RENEW_EVERY)
        for renewal in range(first_live, last_renewal + 1):
            earlier = Issue(event, renewal)
            if earlier.expires > issue.sent:
                found.append(earlier)
    return found
