"""
The webhook URL guard: which addresses the server refuses to call.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tryvoha.delivery.urlguard import RefusedUrl, UrlPolicy, check_url

STRICT = UrlPolicy()
PRIVATE = UrlPolicy(allow_private=True)
EVERYTHING = UrlPolicy(allow_private=True, allow_link_local=True)

DNS = {
    "receiver.example": ["93.184.216.34"],
    "inside.example": ["10.1.2.3"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
    "metadata-alias.example": ["169.254.169.254"],
    "v6.example": ["2606:4700::1111"],
    "metadata.google.internal": ["169.254.169.254"],
    "2130706433": ["127.0.0.1"],
}


async def fake_resolve(host: str, port: int) -> Sequence[str]:
    try:
        return DNS[host]
    except KeyError:
        raise OSError(f"unknown host {host}") from None


async def check(url: str, policy: UrlPolicy) -> None:
    await check_url(url, policy, fake_resolve)


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    "url",
    [
        "https://receiver.example/hook",
        "http://receiver.example:8080/a?b=c",
        "https://93.184.216.34/",
        "https://v6.example/",
        "https://[2606:4700::1111]/",
    ],
)
async def test_public_addresses_are_allowed(url: str) -> None:
    await check(url, STRICT)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param(
            "http://169.254.169.254/latest/meta-data/", "link-local or metadata", id="aws"
        ),
        pytest.param(
            "http://metadata.google.internal/computeMetadata/v1/", "metadata host", id="gcp"
        ),
        pytest.param("http://[fd00:ec2::254]/", "link-local or metadata", id="aws-v6"),
        pytest.param("http://100.100.100.200/", "link-local or metadata", id="alibaba"),
        pytest.param("http://[fe80::1]/", "link-local or metadata", id="fe80"),
        pytest.param("http://169.254.10.20/", "link-local or metadata", id="link-local"),
        pytest.param("http://[::ffff:169.254.169.254]/", "link-local or metadata", id="mapped"),
        pytest.param("http://metadata-alias.example/", "link-local or metadata", id="by-name"),
    ],
)
async def test_link_local_and_metadata_are_refused_even_with_private_allowed(
    url: str, reason: str
) -> None:
    with pytest.raises(RefusedUrl, match=reason):
        await check(url, PRIVATE)
    await check(url, EVERYTHING)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://inside.example/",
        "http://mixed.example/",
        pytest.param("http://2130706433/", id="decimal-ipv4-resolves-to-loopback"),
    ],
)
async def test_loopback_and_private_need_the_setting(url: str) -> None:
    with pytest.raises(RefusedUrl, match="loopback or private"):
        await check(url, STRICT)
    await check(url, PRIVATE)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://receiver.example/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://receiver.example/", "scheme"),
        ("receiver.example/hook", "scheme"),
        ("http:///hook", "no host"),
        ("http://receiver.example:99999/", "not a valid URL"),
        ("http://receiver.example/#frag", "fragment"),
        ("http://unknown.example/", "cannot resolve"),
        ("http://0.0.0.0/", "not a unicast"),
        ("http://224.0.0.1/", "not a unicast"),
        ("http://receiver.example/" + "a" * 2048, "longer than"),
    ],
)
async def test_malformed_or_unreachable_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(RefusedUrl, match=reason):
        await check(url, EVERYTHING)


async def test_the_system_resolver_is_used_by_default() -> None:
    with pytest.raises(RefusedUrl, match="loopback or private"):
        await check_url("http://localhost:9/", STRICT)
    await check_url("http://localhost:9/", PRIVATE)
