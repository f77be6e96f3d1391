"""Sandbox connector: verifies and parses what connectors.sandbox.store sends.

The payload is a compact order document in the sandbox's own shape; like a real platform, it is
signed (base64 HMAC-SHA256 of the raw body with the shop's webhook secret) and carries an event id.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from connectors.base import (
    ConnectorConfig,
    CreatedDiscountCode,
    DiscountCodeSpec,
    DiscountCodeTaken,
    InboundWebhook,
    IssuedStoreCredit,
    LineItem,
    MalformedPayload,
    NormalizedOrder,
    NormalizedRefund,
    OrderPage,
    ShopContext,
    StoreCreditSpec,
    VerifiedWebhook,
    WebhookRejected,
    register,
)
from connectors.sandbox import signing

TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create")


@register("sandbox")
class SandboxConnector:
    platform = "sandbox"

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        # The simulated store's discount codes, per shop domain (lowercased code -> id).
        self._codes: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1)
        self.deactivated: set[str] = set()
        # shop domain -> our reference -> (customer email, amount in minor units)
        self.store_credit: dict[str, dict[str, tuple[str, int]]] = {}

    def webhook_shop_domain(self, delivery: InboundWebhook) -> str:
        return (delivery.header(signing.SHOP_HEADER) or "").strip().lower()

    def verify_webhook(self, delivery: InboundWebhook, shop: ShopContext | None) -> VerifiedWebhook:
        signature = delivery.header(signing.SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected("missing_signature")
        if shop is None:
            raise WebhookRejected("unknown_shop")
        secret = str(shop.credentials.get("webhook_secret") or "")
        if not secret:
            raise WebhookRejected("no_secret_configured")
        expected = signing.sign(delivery.body, secret)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise WebhookRejected("bad_signature")
        topic = delivery.header(signing.TOPIC_HEADER) or ""
        if topic not in TOPICS:
            raise WebhookRejected("unknown_topic", status=400)
        event_id = delivery.header(signing.EVENT_ID_HEADER)
        dedupe = event_id or hashlib.sha256(delivery.body).hexdigest()
        return VerifiedWebhook(
            topic=topic,
            dedupe_key=f"{shop.domain}:{topic}:{dedupe}",
            shop_domain=shop.domain,
            triggered_at=_parse_time(delivery.header(signing.TRIGGERED_AT_HEADER)),
        )

    def parse_order(self, payload: Mapping[str, Any]) -> NormalizedOrder:
        try:
            currency = str(payload["currency"])
            items = tuple(
                LineItem(
                    platform_line_id=int(item["id"]),
                    product_id=int(item["product_id"]),
                    variant_id=int(item["variant_id"]),
                    title=str(item["title"]),
                    quantity=int(item["quantity"]),
                    unit_price_minor=int(item["price_minor"]),
                    discount_minor=int(item.get("discount_minor", 0)),
                )
                for item in payload["line_items"]
            )
            customer = payload.get("customer") or {}
            return NormalizedOrder(
                platform=self.platform,
                platform_order_id=int(payload["id"]),
                order_number=str(payload.get("number", payload["id"])),
                status=str(payload["status"]),
                created_at=_required_time(payload["created_at"]),
                updated_at=_required_time(payload["updated_at"]),
                currency=currency,
                presentment_currency=str(payload.get("presentment_currency", currency)),
                subtotal_minor=int(payload["subtotal_minor"]),
                discount_minor=int(payload.get("discount_minor", 0)),
                tax_minor=int(payload.get("tax_minor", 0)),
                shipping_minor=int(payload.get("shipping_minor", 0)),
                total_minor=int(payload["total_minor"]),
                presentment_total_minor=int(
                    payload.get("presentment_total_minor", payload["total_minor"])
                ),
                line_items=items,
                discount_codes=tuple(str(code) for code in payload.get("discount_codes", ())),
                click_id=payload.get("click_id") or None,
                landing_site=payload.get("landing_site") or None,
                referring_site=payload.get("referring_site") or None,
                customer_id=str(customer["id"]) if customer.get("id") else None,
                customer_email_hash=customer.get("email_hash") or None,
                is_first_order=customer.get("first_order"),
                test=bool(payload.get("test", False)),
                cancelled_at=_parse_time(payload.get("cancelled_at")),
                refunds=tuple(self.parse_refund(r, currency) for r in payload.get("refunds", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"sandbox order payload: {exc!r}") from exc

    def parse_refund(self, payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
        try:
            return NormalizedRefund(
                platform_refund_id=int(payload["id"]),
                platform_order_id=int(payload["order_id"]),
                created_at=_required_time(payload["created_at"]),
                currency=currency,
                item_amount_minor=int(payload["item_amount_minor"]),
                total_amount_minor=int(payload.get("total_amount_minor", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"sandbox refund payload: {exc!r}") from exc

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode:
        codes = self._codes.setdefault(shop.domain, {})
        key = spec.code.lower()
        if key in codes:
            raise DiscountCodeTaken(spec.code, [f"{spec.code}{n}" for n in (1, 2, 3)])
        platform_id = f"sandbox-discount-{next(self._ids)}"
        codes[key] = platform_id
        return CreatedDiscountCode(platform_id=platform_id, code=spec.code)

    def deactivate_discount_code(self, shop: ShopContext, platform_id: str) -> None:
        self.deactivated.add(platform_id)

    def issue_store_credit(self, shop: ShopContext, spec: StoreCreditSpec) -> IssuedStoreCredit:
        """The sandbox keeps each customer's credit by email, in memory, keyed by our reference
        (a replayed reference credits nothing twice)."""
        credits = self.store_credit.setdefault(shop.domain, {})
        if spec.reference not in credits:
            credits[spec.reference] = (spec.customer_email.lower(), spec.amount_minor)
        return IssuedStoreCredit(platform_id=f"sandbox-credit-{spec.reference}")

    def orders_updated_since(
        self, shop: ShopContext, since: datetime, cursor: str | None = None
    ) -> OrderPage:
        # The sandbox store pushes every order as a webhook and never drops one.
        return OrderPage(payloads=(), next_cursor=None)

    def link_target_url(self, shop_domain: str, path: str, discount_code: str | None) -> str:
        base = self.config.public_url.rstrip("/")
        url = f"{base}/sandbox/{quote(shop_domain)}{path if path.startswith('/') else '/' + path}"
        if discount_code:
            url += ("&" if "?" in url else "?") + urlencode({"discount": discount_code})
        return url


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _required_time(value: Any) -> datetime:
    parsed = _parse_time(value)
    if parsed is None:
        raise ValueError("missing timestamp")
    return parsed
