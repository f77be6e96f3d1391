"""A WooCommerce store in memory: keys, coupons, webhooks, orders, and what it sends out.

Tests and the demo drive it directly (place an order, refund it, revoke a key, strip the
Authorization header) and through its HTTP server (connectors.woocommerce.simulator.server),
which speaks the REST API and the `/wc-auth/v1/authorize` key-granting page.
"""

from __future__ import annotations

import itertools
import queue
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.woocommerce.simulator import hookshot, resources
from connectors.woocommerce.simulator.companion import CompanionPlugin
from connectors.woocommerce.simulator.orders import Item, build_order, modified_copy, money
from connectors.woocommerce.simulator.rest import RestError, invalid_id
from connectors.woocommerce.simulator.storefront import ShopProduct


@dataclass(frozen=True)
class ApiKey:
    key_id: int
    consumer_key: str
    consumer_secret: str
    permissions: str
    # wc-auth describes the keys it creates "<app name> - API (<UTC date>)"; the merchant's own
    # keys carry whatever they typed.
    description: str = ""


class SimulatedStore:
    def __init__(
        self,
        *,
        currency: str = "USD",
        transport: hookshot.Transport = hookshot.http_transport,
        home_url: str | None = None,
        timezone: str = "UTC",
        allow_http_callbacks: bool = False,
    ) -> None:
        self.currency = currency
        # The site's timezone (Settings > General): a bare date-time written to a coupon is read
        # in it, and `date_expires` is shown in it.
        self.timezone = ZoneInfo(timezone)
        # WooCommerce refuses a non-https callback_url on its authorize page. Only the demo, whose
        # app runs on loopback http, may turn that off; tests of the real rule leave it on.
        self.allow_http_callbacks = allow_http_callbacks
        self.transport = transport
        self._home_url = home_url
        self.lock = threading.RLock()
        self.keys: dict[str, ApiKey] = {}
        # The Tastemaker companion plugin, when installed (simulator.companion); None: not.
        self.companion: CompanionPlugin | None = None
        self.coupons: dict[int, dict[str, Any]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.deliveries: list[hookshot.Delivery] = []
        self.pings: list[hookshot.Delivery] = []
        # (method, path, "basic" | "query" | "none") of every REST request received.
        self.requests: list[tuple[str, str, str]] = []
        # Like a host that drops the Authorization header before PHP sees it.
        self.strip_authorization = False
        # Status codes to answer the next REST requests with (a sick host), consumed in order.
        self.fail_next: list[int] = []
        # A store that moved (e.g. to its www address) answers every API call with a 301 there.
        self.moved_to: str | None = None
        # Product pages of the shop front, by slug (storefront.product_page serves them).
        self.shop_products: dict[str, ShopProduct] = {}
        self._ids = itertools.count(100)
        self._last_tick = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        self.server: Any = None
        self._muted = False
        # Webhooks caused by REST calls go out in the background, as WooCommerce queues them
        # (Action Scheduler): the API caller never waits on our own webhook route.
        self._outbox: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._sender: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the simulated store is not serving; call start()")
        return str(self.server.url)

    @property
    def home_url(self) -> str:
        return self._home_url or (self.url + "/")

    def start(self, port: int = 0) -> SimulatedStore:
        from connectors.woocommerce.simulator.server import StoreServer

        self.server = StoreServer(self, port)
        self.server.start()
        self._sender = threading.Thread(target=self._send_queued, name="wc-hookshot", daemon=True)
        self._sender.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join(timeout=5)
            self._sender = None

    def drain(self) -> None:
        """Wait until every queued webhook has been sent."""
        self._outbox.join()

    def __enter__(self) -> SimulatedStore:
        return self if self.server is not None else self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- keys --------------------------------------------------------------------------------

    def add_key(self, permissions: str = "read_write", description: str = "") -> ApiKey:
        with self.lock:
            key = ApiKey(
                key_id=next(self._ids),
                consumer_key="ck_" + secrets.token_hex(20),
                consumer_secret="cs_" + secrets.token_hex(20),
                permissions=permissions,
                description=description,
            )
            self.keys[key.consumer_key] = key
            return key

    def revoke_key(self, consumer_key: str) -> None:
        # WooCommerce deletes a revoked key's row: the key becomes unknown, not "revoked".
        with self.lock:
            self.keys.pop(consumer_key, None)

    # -- REST resources (called by simulator.rest) -------------------------------------------

    def system_status(self) -> dict[str, Any]:
        return {
            "environment": {
                "home_url": self.home_url.rstrip("/"),
                "site_url": self.home_url.rstrip("/"),
                "version": hookshot.WC_VERSION,
                "wp_version": hookshot.WP_VERSION,
            },
            "settings": {
                "api_enabled": True,
                "force_ssl": False,
                "currency": self.currency,
                "currency_symbol": "$",
                "number_of_decimals": 2,
            },
        }

    def list_resource(self, resource: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        with self.lock:
            if resource == "coupons":
                code = query.get("code", "").lower()
                rows = [c for c in self.coupons.values() if not code or c["code"] == code]
                rows.sort(key=lambda c: -c["id"])
                return [resources.coupon_out(c, self.home_url, self.timezone) for c in rows]
            if resource == "webhooks":
                status = query.get("status", "all")
                rows = [h for h in self.webhooks.values() if status in ("all", h["status"])]
                rows.sort(key=lambda h: -h["id"])
                return [resources.webhook_out(h, self.home_url) for h in rows]
            return resources.filter_orders(self.orders.values(), query)

    def get_resource(self, resource: str, item_id: int) -> dict[str, Any]:
        with self.lock:
            row = self._table(resource).get(item_id)
            if row is None:
                raise invalid_id(resource)
            return self._out(resource, row)

    def create_resource(self, resource: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if resource == "coupons":
            return self._create_coupon(body)
        return self._create_webhook(body)

    def update_resource(
        self, resource: str, item_id: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self.lock:
            row = self._table(resource).get(item_id)
            if row is None:
                raise invalid_id(resource)
            if resource == "webhooks":
                resources.check_webhook_fields(body)
                row.update({k: body[k] for k in resources.WEBHOOK_FIELDS if k in body})
            else:
                resources.update_coupon(row, body, self.timezone)
            row["date_modified_gmt"] = self._tick()
            out = self._out(resource, row)
        if resource == "coupons":
            self._outbox.put(("coupon.updated", out))
        return out

    def delete_resource(self, resource: str, item_id: int, *, force: bool) -> dict[str, Any]:
        if resource == "webhooks" and not force:
            raise RestError(
                501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
            )
        with self.lock:
            row = self._table(resource).get(item_id)
            if row is None:
                raise invalid_id(resource)
            out = self._out(resource, row)
            # A trashed coupon is gone for checkout and for us alike: no trash state kept.
            del self._table(resource)[item_id]
        if resource == "coupons":
            self._outbox.put(("coupon.deleted", {"id": item_id}))
        return out

    # -- orders, for tests and the demo ------------------------------------------------------

    def place_order(
        self,
        items: Sequence[Item] = (Item("Linen shirt", 93, 1, "40.00"),),
        *,
        status: str = "processing",
        coupon_code: str | None = None,
        click_id: str | None = None,
        email: str = "sam.shopper@example.com",
        customer_id: int = 0,
        shipping: str = "5.00",
        tax_rate: str = "0",
        notify: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            coupon = None
            if coupon_code:
                coupon = next(
                    (c for c in self.coupons.values() if c["code"] == coupon_code.lower()), None
                )
                if coupon is None:
                    raise ValueError(f"coupon {coupon_code!r} does not exist in the store")
                resources.check_coupon_applies(coupon, self._tick_datetime())
                coupon["usage_count"] += 1
            order = build_order(
                order_id=next(self._ids),
                line_ids=[next(self._ids) for _ in items],
                items=items,
                when=self._tick(),
                status=status,
                currency=self.currency,
                email=email,
                customer_id=customer_id,
                coupon=coupon,
                click_id=click_id,
                shipping=shipping,
                tax_rate=tax_rate,
                home_url=self.home_url,
            )
            self.orders[order["id"]] = order
        if notify:
            self.deliver("order.created", order)
        return order

    def add_order(self, payload: Mapping[str, Any], *, notify: bool = False) -> dict[str, Any]:
        """Seed an order as given (e.g. a fixture), keeping its own dates."""
        with self.lock:
            order = dict(payload)
            self.orders[int(order["id"])] = order
        if notify:
            self.deliver("order.created", order)
        return order

    def update_order(self, order_id: int, *, notify: bool = True, **changes: Any) -> dict[str, Any]:
        with self.lock:
            order = modified_copy(self.orders[order_id], self._tick_datetime(), **changes)
            self.orders[order_id] = order
        if notify:
            self.deliver("order.updated", order)
        return order

    def refund_order(
        self, order_id: int, amount: str, *, reason: str = "", notify: bool = True
    ) -> dict[str, Any]:
        """A refund as WooCommerce records it: a negative `total` in `refunds[]`, newest first."""
        with self.lock:
            order = self.orders[order_id]
            refund = {
                "id": next(self._ids),
                "reason": reason,
                "total": money(-Decimal(amount)),
                "total_tax": "0.00",
            }
            refunds = [refund, *order["refunds"]]
            refunded = -sum((Decimal(r["total"]) for r in refunds), Decimal(0))
            status = "refunded" if refunded >= Decimal(order["total"]) else order["status"]
        return self.update_order(order_id, notify=notify, refunds=refunds, status=status)

    def delete_order(self, order_id: int, *, notify: bool = True) -> None:
        with self.lock:
            self.orders.pop(order_id, None)
        if notify:
            self.deliver("order.deleted", {"id": order_id})

    def create_coupon(
        self, code: str, amount: str = "10", discount_type: str = "percent"
    ) -> dict[str, Any]:
        return self._create_coupon({"code": code, "amount": amount, "discount_type": discount_type})

    # -- outbound ----------------------------------------------------------------------------

    def deliver(self, topic: str, payload: Any) -> list[hookshot.Delivery]:
        """Send `payload` to every active webhook on `topic`, once, like WooCommerce."""
        with self.lock:
            if self._muted:
                return []
            targets = [
                h for h in self.webhooks.values() if h["topic"] == topic and h["status"] == "active"
            ]
        sent = []
        for webhook in targets:
            body, headers = hookshot.webhook_request(webhook, payload, self.home_url)
            status = self.transport(webhook["delivery_url"], body, headers)
            with self.lock:
                hookshot.record_outcome(webhook, status)
            delivery = hookshot.Delivery(
                webhook["id"], topic, webhook["delivery_url"], body, headers, status
            )
            self.deliveries.append(delivery)
            sent.append(delivery)
        return sent

    def _send_queued(self) -> None:
        while True:
            item = self._outbox.get()
            try:
                if item is None:
                    return
                self.deliver(*item)
            finally:
                self._outbox.task_done()

    @contextmanager
    def webhooks_down(self) -> Iterator[None]:
        """Changes made inside are never delivered (a cron that never ran, a lost request)."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    # -- internals ---------------------------------------------------------------------------

    def coupon_by_code(self, code: str) -> dict[str, Any] | None:
        with self.lock:
            return next((c for c in self.coupons.values() if c["code"] == code.lower()), None)

    def _create_coupon(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            code = resources.coupon_code(body)
            if any(c["code"] == code for c in self.coupons.values()):
                raise resources.duplicate_code()
            coupon = resources.new_coupon(body, next(self._ids), self._tick(), self.timezone)
            self.coupons[coupon["id"]] = coupon
            return resources.coupon_out(coupon, self.home_url, self.timezone)

    def _create_webhook(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            webhook = resources.new_webhook(body, next(self._ids), self._tick())
            self.webhooks[webhook["id"]] = webhook
        if webhook["status"] == "active":
            self._ping(webhook)
        return resources.webhook_out(webhook, self.home_url)

    def _ping(self, webhook: dict[str, Any]) -> None:
        body, headers = hookshot.ping_request(webhook["id"])
        status = self.transport(webhook["delivery_url"], body, headers)
        # WC_Webhook::deliver_ping: only exactly 200 clears pending_delivery.
        webhook["pending_delivery"] = status != 200
        self.pings.append(
            hookshot.Delivery(webhook["id"], "ping", webhook["delivery_url"], body, headers, status)
        )

    def _table(self, resource: str) -> dict[int, dict[str, Any]]:
        return {"coupons": self.coupons, "webhooks": self.webhooks, "orders": self.orders}[resource]

    def _out(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        if resource == "coupons":
            return resources.coupon_out(row, self.home_url, self.timezone)
        if resource == "webhooks":
            return resources.webhook_out(row, self.home_url)
        return dict(row)

    def _tick_datetime(self) -> datetime:
        """Store time, strictly increasing by whole seconds: `date_modified` always moves on."""
        with self.lock:
            now = datetime.now(UTC).replace(microsecond=0)
            self._last_tick = max(now, self._last_tick + timedelta(seconds=1))
            return self._last_tick

    def _tick(self) -> str:
        return self._tick_datetime().strftime("%Y-%m-%dT%H:%M:%S")
