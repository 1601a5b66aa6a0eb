"""
The live map in a real browser: Debian's Chromium, headless, against a real server on
127.0.0.1. Every test fails on a console error and leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.web.browser import DESKTOP, PHONE, READY, LiveServer, Watched, live_server, post
from tests.web.clock import SettableClock
from tests.web.conftest import KHRESHCHATYK_POINT, KYIV_CENTRE, KYIV_METRO, MAIDAN_POINT
from tryvoha.core.regions import RegionRegistry

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ALERT_FILL = "rgb(213, 94, 0)"
WARNING_FILL = "rgb(240, 228, 66)"
MAKARIV = (50.4775, 29.7554)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    shelters = KYIV_METRO if KYIV_METRO.is_file() else KYIV_CENTRE
    clock = SettableClock(datetime.now(UTC), running=True)
    with live_server(tmp_path_factory.mktemp("map"), clock, shelters) as running:
        yield running


OpenPage = Callable[..., Watched]


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[OpenPage]:
    opened: list[Watched] = []
    contexts = []

    def open_(
        server: LiveServer,
        path: str = "/?lang=en",
        viewport: ViewportSize = DESKTOP,
        **options: Any,
    ) -> Watched:
        context = browser.new_context(viewport=viewport, locale="en-GB", **options)
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.watch()
        watched.page.goto(server.url + path)
        watched.page.wait_for_selector(READY, state="attached", timeout=15_000)
        opened.append(watched)
        return watched

    yield open_
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for index, watched in enumerate(opened):
        watched.shot(name if index == 0 else f"{name}-{index}")
    errors = [e for w in opened for e in w.unexpected_errors()]
    foreign = [u for w in opened for u in w.requests if not u.startswith("http://127.0.0.1:")]
    for context in contexts:
        context.close()
    assert errors == [], "the page logged errors"
    assert foreign == [], "the page reached for another host"


def fill(watched: Watched, level: str, region_id: str) -> Any:
    return watched.page.locator(f'.fill-{level} path[data-id="{region_id}"]')


def click_at(watched: Watched, lat: float, lon: float) -> None:
    point = watched.page.evaluate(f"tryvoha.screenPoint({lat}, {lon})")
    watched.page.mouse.click(point["x"], point["y"])


# -- the page -----------------------------------------------------------------------------


def test_the_page_loads_and_draws_every_region(server: LiveServer, open_page: OpenPage) -> None:
    watched = open_page(server)
    page = watched.page
    assert page.locator(".fill-oblast path").count() == 27
    assert page.locator(".fill-raion path").count() == 136
    assert page.locator(".fill-hromada path").count() > 1300
    assert page.locator('.lines-oblast path[role="button"]').count() == 27
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#legend li")).to_have_count(4)
    assert page.evaluate("performance.getEntriesByName('tryvoha:first-render').length") == 1
    assert page.title() == "Tryvoha · air-raid alert map"


def test_a_raise_turns_the_region_red_within_two_seconds_and_a_lift_clears_it(
    server: LiveServer, open_page: OpenPage, registry: RegionRegistry
) -> None:
    watched = open_page(server)
    page = watched.page
    oblast = fill(watched, "oblast", "14")
    location = registry.locate(*MAKARIV)
    assert location is not None and location.hromada is not None
    hromada = fill(watched, "hromada", location.hromada.id)
    expect(oblast).to_have_attribute("data-status", "none")

    post(server, "/api/alerts", {"regions": ["14"], "type": "air_raid"})
    expect(oblast).to_have_attribute("data-status", "active", timeout=2000)
    expect(oblast).to_have_attribute("data-level", "alert")
    expect(hromada).to_have_attribute("data-status", "active")
    assert oblast.evaluate("el => getComputedStyle(el).fill") == ALERT_FILL
    expect(page.locator("#alerts .name")).to_have_text(["Kyiv Oblast"])
    expect(page.locator("#alerts-count")).to_have_text("1")
    watched.shot("live-kyiv-oblast-raised")

    post(server, "/api/alerts/lift", {"regions": ["14"], "type": "air_raid"})
    expect(oblast).to_have_attribute("data-status", "none", timeout=2000)
    expect(hromada).to_have_attribute("data-status", "none")
    expect(page.locator("#alerts .name")).to_have_count(0)


def test_warnings_are_yellow_and_a_hromada_alert_makes_its_oblast_partial(
    server: LiveServer, open_page: OpenPage
) -> None:
    watched = open_page(server)
    post(server, "/api/alerts", {"regions": ["19"], "type": "air_raid", "level": "warning"})
    post(server, "/api/alerts", {"regions": ["564"], "type": "air_raid"})
    poltava = fill(watched, "oblast", "19")
    expect(poltava).to_have_attribute("data-level", "warning", timeout=2000)
    assert poltava.evaluate("el => getComputedStyle(el).fill") == WARNING_FILL
    zaporizhzhia = fill(watched, "oblast", "12")
    expect(zaporizhzhia).to_have_attribute("data-status", "partial", timeout=2000)
    assert "url(" in zaporizhzhia.evaluate("el => getComputedStyle(el).fill")
    expect(fill(watched, "hromada", "564")).to_have_attribute("data-status", "active")
    watched.shot("live-warning-and-partial")
    post(server, "/api/alerts/lift", {"regions": ["19", "564"], "type": "air_raid"})
    expect(zaporizhzhia).to_have_attribute("data-status", "none", timeout=2000)
    expect(poltava).to_have_attribute("data-status", "none")


def test_the_page_resumes_after_the_server_drops_the_stream(
    server: LiveServer, open_page: OpenPage
) -> None:
    watched = open_page(server)
    # The browser logs its failed reconnection attempts while the server is down.
    watched.allow(r"ERR_CONNECTION_REFUSED|/api/stream")
    page = watched.page
    post(server, "/api/alerts", {"regions": ["22"], "type": "air_raid"})
    expect(fill(watched, "oblast", "22")).to_have_attribute("data-status", "active", timeout=2000)

    server.stop()
    expect(page.locator("#conn")).not_to_have_attribute("data-state", "live", timeout=5000)
    server.serve()
    post(server, "/api/alerts", {"regions": ["20"], "type": "air_raid"})

    expect(fill(watched, "oblast", "20")).to_have_attribute("data-status", "active", timeout=10_000)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(fill(watched, "oblast", "22")).to_have_attribute("data-status", "active")
    # The snapshot after the reconnect replaced the set: nothing is listed twice.
    expect(page.locator("#alerts .name")).to_have_text(["Sumy Oblast", "Kharkiv Oblast"])
    post(server, "/api/alerts/lift", {"regions": ["20", "22"], "type": "air_raid"})
    expect(page.locator("#alerts .name")).to_have_count(0, timeout=2000)


# -- the region panel -----------------------------------------------------------------------


def test_the_region_panel_names_the_place_clicked(
    server: LiveServer, open_page: OpenPage, registry: RegionRegistry
) -> None:
    watched = open_page(server)
    page = watched.page
    location = registry.locate(*MAKARIV)
    assert location is not None and location.hromada is not None and location.raion is not None
    post(server, "/api/alerts", {"regions": ["14"], "type": "air_raid"})
    expect(fill(watched, "oblast", "14")).to_have_attribute("data-status", "active", timeout=2000)

    click_at(watched, *MAKARIV)
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(location.hromada.name_en)
    expect(page.locator("#panel-subtitle")).to_have_text(location.hromada.name_uk)
    expect(page.locator("#panel-path button")).to_have_text(
        [location.oblast.name_en, location.raion.name_en]
    )
    expect(page.locator("#panel-status .headline")).to_have_text("Alert")
    expect(page.locator("#panel-status .on .link")).to_have_text("Kyiv Oblast")
    expect(page.locator("#panel-history .history li").first).to_contain_text(
        "Air raid · ongoing · Kyiv Oblast"
    )
    watched.shot("panel-en")

    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("#panel-title")).to_have_text(location.hromada.name_uk)
    expect(page.locator("#panel-path button")).to_have_text(
        [location.oblast.name_uk, location.raion.name_uk]
    )
    expect(page.locator("#panel-status .headline")).to_have_text("Тривога")
    watched.shot("panel-uk")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    post(server, "/api/alerts/lift", {"regions": ["14"], "type": "air_raid"})


def test_keyboard_reaches_an_oblast_and_search_finds_a_place(
    server: LiveServer, open_page: OpenPage
) -> None:
    watched = open_page(server)
    page = watched.page
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    poltava = page.locator('.lines-oblast path[data-id="19"]')
    expect(poltava).to_have_attribute("aria-label", "Poltava Oblast: No alert")
    poltava.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_have_text("Poltava Oblast")
    expect(page.locator("#panel-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    expect(poltava).to_be_focused()

    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("Odesa Oblast")
    expect(page.locator("#search-results li").first).to_contain_text("Odesa Oblast")
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_have_text("Odesa Oblast")
    zoom = page.evaluate("tryvoha.app.view.zoom")
    assert zoom > 1.5


def test_buttons_and_regions_have_accessible_names(server: LiveServer, open_page: OpenPage) -> None:
    page = open_page(server).page
    expect(page.locator("#zoom-in")).to_have_accessible_name("Zoom in")
    expect(page.locator("#lang")).to_have_accessible_name("Українська")
    expect(page.locator("#map")).to_have_accessible_name("Map of alerts in Ukraine")
    expect(page.locator("#search")).to_have_attribute("role", "combobox")
    expect(page.locator("#tab-alerts")).to_have_attribute("aria-selected", "true")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, [role="button"], select, input')]
            .filter((el) => el.offsetParent !== null || el instanceof SVGElement)
            .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim()
                || (el.id && document.querySelector(`label[for="${el.id}"]`))))
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []


def test_a_phone_sized_screen(server: LiveServer, open_page: OpenPage) -> None:
    watched = open_page(server, viewport=PHONE, is_mobile=True, has_touch=True)
    page = watched.page
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#map").bounding_box()
    assert box is not None and box["width"] == PHONE["width"] and box["height"] > 250
    for selector in ("#search", "#type", "#lang", "#zoom-in", "#tab-replay"):
        target = page.locator(selector).bounding_box()
        assert target is not None and target["x"] >= 0
        assert target["x"] + target["width"] <= PHONE["width"], selector
        assert target["height"] >= 36, selector
    page.tap("#zoom-in")
    click_at(watched, 48.5, 35.0)
    expect(page.locator("#panel")).to_be_visible()
    panel = page.locator("#panel").bounding_box()
    assert panel is not None and panel["y"] + panel["height"] <= PHONE["height"] + 1
    assert panel["width"] == PHONE["width"]


# -- replay ---------------------------------------------------------------------------------


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def night_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """
    A server whose log holds part of the night of 3–4 July 2025: Kyiv Oblast under alert
    19:00–21:00 UTC, Poltava Oblast warned 20:00–22:00.
    """
    clock = SettableClock(datetime(2025, 7, 3, 19, tzinfo=UTC))
    with live_server(tmp_path_factory.mktemp("night"), clock) as running:
        steps: list[tuple[str, str, dict[str, object]]] = [
            ("2025-07-03T19:00:00", "/api/alerts", {"regions": ["14"]}),
            ("2025-07-03T20:00:00", "/api/alerts", {"regions": ["19"], "level": "warning"}),
            ("2025-07-03T21:00:00", "/api/alerts/lift", {"regions": ["14"]}),
            ("2025-07-03T22:00:00", "/api/alerts/lift", {"regions": ["19"]}),
        ]
        for when, path, body in steps:
            clock.set(datetime.fromisoformat(when).replace(tzinfo=UTC))
            post(running, path, {"type": "air_raid", **body})
        yield running


def test_the_replay_scrubber_shows_the_state_at_a_chosen_time(
    night_server: LiveServer, open_page: OpenPage
) -> None:
    watched = open_page(night_server)
    page = watched.page
    kyiv, poltava = fill(watched, "oblast", "14"), fill(watched, "oblast", "19")
    expect(kyiv).to_have_attribute("data-status", "none")
    page.click("#tab-replay")
    page.click("#replay-night")
    expect(page.locator("#replay-controls")).to_be_visible()
    expect(page.locator("#replay-note")).to_contain_text(
        "2 alerts between 3 Jul, 18:00 and 4 Jul, 09:00"
    )
    scrub = page.locator("#replay-scrub")

    expected = {
        "2025-07-03T19:30:00": ("active", "none"),
        "2025-07-03T20:30:00": ("active", "active"),
        "2025-07-03T21:30:00": ("none", "active"),
        "2025-07-03T22:30:00": ("none", "none"),
    }
    for when, (kyiv_status, poltava_status) in expected.items():
        scrub.fill(str(utc_ms(when)))
        expect(kyiv).to_have_attribute("data-status", kyiv_status)
        expect(poltava).to_have_attribute("data-status", poltava_status)
    scrub.fill(str(utc_ms("2025-07-03T20:30:00")))
    expect(poltava).to_have_attribute("data-level", "warning")
    # Kyiv time is three hours ahead of UTC in July.
    expect(page.locator("#replay-banner")).to_contain_text("3 Jul 2025, 23:30:00")
    expect(page.locator("#alerts-heading")).to_contain_text("23:30:00")
    expect(page.locator("#alerts .name")).to_have_text(["Poltava Oblast", "Kyiv Oblast"])
    watched.shot("replay-night")

    scrub.focus()
    page.keyboard.press("ArrowRight")
    assert int(scrub.input_value()) == utc_ms("2025-07-03T20:31:00")

    page.click("#replay-exit")
    expect(page.locator("#replay-banner")).to_be_hidden()
    expect(poltava).to_have_attribute("data-status", "none")


def test_replay_plays_forward(night_server: LiveServer, open_page: OpenPage) -> None:
    watched = open_page(night_server)
    page = watched.page
    page.click("#tab-replay")
    page.click("#replay-night")
    page.select_option("#replay-speed", "3600")
    page.locator("#replay-scrub").fill(str(utc_ms("2025-07-03T18:59:00")))
    start = int(page.locator("#replay-time").get_attribute("data-ms") or 0)
    page.click("#replay-play")
    expect(fill(watched, "oblast", "14")).to_have_attribute("data-status", "active", timeout=5000)
    page.click("#replay-play")
    assert int(page.locator("#replay-time").get_attribute("data-ms") or 0) > start


def test_the_night_button_falls_back_to_the_log(server: LiveServer, open_page: OpenPage) -> None:
    page = open_page(server).page
    page.click("#tab-replay")
    page.click("#replay-night")
    expect(page.locator("#replay-note")).to_contain_text("does not reach the night of 4 July 2025")
    expect(page.locator("#replay-controls")).to_be_visible()


# -- shelters -------------------------------------------------------------------------------


def test_the_nearest_shelter_to_me_in_kyiv_is_khreshchatyk(
    server: LiveServer, open_page: OpenPage
) -> None:
    lat, lon = KHRESHCHATYK_POINT
    watched = open_page(
        server, geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
    )
    page = watched.page
    page.click("#tab-shelters")
    page.click("#shelters-me")
    names = page.locator("#shelters-result .shelter .name")
    expect(names.first).to_have_text("Khreschatyk")
    expect(page.locator("#shelters-result .shelter .distance").first).to_have_text(
        "51 m · 1 min walk"
    )
    expect(page.locator(".marker-shelter")).to_have_count(5)


def test_the_nearest_shelter_to_a_clicked_point_is_maidan(
    server: LiveServer, open_page: OpenPage
) -> None:
    watched = open_page(server, path="/?lang=uk")
    page = watched.page
    page.fill("#search", "м. Київ")
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_have_text("м. Київ")
    page.keyboard.press("Escape")
    click_at(watched, *MAIDAN_POINT)
    shelters = page.locator("#panel-shelters .shelter .name")
    expect(shelters.first).to_have_text("Майдан Незалежності")
    expect(page.locator("#panel-shelters .shelter .distance").first).to_contain_text("хв пішки")


# -- size and speed -------------------------------------------------------------------------


def test_the_first_load_is_small(server: LiveServer, open_page: OpenPage) -> None:
    """Bytes on the wire, as Chromium counts them (the budget is 1.5 MB)."""
    watched = open_page(server)
    page = watched.page
    page.wait_for_timeout(200)
    total = page.evaluate(
        """() => performance.getEntriesByType('resource')
            .concat(performance.getEntriesByType('navigation'))
            .reduce((sum, entry) => sum + entry.transferSize, 0)"""
    )
    assert 50_000 < total < 1_500_000
