"""The click-capture app embed's script in headless Chromium, on a stand-in storefront.

Playwright answers every request of the fake https storefront itself (the page, the asset, the
Ajax Cart API), so the script runs exactly as shipped, on a real origin, with nothing on the
network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from connectors.shopify.app_toml import OUTPUT
from tests.browser_server import chromium

pytestmark = pytest.mark.browser

STORE = "https://jsmith.myshopify.com"
SCRIPT = (
    OUTPUT.parent / "extensions" / "tastemaker-theme" / "assets" / "click-capture.js"
).read_bytes()
FIRST = "0123456789abcdef0123456789abcdef"
SECOND = "fedcba9876543210fedcba9876543210"


@dataclass
class Storefront:
    page: Page
    cart_updates: list[dict[str, Any]] = field(default_factory=list)
    consent: str = "undefined"

    def open(self, path: str) -> None:
        # networkidle: the page, the deferred script and any cart request it made have settled.
        self.page.goto(STORE + path, wait_until="networkidle")

    def cookie(self, name: str) -> str | None:
        for cookie in self.page.context.cookies(STORE):
            if cookie["name"] == name:
                return cookie["value"]
        return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def storefront(browser: Browser) -> Iterator[Storefront]:
    context = browser.new_context()
    page = context.new_page()
    shop = Storefront(page)

    def handle(route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(STORE).split("?", 1)[0]
        if path == "/cdn/click-capture.js":
            route.fulfill(body=SCRIPT, content_type="application/javascript")
        elif path == "/cart/update.js" and request.method == "POST":
            shop.cart_updates.append(json.loads(request.post_data or "{}"))
            route.fulfill(
                json={"token": "c1", "attributes": shop.cart_updates[-1]["attributes"]},
                headers={"Set-Cookie": "cart=c1; Path=/; Secure"},
            )
        else:
            route.fulfill(
                content_type="text/html",
                body=(
                    "<!doctype html><title>Store</title>"
                    f"<script>window.Shopify = {{customerPrivacy: {shop.consent}}};</script>"
                    '<div id="tastemaker-click-capture" data-days="30" hidden></div>'
                    '<script src="/cdn/click-capture.js" defer></script><p>product</p>'
                ),
            )

    page.route(f"{STORE}/**", handle)
    yield shop
    context.close()


def test_the_landing_click_reaches_the_cart_and_a_first_party_cookie(
    storefront: Storefront,
) -> None:
    # when the shopper lands from a referral link
    storefront.open(f"/products/shoe?utm_source=tastemaker&tm_click={FIRST}")
    # then
    assert storefront.cart_updates == [{"attributes": {"tm_click": FIRST}}]
    assert storefront.cookie("tm_click") == FIRST


def test_the_cart_is_written_once_per_value(storefront: Storefront) -> None:
    storefront.open(f"/products/shoe?tm_click={FIRST}")
    # when browsing on without the parameter
    storefront.open("/collections/all")
    storefront.open("/products/hat")
    # then nothing new was written
    assert storefront.cart_updates == [{"attributes": {"tm_click": FIRST}}]


def test_a_later_click_is_appended_oldest_first(storefront: Storefront) -> None:
    storefront.open(f"/products/shoe?tm_click={FIRST}")
    storefront.open(f"/products/hat?tm_click={SECOND}")
    assert storefront.cart_updates[-1] == {"attributes": {"tm_click": f"{FIRST},{SECOND}"}}
    assert storefront.cookie("tm_click") == f"{FIRST}%2C{SECOND}"


@pytest.mark.parametrize("value", ["short", FIRST.upper(), FIRST + "00", "<script>"])
def test_anything_but_a_click_id_is_ignored(storefront: Storefront, value: str) -> None:
    storefront.open(f"/products/shoe?tm_click={value}")
    assert storefront.cart_updates == []
    assert storefront.cookie("tm_click") is None


def test_without_marketing_consent_nothing_is_stored_but_the_order_is_still_attributed(
    storefront: Storefront,
) -> None:
    storefront.consent = "{marketingAllowed: () => false}"
    storefront.open(f"/products/shoe?tm_click={FIRST}")
    assert storefront.cart_updates == [{"attributes": {"tm_click": FIRST}}]
    assert storefront.cookie("tm_click") is None
