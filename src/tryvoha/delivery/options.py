"""
Delivery settings, read from `Settings` with `TRYVOHA_*` environment variables as fallback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from tryvoha.delivery.retry import RetryPolicy
from tryvoha.delivery.urlguard import UrlPolicy

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})


def parse_bool(text: str) -> bool:
    return text.strip().lower() in _TRUE


def setting(settings: Any, name: str, default: T, parse: Callable[[str], T]) -> T:
    """`settings.<name>` when it has one, else `TRYVOHA_<NAME>`, else *default*."""
    value = getattr(settings, name, None)
    if value is not None:
        return value  # type: ignore[no-any-return]
    raw = os.environ.get(f"TRYVOHA_{name.upper()}")
    return default if raw is None or not raw.strip() else parse(raw)


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 64
    """Requests in flight at once, over all subscriptions (each has at most one)."""
    timeout_seconds: float = 10.0
    max_per_owner: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> WebhookOptions:
        return cls(
            url_policy=UrlPolicy(
                allow_private=setting(settings, "webhook_allow_private", False, parse_bool),
                allow_link_local=setting(settings, "webhook_allow_link_local", False, parse_bool),
            ),
            retry=RetryPolicy(
                base_seconds=setting(settings, "webhook_retry_base_seconds", 1.0, float),
                cap_seconds=setting(settings, "webhook_retry_cap_seconds", 600.0, float),
                budget=timedelta(hours=setting(settings, "webhook_retry_hours", 24.0, float)),
            ),
            concurrency=max(1, setting(settings, "webhook_concurrency", 64, int)),
            timeout_seconds=setting(settings, "webhook_timeout_seconds", 10.0, float),
            max_per_owner=setting(settings, "webhook_max_per_owner", 100, int),
        )


@dataclass(frozen=True, slots=True)
class MqttOptions:
    url: str | None = None
    topic_prefix: str = "tryvoha"
    reconnect_base_seconds: float = 1.0
    reconnect_cap_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> MqttOptions:
        url = setting(settings, "mqtt_url", "", str).strip()
        prefix = setting(settings, "mqtt_topic_prefix", "tryvoha", str).strip().strip("/")
        return cls(url=url or None, topic_prefix=prefix or "tryvoha")
