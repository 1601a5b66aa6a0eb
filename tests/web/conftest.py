"""
Shelter data for the map's tests (a small fixture of central Kyiv metro stations, and the
full OpenStreetMap export when the shared data is present) and the browser they share.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.backends import require_shared_file
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tryvoha.shelters.geojson import read_shelters
from tryvoha.shelters.model import Shelter

ROOT = Path(__file__).resolve().parents[2]
KYIV_CENTRE = ROOT / "tests" / "data" / "shelters_kyiv_centre.geojson"
KYIV_METRO = ROOT.parent / "shared" / "data" / "shelters" / "kyiv_metro_stations_osm.geojson"

KHRESHCHATYK_POINT = (50.4474, 30.5223)
MAIDAN_POINT = (50.4501, 30.5234)


@pytest.fixture(scope="session")
def kyiv_centre() -> list[Shelter]:
    return read_shelters(KYIV_CENTRE.read_bytes()).shelters


@pytest.fixture(scope="session")
def kyiv_metro_file() -> Path:
    return require_shared_file(KYIV_METRO)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every browser test; each test opens its own context."""
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
