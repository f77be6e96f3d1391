"""The demo part: seeded catalog and posts per sandbox shop, and the sample product page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.demo.ugc import HOSTILE_CAPTION, start
from plugin.models.ugc import ProductSnapshot, UgcPost
from tests.ugc.factories import make_shop


def test_the_demo_seeds_each_sandbox_shop_once_and_names_its_product_page(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    # given a sandbox shop and a real-platform shop
    sandbox = make_shop(session, "demo.sandbox")
    make_shop(session, "real.myshopify.com", platform="shopify")
    session.commit()
    # when the demo part starts twice
    lines = start(app, "http://127.0.0.1:5000/")
    start(app, "http://127.0.0.1:5000")
    # then
    assert lines == [
        "UGC carousel on a sample product page (demo.sandbox): "
        "http://127.0.0.1:5000/demo/shop/pk_demo.sandbox/products/1001"
    ]
    assert session.scalar(select(func.count()).select_from(UgcPost)) == 8
    assert session.scalar(select(func.count()).select_from(ProductSnapshot)) == 3
    assert {p.shop_id for p in session.scalars(select(UgcPost))} == {sandbox.id}
    # and only the eligible posts reach the storefront, the hostile one as plain text
    feed = client.get("/storefront/pk_demo.sandbox/ugc?product=1001").get_json()
    assert [post["author"] for post in feed["posts"]] == [
        "maya.moves",
        "jo_runs",
        "sam.outdoors",
        "lena.daily",
        "not_a_hacker",
    ]
    hostile = feed["posts"][-1]
    assert (hostile["caption"], hostile["url"]) == (HOSTILE_CAPTION, None)
    assert [post["disclosure"] for post in feed["posts"]] == [
        "Paid partnership",
        "",
        "Paid partnership",
        "Rewarded post",
        "",
    ]


def test_the_sample_page_and_its_sandbox_cart(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    # given a seeded sandbox shop and a real-platform shop
    shop = make_shop(session, "demo.sandbox")
    make_shop(session, "real.myshopify.com", platform="shopify")
    session.commit()
    start(app, "https://tastemaker.test")
    # when
    page = client.get("/demo/shop/pk_demo.sandbox/products/1001")
    # then the page is served under a strict CSP, with no inline script or style
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "require-trusted-types-for 'script'" in csp
    html = page.get_data(as_text=True)
    assert '<tastemaker-ugc shop="pk_demo.sandbox" product="1001"' in html
    assert "<script>" not in html
    assert "style=" not in html
    assert f'<img class="hero" src="/media/demo/{shop.id}/product-1001.webp"' in html
    with client.get(f"/media/demo/{shop.id}/product-1001.webp") as image:
        assert (image.status_code, image.mimetype) == (200, "image/webp")
    # and only sandbox shops' known products have a page
    assert client.get("/demo/shop/pk_demo.sandbox/products/9999").status_code == 404
    assert client.get("/demo/shop/pk_real.myshopify.com/products/1001").status_code == 404
    # and the sandbox cart answers like Shopify's Ajax Cart
    added = client.post(
        "/demo/shop/pk_demo.sandbox/cart/add.js", json={"items": [{"id": 2001, "quantity": 1}]}
    )
    assert added.get_json() == {
        "items": [
            {
                "id": "2001",
                "product_id": "1001",
                "title": "Rose Glow Serum",
                "quantity": 1,
                "price": 3400,
            }
        ]
    }
    unknown = client.post("/demo/shop/pk_demo.sandbox/cart/add.js", json={"items": [{"id": 5}]})
    assert (unknown.status_code, unknown.get_json()["description"]) == (422, "Cannot find variant")
