"""
Which webhook URLs the server may call: a guard against being turned on its own network.

A URL must be http(s) with a host. Every address its host resolves to is checked, so a name
pointing inside is caught as surely as a literal address:

- link-local (169.254.0.0/16, fe80::/10) and cloud metadata endpoints (169.254.169.254,
  fd00:ec2::254, 100.100.100.200, metadata.google.internal) are refused unless
  `allow_link_local` is set;
- loopback, private (RFC 1918, fc00::/7), shared (100.64.0.0/10) and every other
  non-global address are refused unless `allow_private` is set;
- multicast and unspecified addresses (0.0.0.0, ::) are always refused.

The dispatcher checks again before every delivery, since DNS answers change. Redirects are
never followed, so a receiver cannot bounce a delivery to a refused address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class RefusedUrl(ValueError):
    """A webhook URL the server will not call; the message says why."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allow_private: bool = False
    allow_link_local: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int


async def resolve(host: str, port: int) -> list[str]:
    """The addresses *host* resolves to, by the system resolver."""
    lookup = asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        infos = await asyncio.wait_for(lookup, RESOLVE_TIMEOUT_SECONDS)
    except TimeoutError:
        raise OSError(f"no answer in {RESOLVE_TIMEOUT_SECONDS:g} s") from None
    return [str(info[4][0]) for info in infos]


def parse_target(url: str) -> Target:
    """Check the URL's form; raises `RefusedUrl`."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"url: longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(f"url: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedUrl(f"url: scheme {parts.scheme!r} is not http or https")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise RefusedUrl("url: no host")
    if parts.fragment:
        raise RefusedUrl("url: a fragment is never sent; remove it")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    """Why the server may not call *address* under *policy*, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or address.is_link_local:
        if policy.allow_link_local:
            return None
        return f"{address} is a link-local or metadata address"
    if address.is_multicast or address.is_unspecified:
        return f"{address} is not a unicast address"
    if address.is_global or policy.allow_private:
        return None
    return f"{address} is a loopback or private address"


async def check_url(url: str, policy: UrlPolicy, resolver: Resolver = resolve) -> Target:
    """
    Raise `RefusedUrl` unless *url* is an http(s) URL whose every address *policy* allows.
    """
    target = parse_target(url)
    if target.host in METADATA_HOSTS and not policy.allow_link_local:
        raise RefusedUrl(f"url: {target.host} is a cloud metadata host")
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: Sequence[str] = [str(literal)]
    else:
        try:
            addresses = await resolver(target.host, target.port)
        except OSError as exc:
            raise RefusedUrl(f"url: cannot resolve {target.host} ({exc})") from None
        if not addresses:
            raise RefusedUrl(f"url: {target.host} has no address")
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]), policy)
        if reason is not None:
            raise RefusedUrl(f"url: {target.host} refused: {reason}")
    return target
