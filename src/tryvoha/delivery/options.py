"""
Delivery settings, read from `Settings` (that is, from `TRYVOHA_*` environment variables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tryvoha.config import Settings
from tryvoha.delivery.retry import RetryPolicy
from tryvoha.delivery.urlguard import UrlPolicy


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 64
    """Requests in flight at once, over all subscriptions (each has at most one)."""
    timeout_seconds: float = 10.0
    max_per_owner: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookOptions:
        return cls(
            url_policy=UrlPolicy(
                allow_private=settings.webhook_allow_private,
                allow_link_local=settings.webhook_allow_link_local,
            ),
            retry=RetryPolicy(
                base_seconds=settings.webhook_retry_base_seconds,
                cap_seconds=settings.webhook_retry_cap_seconds,
                budget=timedelta(hours=settings.webhook_retry_hours),
            ),
            concurrency=max(1, settings.webhook_concurrency),
            timeout_seconds=settings.webhook_timeout_seconds,
            max_per_owner=settings.webhook_max_per_owner,
        )


@dataclass(frozen=True, slots=True)
class MqttOptions:
    url: str | None = None
    topic_prefix: str = "tryvoha"
    reconnect_base_seconds: float = 1.0
    reconnect_cap_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MqttOptions:
        url = (settings.mqtt_url or "").strip()
        prefix = settings.mqtt_topic_prefix.strip().strip("/")
        return cls(url=url or None, topic_prefix=prefix or "tryvoha")
