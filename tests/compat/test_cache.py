"""
Bodies rendered once per log version, and Last-Modified dates that never lie.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tryvoha.compat.cache import BodyCache

T0 = datetime(2025, 7, 3, 21, 22, 0, 400000, tzinfo=UTC)


class Renderer:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.body


def test_renders_once_per_version() -> None:
    cache = BodyCache()
    render = Renderer(b"a")
    first = cache.get("k", 1, T0, render)
    second = cache.get("k", 1, T0, render)
    assert render.calls == 1
    assert second is first
    assert first.last_modified_header == "Thu, 03 Jul 2025 21:22:00 GMT"
    cache.get("k", 2, T0, render)
    assert render.calls == 2


def test_same_bytes_keep_their_date() -> None:
    cache = BodyCache()
    first = cache.get("k", 1, T0, Renderer(b"a"))
    later = cache.get("k", 5, T0 + timedelta(minutes=5), Renderer(b"a"))
    assert later.last_modified == first.last_modified
    assert later.version == 5


def test_a_change_within_the_same_second_still_moves_the_date() -> None:
    cache = BodyCache()
    first = cache.get("k", 1, T0, Renderer(b"a"))
    second = cache.get("k", 2, T0 + timedelta(milliseconds=300), Renderer(b"b"))
    assert second.last_modified == first.last_modified + timedelta(seconds=1)
    assert not second.not_modified_since(first.last_modified_header)
    assert second.not_modified_since(second.last_modified_header)


def test_a_change_takes_the_time_of_the_last_event() -> None:
    cache = BodyCache()
    cache.get("k", 1, T0, Renderer(b"a"))
    later = cache.get("k", 2, T0 + timedelta(minutes=3), Renderer(b"b"))
    assert later.last_modified == (T0 + timedelta(minutes=3)).replace(microsecond=0)


def test_always_renders_again_for_clock_dependent_bodies() -> None:
    cache = BodyCache()
    render = Renderer(b"a")
    cache.get("k", 1, T0, render, always=True)
    cache.get("k", 1, T0, render, always=True)
    assert render.calls == 2


def test_not_modified_follows_http_date_semantics() -> None:
    rendered = BodyCache().get("k", 1, T0, Renderer(b"a"))
    assert rendered.not_modified_since("Thu, 03 Jul 2025 21:22:00 GMT")
    assert rendered.not_modified_since("Thu, 03 Jul 2025 22:00:00 GMT")
    assert not rendered.not_modified_since("Thu, 03 Jul 2025 21:21:59 GMT")
    assert not rendered.not_modified_since("not a date")
    assert not rendered.not_modified_since(None)


def test_keys_are_bounded() -> None:
    cache = BodyCache(max_keys=3)
    for n in range(10):
        cache.get(n, 1, T0, Renderer(b"x"))
    assert len(cache) <= 3
