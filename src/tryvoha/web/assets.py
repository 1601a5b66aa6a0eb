"""
Files served to browsers: compressed once, validated with ETags, cached by fingerprint.

An `Asset` holds its bytes, their gzip form when that is smaller, and a strong ETag for
each form. `respond()` picks the form the request accepts, answers `If-None-Match` with
304 and sets the caching policy: URLs carrying a fingerprint are immutable for a year;
everything else is revalidated on every use.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tryvoha.api.middleware import etag_matches

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_MIN_GZIP = 512
"""Smaller bodies gain nothing from compression."""

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    digest: str
    gzipped: bytes | None = None

    @classmethod
    def of(cls, body: bytes, media_type: str) -> Asset:
        digest = hashlib.blake2b(body, digest_size=10).hexdigest()
        gzipped = None
        if len(body) >= _MIN_GZIP:
            # mtime=0: the same bytes on every node, so the ETag is the same everywhere.
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(body) else None
        return cls(body, media_type, digest, gzipped)

    def etag(self, compressed: bool) -> str:
        return f'"{self.digest}-gz"' if compressed else f'"{self.digest}"'


def media_type_of(name: str) -> str:
    suffix = name[name.rfind(".") :] if "." in name else ""
    return MEDIA_TYPES.get(suffix, "application/octet-stream")


def accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*") and params.replace(" ", "") != "q=0":
            return True
    return False


def respond(
    request: Request,
    asset: Asset,
    cache_control: str,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """
    *asset* as the request wants it: gzip when accepted, 304 when its ETag matches.
    """
    compressed = asset.gzipped is not None and accepts_gzip(request)
    etag = asset.etag(compressed)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        **(extra_headers or {}),
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if compressed:
        assert asset.gzipped is not None
        headers["Content-Encoding"] = "gzip"
        body = asset.gzipped
    else:
        body = asset.body
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=asset.media_type)
    return Response(body, headers=headers, media_type=asset.media_type)
