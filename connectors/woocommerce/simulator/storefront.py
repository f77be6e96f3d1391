"""The simulated store's shop front: product pages at /product/<slug>/ like a WordPress theme's,
applying a `?coupon=CODE` the way WooCommerce's URL-coupon feature does (the code must exist
and be live), so a referral link lands on a real page with its discount shown."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.woocommerce.simulator.store import SimulatedStore

PRODUCT_PATH = re.compile(r"^/product/(?P<slug>[a-z0-9-]+)/?$")


@dataclass(frozen=True)
class ShopProduct:
    slug: str
    name: str
    price: str  # decimal text in the store currency, as WooCommerce's REST API gives it


def product_page(store: SimulatedStore, path: str, coupon: str | None) -> tuple[int, str]:
    match = PRODUCT_PATH.match(path)
    product = store.shop_products.get(match["slug"]) if match else None
    if product is None:
        return 404, "<h1>Page not found</h1>"
    notice = ""
    if coupon:
        found = next(
            (c for c in store.coupons.values() if str(c.get("code", "")).lower() == coupon.lower()),
            None,
        )
        if found is not None and found.get("status", "publish") == "publish":
            kind = found.get("discount_type", "percent")
            amount = _plain(str(found.get("amount", "")))
            off = f"{amount}% off" if kind == "percent" else f"{store.currency} {amount} off"
            notice = (
                f'<p class="woocommerce-message">Coupon code “{html.escape(coupon)}” applied '
                f"successfully: {html.escape(off)} at checkout.</p>"
            )
        else:
            notice = (
                f'<p class="woocommerce-error">Coupon “{html.escape(coupon)}” does not exist!</p>'
            )
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(product.name)} - Simulated WooCommerce store</title></head><body>"
        f"{notice}<h1 class=product_title>{html.escape(product.name)}</h1>"
        f"<p class=price>{html.escape(store.currency)} {html.escape(product.price)}</p>"
        '<button type="submit" name="add-to-cart">Add to cart</button></body></html>'
    )
    return 200, page


def _plain(amount: str) -> str:
    """ "10.00" -> "10", "7.50" -> "7.50": how WooCommerce prints a coupon's amount."""
    whole, _, cents = amount.partition(".")
    return whole if cents.strip("0") == "" else amount
