"""
Benchmark of the live map's first load: bytes on the wire and time to first render.

    .venv/bin/python bench/bench_map.py [--rounds 7] [--alerts 60]

A real `tryvoha serve` on loopback with a fresh SQLite database and some active alerts,
and Debian's Chromium (installed with apt when missing and run as root) loading `/` with an
empty cache, once right after the server started (the map files are built on that first
visit) and then `--rounds` times more. Prints, as Markdown: bytes transferred (gzip, as
Chromium counts them, by kind), time to the first drawn map (oblasts and raions coloured:
the `tryvoha:first-render` mark), to every level drawn (`tryvoha:all-drawn`), and a revisit
with a warm cache. Targets (issue 7): under 1.5 MB transferred, first render under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from bench.common import cli, ensure_debian_packages, machine, tryvoha_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BYTES_TARGET = 1_500_000
FIRST_RENDER_TARGET_MS = 1000
READY = "html[data-shapes='all'][data-live]"


def raise_alerts(url: str, token: str, count: int) -> None:
    """Oblasts, raions and hromadas under alert, as on a busy night."""
    regions = httpx.get(f"{url}/api/regions", timeout=30).json()["regions"]
    by_level: dict[str, list[str]] = {}
    for region in regions:
        by_level.setdefault(region["level"], []).append(region["id"])
    chosen = by_level["oblast"][: count // 6] + by_level["raion"][::9][: count // 3]
    chosen += by_level["hromada"][::23][: count - len(chosen)]
    headers = {"Authorization": f"Bearer {token}"}
    for start in range(0, len(chosen), 20):
        body = {"regions": chosen[start : start + 20], "type": "air_raid"}
        httpx.post(f"{url}/api/alerts", json=body, headers=headers, timeout=30).raise_for_status()


def visit(browser: Browser, url: str, revisit: bool = False) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=30_000)
        page.wait_for_timeout(300)
        if revisit:
            page.reload()
            page.wait_for_selector(READY, state="attached", timeout=30_000)
            page.wait_for_timeout(300)
        figures: dict[str, float] = page.evaluate(
            """() => {
                const sizes = {document: 0, script: 0, style: 0, data: 0, other: 0};
                const entries = [...performance.getEntriesByType('navigation'),
                                 ...performance.getEntriesByType('resource')];
                for (const e of entries) {
                    const kind = e.entryType === 'navigation' ? 'document'
                        : e.name.includes('/map/') || e.name.includes('/api/') ? 'data'
                        : e.name.endsWith('.js') ? 'script'
                        : e.name.endsWith('.css') ? 'style' : 'other';
                    sizes[kind] += e.transferSize;
                }
                const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
                return {...sizes,
                        total: Object.values(sizes).reduce((a, b) => a + b, 0),
                        first_render_ms: mark('tryvoha:first-render'),
                        all_drawn_ms: mark('tryvoha:all-drawn')};
            }"""
        )
        return figures
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--alerts", type=int, default=60)
    args = parser.parse_args()
    ensure_debian_packages("chromium")

    with tempfile.TemporaryDirectory(prefix="tryvoha-map-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'map.db'}"
        token = cli("token", "create", "--name", "bench", "--role", "operator", db=db)
        with tryvoha_server(db) as url, sync_playwright() as playwright:
            raise_alerts(url, token, args.alerts)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                cold_server = visit(browser, url + "/")
                rounds = [visit(browser, url + "/") for _ in range(args.rounds)]
                warm_cache = visit(browser, url + "/", revisit=True)
            finally:
                browser.close()

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"Machine: {machine()}; Chromium headless, 1280×800, loopback.\n")
    print("| first load, empty cache | bytes on the wire |")
    print("|---|---:|")
    for key in ("document", "script", "style", "data", "other", "total"):
        print(f"| {key} | {median(key):,.0f} |")
    print(f"\nTarget: under {BYTES_TARGET:,} bytes.\n")
    print("| | first render (ms) | every level drawn (ms) |")
    print("|---|---:|---:|")
    print(
        f"| first visit after the server started | {cold_server['first_render_ms']:.0f} "
        f"| {cold_server['all_drawn_ms']:.0f} |"
    )
    print(
        f"| median of {args.rounds} visits, empty cache | {median('first_render_ms'):.0f} "
        f"| {median('all_drawn_ms'):.0f} |"
    )
    worst = max(r["first_render_ms"] for r in rounds)
    worst_all = max(r["all_drawn_ms"] for r in rounds)
    print(f"| worst of {args.rounds} | {worst:.0f} | {worst_all:.0f} |")
    print(
        f"| revisit, warm cache | {warm_cache['first_render_ms']:.0f} "
        f"| {warm_cache['all_drawn_ms']:.0f} |"
    )
    print(f"\nRevisit bytes on the wire: {warm_cache['total']:,.0f}.")
    print(f"Target: first render under {FIRST_RENDER_TARGET_MS} ms.")
    ok = median("total") < BYTES_TARGET and median("first_render_ms") < FIRST_RENDER_TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
