"""The sandbox storefront: a referral link lands there, and its checkout sends real webhooks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import Order, ReferralLink, WebhookEvent
from tests.links.conftest import Store


def test_a_referral_link_lands_on_the_sandbox_product_page_with_its_click_and_code(
    client: FlaskClient, follow: Callable[..., Any], link: ReferralLink
) -> None:
    # given
    location = follow(link.slug).headers["Location"]
    click_id = re.search(r"tm_click=([0-9a-f]{32})", location)[1]  # type: ignore[index]
    # when
    page = client.get(location.removeprefix("https://tastemaker.test"))
    # then
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<code id="tm-click">{click_id}</code>' in html
    assert '<code id="tm-code">AVA10</code>' in html
    assert html.count(f'name="tm_click" value="{click_id}"') == 2  # one per product's Buy form
    assert 'id="buy-ceramic-mug"' in html


def test_the_product_page_escapes_what_the_visitor_sent(client: FlaskClient, store: Store) -> None:
    page = client.get('/sandbox/mugs.example/?tm_click="><script>alert(1)</script>')
    html = page.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_an_unknown_sandbox_shop_is_a_404(client: FlaskClient, store: Store) -> None:
    assert client.get("/sandbox/nowhere.example/").status_code == 404


def test_checkout_places_an_order_whose_signed_webhooks_carry_the_click_and_code(
    client: FlaskClient, session: Session, store: Store, run_jobs: Callable[[], int]
) -> None:
    # when a visitor who arrived with a click id and the creator's code buys two mugs
    response = client.post(
        "/sandbox/mugs.example/checkout",
        data={
            "product_id": "101",
            "quantity": "2",
            "tm_click": "c" * 32,
            "discount": "ava10",
            "landing": "/sandbox/mugs.example/products/mug?tm_click=" + "c" * 32,
            "email": "Shopper@Example.com",
        },
    )
    # then the thank-you page shows the order and that both webhooks were accepted
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Thank you for your order" in html
    assert html.count("→ HTTP 200") == 2
    # and the app's inbox holds both deliveries, verified, with the click id and the code
    events = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    assert [e.topic for e in events] == ["orders/create", "orders/paid"]
    paid = json.loads(events[1].body)
    assert paid["click_id"] == "c" * 32
    assert paid["discount_codes"] == ["AVA10"]
    # 10 % off two 24.00 mugs
    assert (paid["subtotal_minor"], paid["discount_minor"]) == (4320, 480)
    assert paid["customer"]["first_order"] is True
    # and once processed, the order is stored with its click id
    run_jobs()
    order = session.scalars(select(Order)).one()
    assert (order.click_uid, order.net_item_revenue_minor) == ("c" * 32, 4320)


def test_a_returning_customer_is_not_a_first_order(
    client: FlaskClient, session: Session, store: Store, run_jobs: Callable[[], int]
) -> None:
    # given a first purchase, processed
    form = {"product_id": "102", "email": "again@example.com"}
    client.post("/sandbox/mugs.example/checkout", data=form)
    run_jobs()
    # when the same shopper buys again
    client.post("/sandbox/mugs.example/checkout", data=form)
    # then
    last = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert last is not None
    assert json.loads(last.body)["customer"]["first_order"] is False


def test_checkout_refuses_an_unknown_product(client: FlaskClient, store: Store) -> None:
    assert (
        client.post("/sandbox/mugs.example/checkout", data={"product_id": "x"}).status_code == 400
    )
    assert (
        client.post("/sandbox/mugs.example/checkout", data={"product_id": "9"}).status_code == 400
    )
