"""Shopify webhook deliveries: HMAC over the raw body, then who, what and which event.

`X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(client secret, raw body)); it is checked in
constant time against the current secret and, during a rotation, the previous one, before the body
is parsed. Header names arrive lowercased (InboundWebhook) so any casing Shopify uses matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from connectors.base import InboundWebhook, ShopContext, VerifiedWebhook, WebhookRejected
from connectors.shopify.urls import valid_shop_domain

HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
SHOP_HEADER = "x-shopify-shop-domain"
EVENT_ID_HEADER = "x-shopify-event-id"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
TRIGGERED_AT_HEADER = "x-shopify-triggered-at"
API_VERSION_HEADER = "x-shopify-api-version"

TOPICS = frozenset(
    {
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
        "app/uninstalled",
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }
)
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_matches(body: bytes, signature: str, secrets: Sequence[str]) -> bool:
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        # Every secret is compared (no early exit) so timing says nothing about which one matched.
        matched |= hmac.compare_digest(expected, given)
    return matched


def shop_domain_header(delivery: InboundWebhook) -> str:
    return (delivery.header(SHOP_HEADER) or "").strip().lower()


def verify(
    delivery: InboundWebhook, shop: ShopContext | None, secrets: Sequence[str]
) -> VerifiedWebhook:
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise WebhookRejected("no_secret_configured")
    signature = delivery.header(HMAC_HEADER)
    if not signature:
        raise WebhookRejected("missing_signature")
    if not signature_matches(delivery.body, signature, usable):
        raise WebhookRejected("bad_signature")
    domain = valid_shop_domain(shop_domain_header(delivery))
    if domain is None:
        raise WebhookRejected("bad_shop_domain", status=400)
    if shop is not None and shop.domain != domain:
        raise WebhookRejected("shop_mismatch", status=400)
    topic = (delivery.header(TOPIC_HEADER) or "").strip().lower()
    if topic not in TOPICS:
        raise WebhookRejected("unknown_topic", status=400)
    # Event id is the same on every delivery of one event (retries, several subscriptions); the
    # webhook id is per delivery and only a fallback; the body hash covers neither being sent.
    event = (
        (delivery.header(EVENT_ID_HEADER) or "").strip()
        or (delivery.header(WEBHOOK_ID_HEADER) or "").strip()
        or "sha256-" + hashlib.sha256(delivery.body).hexdigest()
    )
    return VerifiedWebhook(
        topic=topic,
        dedupe_key=f"{domain}:{topic}:{event}",
        shop_domain=domain,
        triggered_at=parse_triggered_at(delivery.header(TRIGGERED_AT_HEADER)),
    )


def parse_triggered_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
