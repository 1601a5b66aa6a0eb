"""
The real night of 3–4 July 2025 (the bundled oblast-level sirens) through a server whose
clock follows the record: the replay shows, at any moment, exactly the oblasts the record
had under alert. The same scenes make the pictures in docs/map.md; they always go to
test-artifacts/docs/, and with TRYVOHA_UPDATE_DOCS_IMAGES=1 to docs/img/ as well.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_token
from tests.web.browser import ARTIFACTS, DESKTOP, PHONE, READY, LiveServer, live_server, post
from tests.web.clock import SettableClock
from tests.web.conftest import KHRESHCHATYK_POINT, KYIV_CENTRE, KYIV_METRO, ROOT
from tryvoha.core.auth import Role
from tryvoha.core.codec import parse_time

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS_IMAGES = ROOT / "docs" / "img"
UPDATE_DOCS = os.environ.get("TRYVOHA_UPDATE_DOCS_IMAGES") == "1"
MAX_IMAGE_BYTES = 200_000
ENGINE_HROMADA = "1293"  # Kharkiv city and hromada
ENGINE_RAISED = datetime(2025, 7, 4, 1, 10, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    action: str
    region_id: str


def load_night() -> list[Step]:
    """
    The record as raise and lift steps in time order, clipped to the night's window.
    """
    text = resources.files("tryvoha.data").joinpath("nights", "2025-07-04.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    start, end = parse_time(rows[0]["window_start"]), parse_time(rows[0]["window_end"])
    steps = []
    for row in rows:
        steps.append(Step(max(parse_time(row["started_at"]), start), "raise", row["region_id"]))
        if (finished := parse_time(row["finished_at"])) <= end:
            steps.append(Step(finished, "lift", row["region_id"]))
    steps.sort(key=lambda s: (s.at, s.action != "lift"))
    return steps


def active_at(steps: list[Step], moment: datetime) -> set[str]:
    active: set[str] = set()
    for step in steps:
        if step.at > moment:
            break
        if step.action == "raise":
            active.add(step.region_id)
        else:
            active.discard(step.region_id)
    return active


def raise_with_threat(server: LiveServer, token: str) -> None:
    body = {
        "regions": [ENGINE_HROMADA],
        "type": "air_raid",
        "threat": {
            "class": "shahed",
            "expected_arrival": (ENGINE_RAISED + timedelta(minutes=18)).isoformat(),
            "track_id": "night-track-7",
        },
    }
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(server.url + "/api/alerts", json=body, headers=headers, timeout=10)
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, list[Step]]]:
    """
    The record played through the operator API, each step at its own time, with one
    engine alert (and its threat) on Kharkiv; the clock stops at the last step.
    """
    steps = load_night()
    clock = SettableClock(steps[0].at)
    shelters = KYIV_METRO if KYIV_METRO.is_file() else KYIV_CENTRE
    with live_server(tmp_path_factory.mktemp("real-night"), clock, shelters) as server:
        engine = make_token(server.store, "engine", Role.ENGINE)  # type: ignore[arg-type]
        for step in steps:
            if clock() < ENGINE_RAISED <= step.at:
                clock.set(ENGINE_RAISED)
                raise_with_threat(server, engine)
            clock.set(step.at)
            path = "/api/alerts" if step.action == "raise" else "/api/alerts/lift"
            post(server, path, {"regions": [step.region_id], "type": "air_raid"})
        yield server, steps


def open_page(browser: Browser, server: LiveServer, path: str, **options: Any) -> Page:
    context = browser.new_context(locale="en-GB", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + path)
    page.wait_for_selector(READY, state="attached", timeout=15_000)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def close(page: Page) -> None:
    errors = page.errors  # type: ignore[attr-defined]
    page.context.close()
    assert errors == []


def picture(page: Page, name: str) -> Path:
    """A screenshot in a 256-colour palette: small enough for the docs."""
    folder = ARTIFACTS / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        small.save(path, optimize=True)
    assert path.stat().st_size < MAX_IMAGE_BYTES, f"{name}.png is too large for the docs"
    if UPDATE_DOCS:
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / path.name)
    return path


def oblasts_shown_active(page: Page) -> set[str]:
    red = page.locator('.fill-oblast path[data-status="active"]')
    return {red.nth(i).get_attribute("data-id") or "" for i in range(red.count())}


def test_the_night_of_4_july_2025_replays_as_recorded(
    browser: Browser, night: tuple[LiveServer, list[Step]]
) -> None:
    server, steps = night
    page = open_page(browser, server, "/?lang=en", viewport=DESKTOP)
    page.click("#tab-replay")
    page.click("#replay-night")
    expect(page.locator("#replay-controls")).to_be_visible()
    scrub = page.locator("#replay-scrub")
    for moment in ("2025-07-03T16:00:00", "2025-07-03T22:30:00", "2025-07-04T01:00:00"):
        at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
        expected = active_at(steps, at)
        assert expected, f"the record has no alert at {moment}"
        scrub.fill(str(int(at.timestamp() * 1000)))
        expect(page.locator('.fill-oblast path[data-status="active"]')).to_have_count(len(expected))
        assert oblasts_shown_active(page) == expected
    scrub.fill(str(int(datetime(2025, 7, 3, 22, 30, tzinfo=UTC).timestamp() * 1000)))
    picture(page, "map-replay")
    close(page)


def test_the_live_map_on_a_desktop_and_a_phone(
    browser: Browser, night: tuple[LiveServer, list[Step]]
) -> None:
    server, steps = night
    expected = active_at(steps, steps[-1].at)
    page = open_page(browser, server, "/?lang=en", viewport=DESKTOP)
    expect(page.locator('.fill-oblast path[data-status="active"]')).to_have_count(len(expected))
    assert oblasts_shown_active(page) == expected
    # Durations run on the server's clock (stopped at the record's last step), not the
    # browser's: the engine's alert is as old as the night says.
    kharkiv = page.locator(f'#alerts button[data-region="{ENGINE_HROMADA}"] .duration')
    age = steps[-1].at - ENGINE_RAISED
    expect(kharkiv).to_have_text(f"{age.seconds // 3600} h {age.seconds % 3600 // 60:02d} min")
    picture(page, "map-desktop")

    page.locator(f'#alerts button[data-region="{ENGINE_HROMADA}"]').click()
    threat = page.locator("#panel-threat")
    expect(threat).to_contain_text("Attack drones (Shaheds)")
    expect(threat).to_contain_text("Expected arrival: 04:28")
    expect(threat).to_contain_text("Raised by the early-warning engine")
    picture(page, "map-panel")
    close(page)

    phone = open_page(browser, server, "/?lang=uk", viewport=PHONE, is_mobile=True, has_touch=True)
    expect(phone.locator('.fill-oblast path[data-status="active"]')).to_have_count(len(expected))
    picture(phone, "map-phone")
    close(phone)


def test_nearest_shelters_on_a_phone(
    browser: Browser, night: tuple[LiveServer, list[Step]]
) -> None:
    server, _ = night
    lat, lon = KHRESHCHATYK_POINT
    page = open_page(
        browser,
        server,
        "/?lang=uk",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": lat, "longitude": lon},
        permissions=["geolocation"],
    )
    page.click("#tab-shelters")
    page.click("#shelters-me")
    expect(page.locator("#shelters-result .shelter .name").first).to_have_text("Хрещатик")
    page.evaluate("window.scrollTo(0, 0)")
    picture(page, "map-phone-shelters")
    close(page)
