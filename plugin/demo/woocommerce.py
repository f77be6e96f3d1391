"""Demo part: a simulated WooCommerce store, connected through the real flow, taking orders.

Everything goes over HTTP as in production: the merchant's connect form, WooCommerce's
`/wc-auth/v1/authorize` POSTing the keys to our callback, webhook registration (answered pings),
the creator's coupon created by the codes job, a referral click, and orders arriving as signed
webhooks on /webhooks/woocommerce.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.simulator import Item, SimulatedStore, http_transport
from connectors.woocommerce.simulator.storefront import ShopProduct
from connectors.woocommerce.stores import origin_domain
from plugin.db import get_db
from plugin.extensions import connectors
from plugin.models import DiscountCode
from plugin.services import creators as creator_service
from plugin.services.links import create_link
from plugin.services.shops import find_shop, issue_api_key
from plugin.tenancy import Tenant
from workers.backends import InProcessBackend
from workers.runtime import get_backend

logger = logging.getLogger(__name__)

STORE_KEY = "tastemaker.demo.woocommerce_store"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"
SCARF = Item("Merino scarf", 201, 1, "48.00")
MITTENS = Item("Cable mittens", 202, 2, "22.00")
CREATOR = {"handle": "nina.knits", "name": "Nina Berg", "email": "nina@example.com"}


def start(app: Flask, base_url: str) -> list[str]:
    # The demo app runs on loopback http, which a real store refuses as a callback_url.
    store = SimulatedStore(transport=http_transport, allow_http_callbacks=True).start(_port(app))
    # The shop front the referral link lands on: the scarf's page, the coupon applied.
    for product in (SCARF, MITTENS):
        slug = product.name.lower().replace(" ", "-")
        store.shop_products[slug] = ShopProduct(slug, product.name, product.price)
    app.extensions[STORE_KEY] = store
    _point_connector_at(app, store.url)
    _connect(base_url, store.url)
    _wait_for_jobs(app)
    with app.app_context():
        slug, code, api_key = _seed_creator(app, origin_domain(store.url))
    _wait_for_jobs(app)
    click = _click(base_url, slug)
    coupon = code if code.lower() in {c["code"] for c in store.coupons.values()} else None
    store.place_order([SCARF], coupon_code=coupon, click_id=click, email="kari@example.net")
    store.place_order([MITTENS], email="ola@example.net")
    refunded = store.place_order([SCARF, MITTENS], coupon_code=coupon, email="eva@example.net")
    store.refund_order(refunded["id"], "20.00", reason="one mitten too small")
    _wait_for_jobs(app)
    accepted = sum(1 for delivery in store.deliveries if 200 <= delivery.status < 303)
    return [
        f"WooCommerce (a simulated store at {store.url}, connected through wc-auth):",
        f"  merchant admin      {base_url}/admin  (sign in with the API key {api_key}; a real",
        "                      store's wp-admin opens it signed in: WooCommerce > Tastemaker)",
        f"  referral link       {base_url}/r/{slug}  (lands on the scarf's page, {code} applied)",
        f"  store REST API      {store.url}/wp-json/wc/v3/orders  (keys in the shop's credentials)",
        f"  connect another     {base_url}/woocommerce/connect",
        f"  webhooks accepted   {accepted} of {len(store.deliveries)}; pings answered "
        f"{sum(1 for ping in store.pings if ping.status == 200)} of {len(store.pings)}",
    ]


def _port(app: Flask) -> int:
    """The override's port when one is configured (TASTEMAKER_WOOCOMMERCE_BASE_URL), else any."""
    override = connectors(app).config.woocommerce_base_url_override
    port = urlsplit(override).port if override else None
    return port or 0


def _point_connector_at(app: Flask, url: str) -> None:
    registry = connectors(app)
    registry.config = replace(registry.config, woocommerce_base_url_override=url)
    connector = registry.get("woocommerce")
    if isinstance(connector, WooCommerceConnector):
        connector.configure(registry.config)


def _connect(base_url: str, store_url: str) -> None:
    """The merchant's side of the connect flow (the return page signs that browser in)."""
    form = requests.post(
        f"{base_url}/woocommerce/connect",
        data={"store_url": store_url},
        allow_redirects=False,
        timeout=30,
    )
    authorize = requests.get(form.headers["Location"], allow_redirects=False, timeout=60)
    returned = requests.get(authorize.headers["Location"], timeout=30)
    if "Store connected" not in returned.text:
        raise RuntimeError(f"WooCommerce demo store did not connect: {returned.text[:300]}")


def _seed_creator(app: Flask, domain: str) -> tuple[str, str, str]:
    session = get_db(app).session()
    shop = find_shop(session, "woocommerce", domain)
    if shop is None:
        raise RuntimeError(f"the demo store {domain} is not connected")
    shop.name = "Fjord Knitwear"
    shop.hold_days = 0
    tenant = Tenant(session, shop.id)
    creator = creator_service.create_creator(tenant, CREATOR)
    session.flush()
    creator_service.create_agreement(
        tenant,
        {"creator_id": creator.id, "commission_rate_bps": 1000, "payment_schedule": "monthly"},
    )
    code: DiscountCode = creator_service.create_discount_code(
        tenant, {"creator_id": creator.id, "code": "NINA10", "kind": "percentage", "value": 1000}
    )
    link = create_link(
        session, shop.id, creator.id, target_path="/product/merino-scarf/", discount_code_id=code.id
    )
    _, api_key = issue_api_key(session, shop.id, label="demo")
    session.commit()
    return link.slug, code.code, api_key


def _click(base_url: str, slug: str) -> str | None:
    response = requests.get(
        f"{base_url}/r/{slug}", headers={"User-Agent": BROWSER}, allow_redirects=False, timeout=10
    )
    values: Any = parse_qs(urlsplit(response.headers.get("Location", "")).query).get("tm_click")
    return values[0] if values else None


def _wait_for_jobs(app: Flask) -> None:
    backend = get_backend(app)
    if isinstance(backend, InProcessBackend):
        backend.drain(timeout=60)
