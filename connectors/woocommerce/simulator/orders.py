"""Orders for the simulated store, in WooCommerce's REST v3 shape (amounts as decimal strings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    name: str
    product_id: int
    quantity: int
    price: str  # unit price before discounts, excluding tax
    variation_id: int = 0


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def build_order(
    *,
    order_id: int,
    line_ids: Sequence[int],
    items: Sequence[Item],
    when: str,
    status: str,
    currency: str,
    email: str,
    customer_id: int,
    coupon: Mapping[str, Any] | None,
    click_id: str | None,
    shipping: str,
    tax_rate: str,
    home_url: str,
) -> dict[str, Any]:
    """A coherent order: coupon discount spread over lines, tax on discounted lines, shipping."""
    rate = Decimal(tax_rate)
    subtotals = [Decimal(item.price) * item.quantity for item in items]
    discounts = _discounts(subtotals, coupon)
    lines: list[dict[str, Any]] = []
    for line_id, item, subtotal, discount in zip(
        line_ids, items, subtotals, discounts, strict=True
    ):
        total = subtotal - discount
        lines.append(
            {
                "id": line_id,
                "name": item.name,
                "product_id": item.product_id,
                "variation_id": item.variation_id,
                "quantity": item.quantity,
                "tax_class": "",
                "subtotal": money(subtotal),
                "subtotal_tax": money(subtotal * rate),
                "total": money(total),
                "total_tax": money(total * rate),
                "taxes": [],
                "meta_data": [],
                "sku": "",
                "price": float(item.price),
            }
        )
    discount_total = sum(discounts, Decimal(0))
    cart_tax = sum((Decimal(line["total_tax"]) for line in lines), Decimal(0))
    items_total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
    shipping_total = Decimal(shipping)
    meta = (
        [{"id": order_id * 10, "key": "_tastemaker_click", "value": click_id}] if click_id else []
    )
    address = {"first_name": "Sam", "last_name": "Shopper", "email": email, "country": "US"}
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{order_id:x}",
        "created_via": "checkout",
        "version": "9.8.0",
        "status": status,
        "currency": currency,
        "date_created": when,
        "date_created_gmt": when,
        "date_modified": when,
        "date_modified_gmt": when,
        "discount_total": money(discount_total),
        "discount_tax": money(discount_total * rate),
        "shipping_total": money(shipping_total),
        "shipping_tax": "0.00",
        "cart_tax": money(cart_tax),
        "total": money(items_total + cart_tax + shipping_total),
        "total_tax": money(cart_tax),
        "prices_include_tax": False,
        "customer_id": customer_id,
        "customer_note": "",
        "billing": address,
        "shipping": {k: v for k, v in address.items() if k != "email"},
        "payment_method": "bacs",
        "payment_method_title": "Direct Bank Transfer",
        "date_paid": when if status in ("processing", "completed") else None,
        "date_paid_gmt": when if status in ("processing", "completed") else None,
        "meta_data": meta,
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [
            {
                "id": order_id * 10 + 1,
                "method_title": "Flat Rate",
                "method_id": "flat_rate",
                "total": money(shipping_total),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": (
            [
                {
                    "id": order_id * 10 + 2,
                    "code": str(coupon["code"]),
                    "discount": money(discount_total),
                    "discount_tax": money(discount_total * rate),
                    # WooCommerce 10 lists these on each coupon line too.
                    "discount_type": str(coupon["discount_type"]),
                    "nominal_amount": float(Decimal(str(coupon["amount"]))),
                    "free_shipping": bool(coupon.get("free_shipping", False)),
                    "meta_data": [],
                }
            ]
            if coupon
            else []
        ),
        "refunds": [],
        "_links": {
            "self": [{"href": f"{home_url}wp-json/wc/v3/orders/{order_id}"}],
            "collection": [{"href": f"{home_url}wp-json/wc/v3/orders"}],
        },
    }


def _discounts(subtotals: Sequence[Decimal], coupon: Mapping[str, Any] | None) -> list[Decimal]:
    if not coupon or not subtotals:
        return [Decimal(0)] * len(subtotals)
    amount = Decimal(str(coupon["amount"]))
    whole = sum(subtotals, Decimal(0))
    if coupon["discount_type"] == "percent":
        return [(s * amount / 100).quantize(CENT, rounding=ROUND_HALF_EVEN) for s in subtotals]
    cap = min(amount, whole)
    shares = [(cap * s / whole).quantize(CENT, rounding=ROUND_HALF_EVEN) for s in subtotals]
    shares[-1] += cap - sum(shares, Decimal(0))  # the cent left by rounding goes to the last line
    return shares


def modified_copy(order: Mapping[str, Any], when: datetime, **changes: Any) -> dict[str, Any]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S")
    return {**order, **changes, "date_modified": stamp, "date_modified_gmt": stamp}
