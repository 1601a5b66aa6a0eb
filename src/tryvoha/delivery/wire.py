"""
The JSON shapes of the webhook API: request and response models for OpenAPI, and the
plain-dict renderings the routes send.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tryvoha.core.codec import event_to_dict, format_time
from tryvoha.delivery.model import DeadLetter, DeliveryState, Webhook


class WebhookIn(BaseModel):
    url: str = Field(max_length=2048, description="http(s) URL that receives a POST per event")
    regions: list[str] = Field(
        default_factory=list,
        max_length=2000,
        description="Region ids; their descendants and ancestors match too. Empty: all.",
    )
    types: list[str] = Field(
        default_factory=list, max_length=10, description="Alert types. Empty: all."
    )
    secret: str | None = Field(
        default=None,
        max_length=256,
        description="The HMAC key for X-Tryvoha-Signature; generated when absent",
    )


class DeliveryOut(BaseModel):
    cursor: int = Field(description="Newest seq the webhook is done with")
    attempts: int = Field(description="Tries of the next event so far")
    failing_since: str | None
    next_attempt_at: str | None
    last_error: str | None
    last_attempt_at: str | None
    last_success_at: str | None
    dead_letters: int


class WebhookOut(BaseModel):
    id: str
    url: str
    owner: str
    regions: list[str]
    types: list[str]
    format: str
    created_at: str
    delivery: DeliveryOut


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown once, here; keep it to verify signatures")


class WebhooksOut(BaseModel):
    webhooks: list[WebhookOut]


class DeadLetterOut(BaseModel):
    seq: int
    attempts: int
    error: str
    dead_lettered_at: str
    event: dict[str, Any]


class DeadLettersOut(BaseModel):
    webhook_id: str
    dead_letters: list[DeadLetterOut]
    next_after: int | None = Field(description="Pass as `after` for the next page")


def _opt_time(value: Any) -> str | None:
    return None if value is None else format_time(value)


def delivery_to_dict(state: DeliveryState, dead_letters: int) -> dict[str, Any]:
    return {
        "cursor": state.cursor,
        "attempts": state.attempts,
        "failing_since": _opt_time(state.failing_since),
        "next_attempt_at": _opt_time(state.next_attempt_at),
        "last_error": state.last_error,
        "last_attempt_at": _opt_time(state.last_attempt_at),
        "last_success_at": _opt_time(state.last_success_at),
        "dead_letters": dead_letters,
    }


def webhook_to_dict(
    webhook: Webhook, dead_letters: int, *, with_secret: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": webhook.id,
        "url": webhook.url,
        "owner": webhook.owner,
        "regions": list(webhook.regions),
        "types": [t.value for t in webhook.types],
        "format": webhook.body_format,
        "created_at": format_time(webhook.created_at),
        "delivery": delivery_to_dict(webhook.state, dead_letters),
    }
    if with_secret:
        data["secret"] = webhook.secret
    return data


def dead_letter_to_dict(letter: DeadLetter) -> dict[str, Any]:
    return {
        "seq": letter.seq,
        "attempts": letter.attempts,
        "error": letter.error,
        "dead_lettered_at": format_time(letter.dead_at),
        "event": event_to_dict(letter.event),
    }
