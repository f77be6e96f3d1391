"""The simulated store itself: keeps orders, and sends signed webhooks the way a platform does.

Used by the demo (over HTTP to the running app) and the tests (through Flask's test client). Every
delivery gets an event id; `redeliver` sends the same event again, as platforms do on retries.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sandbox import signing

Transport = Callable[[str, bytes, dict[str, str]], int]  # (path, body, headers) -> HTTP status
WEBHOOK_PATH = "/webhooks/sandbox"


@dataclass(frozen=True)
class Item:
    product_id: int
    variant_id: int
    title: str
    unit_price_minor: int
    quantity: int = 1


@dataclass(frozen=True)
class Delivery:
    topic: str
    event_id: str
    body: bytes
    status: int


def http_transport(base_url: str, timeout: float = 10.0) -> Transport:
    import requests

    def send(path: str, body: bytes, headers: dict[str, str]) -> int:
        return requests.post(
            base_url.rstrip("/") + path, data=body, headers=headers, timeout=timeout
        ).status_code

    return send


@dataclass
class SandboxStore:
    domain: str
    webhook_secret: str
    transport: Transport
    currency: str = "USD"
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _order_ids: Any = field(default_factory=lambda: itertools.count(1001))
    _refund_ids: Any = field(default_factory=lambda: itertools.count(5001))
    _line_ids: Any = field(default_factory=lambda: itertools.count(9001))
    _last_stamp: datetime | None = None

    def place_order(
        self,
        items: Sequence[Item],
        *,
        discount_code: str | None = None,
        discount_bps: int = 0,
        click_id: str | None = None,
        landing_site: str | None = None,
        referring_site: str | None = None,
        customer_id: int | None = None,
        customer_email_hash: str | None = None,
        first_order: bool | None = None,
        tax_minor: int = 0,
        shipping_minor: int = 0,
        paid: bool = True,
        test: bool = False,
        placed_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Create an order (orders/create) and, when paid, send orders/paid too."""
        now = placed_at or self._stamp()
        lines = []
        for item in items:
            gross = item.unit_price_minor * item.quantity
            lines.append(
                {
                    "id": next(self._line_ids),
                    "product_id": item.product_id,
                    "variant_id": item.variant_id,
                    "title": item.title,
                    "quantity": item.quantity,
                    "price_minor": item.unit_price_minor,
                    "discount_minor": gross * discount_bps // 10_000,
                }
            )
        subtotal = sum(
            line["price_minor"] * line["quantity"] - line["discount_minor"] for line in lines
        )
        order_id = next(self._order_ids)
        order = {
            "id": order_id,
            "number": f"SB{order_id}",
            "status": "pending",
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "currency": self.currency,
            "presentment_currency": self.currency,
            "subtotal_minor": subtotal,
            "discount_minor": sum(line["discount_minor"] for line in lines),
            "tax_minor": tax_minor,
            "shipping_minor": shipping_minor,
            "total_minor": subtotal + tax_minor + shipping_minor,
            "line_items": lines,
            "discount_codes": [discount_code] if discount_code else [],
            "click_id": click_id,
            "landing_site": landing_site,
            "referring_site": referring_site,
            "customer": {
                "id": customer_id,
                "email_hash": customer_email_hash,
                "first_order": first_order,
            },
            "test": test,
            "cancelled_at": None,
            "refunds": [],
        }
        self.orders[order_id] = order
        self.deliver("orders/create", order)
        if paid:
            self.mark_paid(order_id)
        return self.orders[order_id]

    def mark_paid(self, order_id: int) -> dict[str, Any]:
        return self._change(order_id, "orders/paid", status="paid")

    def cancel(self, order_id: int) -> dict[str, Any]:
        return self._change(
            order_id, "orders/cancelled", status="cancelled", cancelled_at=self._stamp().isoformat()
        )

    def refund(
        self, order_id: int, item_amount_minor: int, total_amount_minor: int | None = None
    ) -> dict[str, Any]:
        """Send refunds/create, then the order's orders/updated with its new status."""
        order = self.orders[order_id]
        refund = {
            "id": next(self._refund_ids),
            "order_id": order_id,
            "created_at": self._stamp().isoformat(),
            "item_amount_minor": item_amount_minor,
            "total_amount_minor": item_amount_minor
            if total_amount_minor is None
            else total_amount_minor,
        }
        self.deliver("refunds/create", refund)
        refunds = [*order["refunds"], refund]
        refunded = sum(r["item_amount_minor"] for r in refunds)
        status = "refunded" if refunded >= order["subtotal_minor"] else "partially_refunded"
        self._change(order_id, "orders/updated", status=status, refunds=refunds)
        return refund

    def deliver(
        self, topic: str, payload: dict[str, Any], *, event_id: str | None = None
    ) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._send(topic, body, event_id or str(uuid.uuid4()))

    def redeliver(self, delivery: Delivery) -> Delivery:
        """The platform retrying: same event id, same (original) body."""
        return self._send(delivery.topic, delivery.body, delivery.event_id)

    def _send(self, topic: str, body: bytes, event_id: str) -> Delivery:
        headers = {
            "Content-Type": "application/json",
            signing.TOPIC_HEADER: topic,
            signing.SHOP_HEADER: self.domain,
            signing.EVENT_ID_HEADER: event_id,
            signing.TRIGGERED_AT_HEADER: self._stamp().isoformat(),
            signing.SIGNATURE_HEADER: signing.sign(body, self.webhook_secret),
        }
        delivery = Delivery(topic, event_id, body, self.transport(WEBHOOK_PATH, body, headers))
        self.deliveries.append(delivery)
        return delivery

    def _change(self, order_id: int, topic: str, **changes: Any) -> dict[str, Any]:
        order = {**self.orders[order_id], **changes, "updated_at": self._stamp().isoformat()}
        self.orders[order_id] = order
        self.deliver(topic, order)
        return order

    def _stamp(self) -> datetime:
        """Strictly increasing timestamps, so updated_at orders every change."""
        now = self.clock()
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now
