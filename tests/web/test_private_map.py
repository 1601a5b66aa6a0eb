"""
The live map on a server whose reads are private (`TRYVOHA_PUBLIC_READ=false`): opened as
`/#access_token=<reader token>` it works as on a public server; without a token it says
that one is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from tests.web.browser import DESKTOP, READY, LiveServer, Watched, live_server, post
from tests.web.clock import SettableClock
from tryvoha.core.auth import Role
from tryvoha.tokens import create_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    clock = SettableClock(datetime.now(UTC), running=True)
    with live_server(tmp_path_factory.mktemp("private"), clock, public_read=False) as running:
        yield running


@pytest.fixture
def page_of(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    watched = Watched(context.new_page())
    watched.watch()
    yield watched
    context.close()


def test_a_token_in_the_fragment_opens_the_live_map(server: LiveServer, page_of: Watched) -> None:
    reader = create_token(server.store, name="wall-map", role=Role.READER)
    page = page_of.page
    page.goto(f"{server.url}/?lang=en#access_token={reader}")
    page.wait_for_selector(READY, state="attached", timeout=15_000)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    assert "access_token" not in page.url  # taken out of the address bar at once
    oblast = page.locator('.fill-oblast path[data-id="14"]')
    post(server, "/api/alerts", {"regions": ["14"], "type": "air_raid"})
    expect(oblast).to_have_attribute("data-status", "active", timeout=2000)
    post(server, "/api/alerts/lift", {"regions": ["14"], "type": "air_raid"})
    expect(oblast).to_have_attribute("data-status", "none", timeout=2000)
    # The stream is the only request that carries the token in its URL.
    in_urls = [url for url in page_of.requests if "access_token=" in url]
    assert in_urls and all("/api/stream?" in url for url in in_urls)
    assert page_of.errors == []


def test_without_a_token_the_page_says_one_is_needed(server: LiveServer, page_of: Watched) -> None:
    page_of.allow(r"401")
    page_of.page.goto(f"{server.url}/?lang=en")
    expect(page_of.page.locator("#conn")).to_have_attribute(
        "data-state", "noaccess", timeout=15_000
    )
    expect(page_of.page.locator("#conn .conn-text")).to_have_text("Token required")
    assert page_of.unexpected_errors() == []
