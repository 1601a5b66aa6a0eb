"""
Response bodies rendered once per log version, each with its own `Last-Modified`.

HTTP dates have whole seconds, and several events can land in one second. A client that
fetched between two of them would send back the same date and be told "not modified"
forever. So each key's `Last-Modified` moves only when its bytes change, and then always
by at least one second: two different bodies of one key never share a date.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tryvoha.compat.answers import Answer
from tryvoha.compat.formats import http_date, parse_http_date, whole_seconds

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Rendered:
    version: int
    body: bytes
    last_modified: datetime
    """Whole seconds, UTC."""
    last_modified_header: str
    ok: Answer = field(init=False, repr=False, compare=False)
    not_modified: Answer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = (("Last-Modified", self.last_modified_header), ("Cache-Control", "no-cache"))
        object.__setattr__(self, "ok", Answer(200, self.body, headers))
        object.__setattr__(self, "not_modified", Answer(304, b"", headers))

    def answer(self, if_modified_since: str | None) -> Answer:
        """200 with the body, or 304 when the client's copy is still this one."""
        return self.not_modified if self.not_modified_since(if_modified_since) else self.ok

    def not_modified_since(self, if_modified_since: str | None) -> bool:
        """True when the client's copy (dated *if_modified_since*) is this body."""
        if if_modified_since is None:
            return False
        if if_modified_since == self.last_modified_header:
            return True
        since = parse_http_date(if_modified_since)
        return since is not None and self.last_modified <= since


class BodyCache:
    """
    Rendered bodies by key; `get` renders again only when the log version moved.
    """

    __slots__ = ("_entries", "_max_keys")

    def __init__(self, max_keys: int = 10_000) -> None:
        self._entries: dict[Hashable, Rendered] = {}
        self._max_keys = max_keys

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        key: Hashable,
        version: int,
        changed_at: datetime,
        render: Callable[[], bytes],
        *,
        always: bool = False,
    ) -> Rendered:
        """
        The body of *key* at log *version*, whose last event happened at *changed_at*.

        `always` renders even when the version is unchanged, for bodies that also depend
        on the clock (a history window).
        """
        entry = self._entries.get(key)
        if entry is not None and entry.version == version and not always:
            return entry
        body = render()
        if entry is not None and entry.body == body:
            fresh = Rendered(version, body, entry.last_modified, entry.last_modified_header)
        else:
            stamp = whole_seconds(changed_at)
            if entry is not None and stamp <= entry.last_modified:
                stamp = entry.last_modified + _SECOND
            fresh = Rendered(version, body, stamp, http_date(stamp))
        if entry is None and len(self._entries) >= self._max_keys:
            self._entries.clear()
        self._entries[key] = fresh
        return fresh
