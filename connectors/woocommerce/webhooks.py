"""Inbound WooCommerce deliveries: signature first, then the few fields the inbox needs.

WooCommerce signs `base64(HMAC-SHA256(raw body, secret))` with the secret we set per shop when we
created the webhook. The creation ping is unsigned (form body `webhook_id=N`, no X-WC headers)
and must get exactly 200 while nothing is stored. The delivery id is `wp_hash(id . time)`, not
stable across attempts, so the dedupe key is built from the shop, the resource id, its
`date_modified_gmt` and the body hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

from connectors.base import (
    InboundWebhook,
    MalformedPayload,
    ShopContext,
    VerifiedWebhook,
    WebhookRejected,
)
from connectors.payload import load_json
from connectors.woocommerce.stores import origin_domain

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
SOURCE_HEADER = "X-WC-Webhook-Source"
TOPIC_HEADER = "X-WC-Webhook-Topic"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"

# The topics we subscribe to (manifest.yml, platforms.woocommerce.webhooks).
TOPICS = ("order.created", "order.updated", "order.deleted", "coupon.updated", "coupon.deleted")
PING_TOPIC = "ping"

_PING_BODY = re.compile(rb"webhook_id=(\d{1,20})")


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def shop_domain(delivery: InboundWebhook) -> str:
    return origin_domain(delivery.header(SOURCE_HEADER) or "")


def ping_webhook_id(delivery: InboundWebhook) -> int | None:
    """The webhook id of WooCommerce's creation ping, or None when this is not one."""
    if delivery.header(SIGNATURE_HEADER) or delivery.header(TOPIC_HEADER):
        return None
    match = _PING_BODY.fullmatch(delivery.body.strip())
    return int(match.group(1)) if match else None


def verify(delivery: InboundWebhook, shop: ShopContext | None) -> VerifiedWebhook:
    ping_id = ping_webhook_id(delivery)
    if ping_id is not None:
        # Unsigned by design; it carries nothing, so the route answers 200 and records nothing.
        return VerifiedWebhook(
            topic=PING_TOPIC,
            dedupe_key=f"ping:{ping_id}",
            shop_domain=shop.domain if shop else "",
            is_ping=True,
        )
    signature = (delivery.header(SIGNATURE_HEADER) or "").strip()
    if not signature:
        raise WebhookRejected("missing_signature")
    if shop is None:
        raise WebhookRejected("unknown_shop")
    secret = str(shop.credentials.get("webhook_secret") or "")
    if not secret:
        raise WebhookRejected("no_secret_configured")
    if not hmac.compare_digest(sign(delivery.body, secret).encode(), signature.encode()):
        raise WebhookRejected("bad_signature")
    topic = (delivery.header(TOPIC_HEADER) or "").strip()
    if topic not in TOPICS:
        # Signed by this shop but not a topic we asked for (a merchant pointed another webhook
        # at us). Answer 2xx without recording it: a 4xx would only count toward disabling it.
        raise WebhookRejected("unsubscribed_topic", status=200)
    resource_id, modified = _identity(delivery.body)
    body_hash = hashlib.sha256(delivery.body).hexdigest()
    resource = topic.split(".", 1)[0]
    return VerifiedWebhook(
        topic=topic,
        dedupe_key=f"{shop.shop_id}:{resource}:{resource_id}:{modified}:{body_hash[:40]}",
        shop_domain=shop.domain,
        triggered_at=_parse_gmt(modified),
    )


def _identity(body: bytes) -> tuple[str, str]:
    """(resource id, date_modified_gmt) read after verification; blanks when the body is odd.

    A body we cannot read is still recorded (the handler reports it as malformed), keyed by its
    hash alone.
    """
    try:
        payload = load_json(body)
    except MalformedPayload:
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    resource_id = payload.get("id")
    modified = payload.get("date_modified_gmt") or payload.get("date_modified") or ""
    return (str(resource_id) if isinstance(resource_id, int) else ""), str(modified)[:32]


def _parse_gmt(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
