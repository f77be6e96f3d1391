"""Shopify REST Order and Refund payloads (webhook bodies) into the connector dataclasses.

Every amount is read from its `*_set.shop_money` (the shop's currency, which commissions use),
falling back to the bare decimal string; presentment money only feeds presentment_total_minor.
Ids are Python ints (Shopify's exceed 2^53, so they never pass through a float).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import LineItem, MalformedPayload, NormalizedOrder, NormalizedRefund
from connectors.shopify.money import to_minor

CLICK_ATTRIBUTE = "tm_click"

# financial_status -> ORDER_STATUSES; cancelled_at wins over all of these.
FINANCIAL_STATUS = {
    "pending": "pending",
    "authorized": "pending",
    "partially_paid": "pending",
    "paid": "paid",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "voided": "failed",
    "expired": "failed",
}


def hash_email(email: object) -> str | None:
    """SHA-256 of the trimmed, lowercased email (same rule as plugin.crypto.hash_email)."""
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def parse_order(payload: Mapping[str, Any]) -> NormalizedOrder:
    if not isinstance(payload, Mapping):
        raise MalformedPayload("shopify order payload is not an object")
    try:
        return _order(payload)
    except MalformedPayload:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"shopify order payload: {exc!r}") from exc


def parse_refund(payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
    if not isinstance(payload, Mapping):
        raise MalformedPayload("shopify refund payload is not an object")
    try:
        return _refund(payload, currency)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"shopify refund payload: {exc!r}") from exc


def _order(payload: Mapping[str, Any]) -> NormalizedOrder:
    # Every order has a total and a line item list; a Shop or Customer body (also with an id,
    # a currency and a created_at) must not turn into a zero-value order.
    if "total_price" not in payload and "total_price_set" not in payload:
        raise MalformedPayload("shopify order payload has no total_price")
    if not isinstance(payload.get("line_items"), list):
        raise MalformedPayload("shopify order payload has no line_items")
    currency = str(payload["currency"]).upper()
    presentment = str(payload.get("presentment_currency") or currency).upper()
    customer = payload.get("customer") or {}
    cancelled_at = _time(payload.get("cancelled_at"))
    status = (
        "cancelled"
        if cancelled_at
        else FINANCIAL_STATUS.get(str(payload.get("financial_status") or "pending"), "pending")
    )
    email = customer.get("email") or payload.get("email") or payload.get("contact_email")
    return NormalizedOrder(
        platform="shopify",
        platform_order_id=_id(payload["id"]),
        order_number=str(payload.get("name") or payload.get("order_number") or payload["id"]),
        status=status,
        created_at=_required_time(payload["created_at"]),
        updated_at=_required_time(payload.get("updated_at") or payload["created_at"]),
        currency=currency,
        presentment_currency=presentment,
        subtotal_minor=_money_set(payload, "subtotal_price", currency),
        discount_minor=_money_set(payload, "total_discounts", currency),
        tax_minor=_money_set(payload, "total_tax", currency),
        shipping_minor=_shipping(payload, currency),
        total_minor=_money_set(payload, "total_price", currency),
        presentment_total_minor=_presentment_money(payload, "total_price", presentment),
        line_items=tuple(_line_item(item, currency) for item in payload.get("line_items") or ()),
        discount_codes=_discount_codes(payload.get("discount_codes") or ()),
        click_id=_click_id(payload.get("note_attributes") or ()),
        landing_site=_text(payload.get("landing_site")),
        referring_site=_text(payload.get("referring_site")),
        customer_id=str(_id(customer["id"])) if customer.get("id") is not None else None,
        customer_email_hash=hash_email(email),
        is_first_order=_first_order(customer),
        test=bool(payload.get("test", False)),
        cancelled_at=cancelled_at,
        refunds=tuple(_refund(refund, currency) for refund in payload.get("refunds") or ()),
    )


def _refund(payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
    # Item amount = what the refunded lines were worth after their discounts, before tax: the
    # commission base given back. Shipping and order adjustments are not item revenue.
    item_amount = sum(
        _money_set(line, "subtotal", currency) for line in payload.get("refund_line_items") or ()
    )
    total = sum(
        to_minor(transaction["amount"], currency)
        for transaction in payload.get("transactions") or ()
        if transaction.get("kind") == "refund" and transaction.get("status") in (None, "success")
    )
    return NormalizedRefund(
        platform_refund_id=_id(payload["id"]),
        platform_order_id=_id(payload["order_id"]),
        created_at=_required_time(payload.get("created_at") or payload.get("processed_at")),
        currency=currency.upper(),
        item_amount_minor=item_amount,
        total_amount_minor=total,
    )


def _line_item(item: Mapping[str, Any], currency: str) -> LineItem:
    return LineItem(
        platform_line_id=_id(item["id"]),
        product_id=_optional_id(item.get("product_id")),
        variant_id=_optional_id(item.get("variant_id")),
        title=str(item.get("title") or item.get("name") or ""),
        quantity=int(item["quantity"]),
        unit_price_minor=_money_set(item, "price", currency),
        discount_minor=sum(
            _money_set(allocation, "amount", currency)
            for allocation in item.get("discount_allocations") or ()
        ),
        tax_minor=sum(_money_set(line, "price", currency) for line in item.get("tax_lines") or ()),
    )


def _discount_codes(entries: Iterable[Any]) -> tuple[str, ...]:
    # The code is on the order even when discount_applications says "manual" (an order created
    # through the API with a code), so attribution reads discount_codes, never the applications.
    codes: list[str] = []
    for entry in entries:
        code = str(entry["code"]).strip() if isinstance(entry, Mapping) else str(entry).strip()
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def _click_id(attributes: Iterable[Any]) -> str | None:
    for attribute in attributes:
        if not isinstance(attribute, Mapping):
            continue
        name = attribute.get("name", attribute.get("key"))
        if name == CLICK_ATTRIBUTE:
            return _text(attribute.get("value"))
    return None


def _first_order(customer: Mapping[str, Any]) -> bool | None:
    # orders_count left the REST Customer in 2024; when absent the core decides from its orders.
    count = customer.get("orders_count")
    return None if count is None else int(count) <= 1


def _shipping(payload: Mapping[str, Any], currency: str) -> int:
    if payload.get("total_shipping_price_set"):
        return _money_set(payload, "total_shipping_price", currency)
    return sum(
        _money_set(line, "discounted_price", currency)
        for line in payload.get("shipping_lines") or ()
    )


def _money_set(payload: Mapping[str, Any], field: str, currency: str) -> int:
    money_set = payload.get(f"{field}_set")
    if isinstance(money_set, Mapping) and isinstance(money_set.get("shop_money"), Mapping):
        return to_minor(money_set["shop_money"]["amount"], currency)
    value = payload.get(field)
    if value is None:
        return 0
    # Some REST fields (refund line subtotal) are JSON numbers; their shortest repr is the decimal.
    return to_minor(repr(value) if isinstance(value, float) else value, currency)


def _presentment_money(payload: Mapping[str, Any], field: str, currency: str) -> int:
    money_set = payload.get(f"{field}_set")
    if isinstance(money_set, Mapping) and isinstance(money_set.get("presentment_money"), Mapping):
        return to_minor(money_set["presentment_money"]["amount"], currency)
    return _money_set(payload, field, currency)


def _id(value: Any) -> int:
    if isinstance(value, bool | float):
        raise ValueError(f"ids must be integers or digit strings, got {value!r}")
    if isinstance(value, str) and value.startswith("gid://"):
        value = value.rsplit("/", 1)[-1]
    return int(value)


def _optional_id(value: Any) -> int | None:
    return None if value is None else _id(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def _required_time(value: Any) -> datetime:
    parsed = _time(value)
    if parsed is None:
        raise ValueError("missing timestamp")
    return parsed
