"""
The page's own logic, run in Chromium against the server's answers: region status from the
alerts (the same rules as `tryvoha.core.status`), name search, Kyiv time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.web.browser import READY, live_server
from tests.web.clock import SettableClock
from tryvoha.core.model import Alert, AlertLevel, AlertType
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.status import status_map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOW = datetime(2025, 7, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def page(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with live_server(tmp_path_factory.mktemp("logic"), SettableClock(NOW)) as server:
        context = browser.new_context(locale="en-GB")
        opened = context.new_page()
        opened.goto(server.url + "/?lang=en")
        opened.wait_for_selector(READY, state="attached")
        yield opened
        context.close()


def module_call(page: Page, module: str, function: str, *args: Any) -> Any:
    """Call an exported function of one of the page's modules with JSON arguments."""
    return page.evaluate(
        """async ([module, name, args]) => {
            const base = document.querySelector('script[type="module"]').src.replace(/[^/]+$/, '');
            const found = await import(base + module);
            return found[name](...args);
        }""",
        [module, function, list(args)],
    )


def random_alerts(registry: RegionRegistry, rng: random.Random, count: int) -> list[Alert]:
    ids = registry.ids()
    chosen = rng.sample(ids, count)
    return [
        Alert(
            id=index + 1,
            region_id=region_id,
            type=rng.choice([AlertType.AIR_RAID, AlertType.ARTILLERY_SHELLING]),
            level=rng.choice(list(AlertLevel)),
            started_at=NOW,
            updated_at=NOW,
            source="test",
        )
        for index, region_id in enumerate(chosen)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_status_in_the_browser_is_the_servers(
    page: Page, registry: RegionRegistry, seed: int
) -> None:
    rng = random.Random(seed)
    alerts = random_alerts(registry, rng, rng.choice([1, 3, 10, 40]))
    wire = [
        {"region_id": a.region_id, "type": a.type.value, "level": a.level.value} for a in alerts
    ]
    shown = page.evaluate(
        """async (alerts) => {
            const base = document.querySelector('script[type="module"]').src.replace(/[^/]+$/, '');
            const { statusMap } = await import(base + 'status.js');
            const found = statusMap(window.tryvoha.app.regions, alerts, 'air_raid');
            return Object.fromEntries([...found].map(([id, s]) => [id, [s.status, s.level]]));
        }""",
        wire,
    )
    expected = {
        rid: [status.value, level.value]
        for rid, (status, level) in status_map(registry, alerts, AlertType.AIR_RAID).items()
    }
    assert shown == expected


@pytest.mark.parametrize(
    ("text", "first_id"),
    [
        ("Odesa Oblast", "18"),
        ("одеська область", "18"),
        ("Київська", "14"),
        ("Kyiv", "31"),
        ("31", "31"),
        ("м. Київ", "31"),
    ],
)
def test_search_finds_the_place_first(page: Page, text: str, first_id: str) -> None:
    found = page.evaluate(
        "(text) => window.tryvoha.app.regions.search(text).map((r) => r.id)", text
    )
    assert found[0] == first_id


def test_search_ignores_apostrophes(page: Page, registry: RegionRegistry) -> None:
    region = registry.search("Слов’янськ")[0]
    found = page.evaluate(
        "(text) => window.tryvoha.app.regions.search(text).map((r) => r.id)", "Словянськ"
    )
    assert region.id in found


@pytest.mark.parametrize(
    ("kyiv", "utc"),
    [
        pytest.param("2025-07-04T01:30", "2025-07-03T22:30:00.000Z", id="summer"),
        pytest.param("2025-01-15T12:00", "2025-01-15T10:00:00.000Z", id="winter"),
        pytest.param("2025-03-30T04:00", "2025-03-30T01:00:00.000Z", id="after-the-change"),
    ],
)
def test_kyiv_time_inputs(page: Page, kyiv: str, utc: str) -> None:
    ms = module_call(page, "time.js", "fromKyivInput", kyiv)
    assert module_call(page, "time.js", "toIso", ms) == utc
    assert module_call(page, "time.js", "toKyivInput", ms) == kyiv


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0 min"),
        (30_000, "<1 min"),
        (7 * 60_000, "7 min"),
        (3_600_000 + 5 * 60_000, "1 h 05 min"),
        (2 * 86_400_000 + 3 * 3_600_000, "2 d 3 h"),
    ],
)
def test_durations_read_well(page: Page, ms: int, text: str) -> None:
    assert module_call(page, "time.js", "duration", ms) == text


def test_a_full_name_finds_what_the_server_finds(page: Page, registry: RegionRegistry) -> None:
    page.focus("#search")
    page.evaluate("async () => { await window.tryvoha.app.aliases; }")
    rng = random.Random(7)
    names = [
        rng.choice([region.name_uk, region.name_en]) for region in rng.sample(list(registry), 40)
    ]
    shown = page.evaluate(
        "(names) => names.map((n) => window.tryvoha.app.regions.search(n)[0]?.id ?? null)", names
    )
    assert shown == [registry.search(name)[0].id for name in names]


def test_old_names_are_found_once_someone_searches(page: Page, registry: RegionRegistry) -> None:
    page.focus("#search")
    page.evaluate("async () => { await window.tryvoha.app.aliases; }")
    old = next(r for r in registry if r.level.value == "raion" and registry.aliases(r.id))
    alias = registry.aliases(old.id)[0]
    found = page.evaluate(
        "(text) => window.tryvoha.app.regions.search(text).map((r) => r.id)", alias
    )
    assert old.id in found
