"""The demo part: a simulated store connected and selling through the app served over HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from plugin import create_app
from plugin.db import get_db
from plugin.demo import woocommerce as demo
from plugin.migrate import upgrade
from plugin.models import Order, Shop, WebhookEvent
from tests.conftest import make_settings


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The embedded default (SQLite file, in-process jobs) serving on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", public_url=base_url
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base_url
    server.shutdown()
    thread.join()
    app.extensions[demo.STORE_KEY].stop()
    get_db(app).dispose()


def test_demo_connects_a_store_and_takes_orders_through_signed_webhooks(
    served: tuple[Flask, str],
) -> None:
    # when
    app, base_url = served
    lines = demo.start(app, base_url)
    # then the store was connected through wc-auth and its orders arrived as webhooks
    store = app.extensions[demo.STORE_KEY]
    assert lines[0] == f"WooCommerce (a simulated store at {store.url}, connected through wc-auth):"
    assert lines[-1].strip() == "webhooks accepted   4 of 4; pings answered 5 of 5"
    with app.app_context():
        session = get_db(app).session()
        [shop] = session.scalars(select(Shop).where(Shop.platform == "woocommerce")).all()
        orders = session.scalars(select(Order).order_by(Order.platform_order_id)).all()
        assert (shop.name, shop.status) == ("Fjord Knitwear", "active")
        assert [(o.status, o.discount_codes, o.click_uid is not None) for o in orders] == [
            ("paid", ["nina10"], True),
            ("paid", [], False),
            ("partially_refunded", ["nina10"], False),
        ]
        assert {e.status for e in session.scalars(select(WebhookEvent))} == {"processed"}
    # and the printed API key works (no key travels in a printed URL)
    key = lines[1].split("API key ", 1)[1].split(";", 1)[0]
    assert f"{base_url}/admin " in lines[1]
    assert "?key=" not in "".join(lines)
    shop_api = requests.get(
        f"{base_url}/api/v1/shop", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert shop_api.json()["platform"] == "woocommerce"
    # and the referral link lands on the store's product page with the creator's coupon applied
    (link_line,) = [line for line in lines if "referral link" in line]
    slug = link_line.split("/r/", 1)[1].split()[0]
    landing = requests.get(
        f"{base_url}/r/{slug}",
        headers={"User-Agent": "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15"},
        timeout=10,
    )
    assert landing.status_code == 200
    assert landing.url.startswith(f"{store.url}/product/merino-scarf/?")
    assert "<h1 class=product_title>Merino scarf</h1>" in landing.text
    assert "Coupon code “NINA10” applied successfully: 10% off at checkout." in landing.text


def test_the_simulated_shop_front_refuses_unknown_pages_and_coupons() -> None:
    from connectors.woocommerce.simulator import SimulatedStore
    from connectors.woocommerce.simulator.storefront import ShopProduct

    with SimulatedStore(transport=lambda url, body, headers: 200) as store:
        store.shop_products["merino-scarf"] = ShopProduct("merino-scarf", "Merino scarf", "48.00")
        store.create_coupon("HALF", amount="7.50", discount_type="fixed_cart")
        unknown = requests.get(f"{store.url}/product/teapot/", timeout=10)
        fake = requests.get(f"{store.url}/product/merino-scarf/?coupon=FREE", timeout=10)
        fixed = requests.get(f"{store.url}/product/merino-scarf/?coupon=half", timeout=10)
    assert (unknown.status_code, unknown.text) == (404, "<h1>Page not found</h1>")
    assert "Coupon “FREE” does not exist!" in fake.text
    assert "applied successfully: USD 7.50 off at checkout." in fixed.text
