"""
The page's static files (`web/static/`), loaded once, and the page itself rendered from
`index.html` with the URLs of this build.

Every static URL carries the fingerprint of the whole bundle (`/static/<fingerprint>/map.js`),
so the JavaScript modules find each other by relative imports and a new release never meets
an old file in a browser's cache.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any

import orjson

from tryvoha.web.assets import Asset, media_type_of

STATIC_PREFIX = "/static"
MAP_PREFIX = "/map"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
"""Nothing from other hosts, no inline script or style: the page works offline by design."""


class StaticBundle:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.template = files.pop("index.html").decode("utf-8")
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name])
        self.fingerprint = digest.hexdigest()
        self.assets = {name: Asset.of(body, media_type_of(name)) for name, body in files.items()}
        self.modules = sorted(name for name in files if name.endswith(".js"))

    @property
    def base_url(self) -> str:
        return f"{STATIC_PREFIX}/{self.fingerprint}"

    def render_page(self, config: dict[str, Any]) -> Asset:
        """`index.html` with this build's URLs and *config* (read by `map.js`)."""
        preloads = "\n".join(
            f'<link rel="modulepreload" href="{self.base_url}/{name}">'
            for name in self.modules
            if name != "map.js"
        )
        # `</` cannot occur in orjson output except inside strings; escape it there too.
        config_json = orjson.dumps(config).decode().replace("</", "<\\/")
        page = (
            self.template.replace("{{static}}", self.base_url)
            .replace("{{preloads}}", preloads)
            .replace("{{config}}", config_json)
        )
        return Asset.of(page.encode("utf-8"), "text/html; charset=utf-8")


@functools.cache
def load_bundle() -> StaticBundle:
    root = resources.files("tryvoha.web").joinpath("static")
    files = {
        entry.name: entry.read_bytes()
        for entry in root.iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    }
    return StaticBundle(files)
