"""WooCommerce order JSON (REST v3, the same body webhooks carry) -> NormalizedOrder.

Amounts are decimal strings, parsed exactly into minor units. Line `subtotal` is before discounts
and `total` after; both exclude tax, whatever `prices_include_tax` says, so the commission base is
the sum of line totals.

Refunds: the order lists `refunds[{id, reason, total}]` with negative totals and no breakdown.
The part of a refund that was item revenue is taken in the order's own proportion of item revenue
to grand total (tax, shipping and fees are refunded pro rata with items), allocated cumulatively
in refund-id order so the parts of a fully refunded order add up exactly to its item revenue.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from connectors.base import LineItem, MalformedPayload, NormalizedOrder, NormalizedRefund
from connectors.woocommerce.amounts import to_minor

PLATFORM = "woocommerce"
# Order meta key the companion WordPress plugin writes at checkout (classic and block checkout)
# with the `tm_click` id from its first-party cookie.
CLICK_META_KEY = "_tastemaker_click"
_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")

STATUS_MAP = {
    "pending": "pending",
    "on-hold": "pending",
    "checkout-draft": "pending",
    "processing": "paid",
    "completed": "paid",
    "cancelled": "cancelled",
    "trash": "cancelled",
    "failed": "failed",
    "refunded": "refunded",
}
_REFUND_ORDER_LINK = re.compile(r"/orders/(\d+)(?:/|$)")


def parse_order(payload: Mapping[str, Any]) -> NormalizedOrder:
    try:
        return _parse_order(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"woocommerce order payload: {exc!r}") from exc


def _parse_order(payload: Mapping[str, Any]) -> NormalizedOrder:
    order_id = _int(payload["id"])
    currency = str(payload["currency"]).upper()
    created_at = _gmt(payload, "date_created")
    updated_at = _gmt(payload, "date_modified")
    lines = payload.get("line_items") or ()
    line_items = tuple(_line_item(item, currency) for item in lines)
    total = to_minor(payload["total"], currency)
    item_revenue = max(sum(item.net_minor for item in line_items), 0)
    refunds = _refunds(
        payload.get("refunds") or (), order_id, currency, updated_at, item_revenue, total
    )
    wc_status = str(payload["status"])
    status = STATUS_MAP.get(wc_status, "pending")  # plugin-defined statuses never earn commission
    if status == "paid" and refunds:
        status = "partially_refunded"
    return NormalizedOrder(
        platform=PLATFORM,
        platform_order_id=order_id,
        order_number=str(payload.get("number") or order_id),
        status=status,
        created_at=created_at,
        updated_at=updated_at,
        currency=currency,
        presentment_currency=currency,
        subtotal_minor=sum(to_minor(line.get("subtotal", "0"), currency) for line in lines),
        discount_minor=to_minor(payload.get("discount_total", "0"), currency),
        tax_minor=to_minor(payload.get("total_tax", "0"), currency),
        shipping_minor=to_minor(payload.get("shipping_total", "0"), currency),
        total_minor=total,
        presentment_total_minor=total,
        line_items=line_items,
        discount_codes=tuple(
            str(line["code"]).strip().lower()
            for line in payload.get("coupon_lines") or ()
            if str(line.get("code") or "").strip()
        ),
        click_id=click_id(payload.get("meta_data") or ()),
        customer_id=_customer_id(payload.get("customer_id")),
        customer_email_hash=email_hash((payload.get("billing") or {}).get("email")),
        cancelled_at=updated_at if wc_status in ("cancelled", "trash") else None,
        refunds=refunds,
    )


def parse_refund(payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
    """A refund object from `GET orders/{id}/refunds/{refund_id}` (positive `amount`).

    Its `line_items` carry negative ex-tax totals: their sum is the item revenue given back. An
    amount-only refund names no items and, without its order, cannot be split: all of it counts
    as item revenue.
    """
    try:
        total = to_minor(payload["amount"], currency)
        lines = payload.get("line_items") or ()
        items = -sum(to_minor(line.get("total", "0"), currency) for line in lines)
        return NormalizedRefund(
            platform_refund_id=_int(payload["id"]),
            platform_order_id=_refund_order_id(payload),
            created_at=_gmt(payload, "date_created"),
            currency=currency.upper(),
            item_amount_minor=min(items, total) if lines else total,
            total_amount_minor=total,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"woocommerce refund payload: {exc!r}") from exc


def click_id(meta_data: Sequence[Mapping[str, Any]]) -> str | None:
    for entry in meta_data:
        if entry.get("key") == CLICK_META_KEY:
            value = str(entry.get("value") or "").strip()
            # The value comes from a shopper's cookie: anything but our id shape is ignored.
            return value if _CLICK_ID.fullmatch(value) else None
    return None


def email_hash(email: object) -> str | None:
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _line_item(item: Mapping[str, Any], currency: str) -> LineItem:
    quantity = _int(item.get("quantity", 0))
    subtotal = to_minor(item.get("subtotal", "0"), currency)
    total = to_minor(item.get("total", "0"), currency)
    if quantity > 0:
        # Ceiling keeps the discount non-negative; net_minor (unit x qty - discount) is the
        # line total exactly.
        unit_price = -(-subtotal // quantity)
        discount = unit_price * quantity - total
    else:
        unit_price, discount = 0, 0
    return LineItem(
        platform_line_id=_int(item["id"]),
        product_id=_int(item.get("product_id") or 0) or None,
        variant_id=_int(item.get("variation_id") or 0) or None,
        title=str(item.get("name") or ""),
        quantity=max(quantity, 0),
        unit_price_minor=unit_price,
        discount_minor=discount,
        tax_minor=to_minor(item.get("total_tax", "0"), currency),
    )


def _refunds(
    entries: Sequence[Mapping[str, Any]],
    order_id: int,
    currency: str,
    refunded_by: datetime,
    item_revenue: int,
    order_total: int,
) -> tuple[NormalizedRefund, ...]:
    refunds = []
    cumulative_total = 0
    allocated_items = 0
    for entry in sorted(entries, key=lambda refund: _int(refund["id"])):
        amount = abs(to_minor(entry["total"], currency))
        cumulative_total += amount
        items_so_far = min(_share(cumulative_total, item_revenue, order_total), item_revenue)
        refunds.append(
            NormalizedRefund(
                platform_refund_id=_int(entry["id"]),
                platform_order_id=order_id,
                # The order lists no refund dates; the refund happened by this modification.
                created_at=refunded_by,
                currency=currency,
                item_amount_minor=max(min(items_so_far - allocated_items, amount), 0),
                total_amount_minor=amount,
            )
        )
        allocated_items = items_so_far
    return tuple(refunds)


def _share(amount: int, part: int, whole: int) -> int:
    if whole <= 0:
        return 0
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _customer_id(value: object) -> str | None:
    # Guests are customer 0.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip() not in ("", "0"):
        return value.strip()
    return None


def _refund_order_id(payload: Mapping[str, Any]) -> int:
    if payload.get("order_id"):
        return _int(payload["order_id"])
    for link in (payload.get("_links") or {}).get("up") or ():
        match = _REFUND_ORDER_LINK.search(str(link.get("href", "")))
        if match:
            return int(match.group(1))
    raise ValueError("refund names no order (no order_id and no _links.up)")


def _gmt(payload: Mapping[str, Any], field: str) -> datetime:
    """`<field>_gmt` as aware UTC; the site-local `<field>` only if the GMT twin is missing."""
    raw = payload.get(f"{field}_gmt") or payload.get(field)
    if not raw:
        raise ValueError(f"missing {field}")
    parsed = datetime.fromisoformat(str(raw))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _int(value: object) -> int:
    if isinstance(value, bool | float):
        raise ValueError(f"not an integer id: {value!r}")
    return int(str(value))
