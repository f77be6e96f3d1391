"""The demo's sample product page for a sandbox store, with the UGC carousel on it.

It is served under a strict Content-Security-Policy (no inline script or style, Trusted Types
enforced) so the demo and the browser tests show the widget working where a cautious merchant's
page would. The sandbox cart answers like Shopify's Ajax Cart.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from plugin.db import get_session
from plugin.domain.money import format_minor_units
from plugin.models import Shop
from plugin.models.ugc import ProductSnapshot
from plugin.tenancy import Tenant
from plugin.web.storefront_assets import loader_name

DEMO_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types tastemaker",
    )
)


def hero_image_path(shop_id: int, product_id: str) -> str:
    """Where the demo seeder writes a product's picture, relative to the media directory."""
    return f"demo/{shop_id}/product-{product_id}.webp"


def _sandbox_product(public_key: str, product_id: str) -> tuple[Shop, ProductSnapshot]:
    session = get_session()
    shop = session.scalars(select(Shop).where(Shop.public_key == public_key)).first()
    if shop is None or shop.platform != "sandbox":
        raise NotFound()
    product = Tenant(session, shop.id).first(
        ProductSnapshot, ProductSnapshot.product_id == product_id
    )
    if product is None:
        raise NotFound()
    return shop, product


def product_page(public_key: str, product_id: str) -> ResponseReturnValue:
    """The sample product page. `?page=heavy`: a heavier page (1600 px picture, a theme stylesheet,
    analytics, reviews and chat stand-ins), as real stores' pages are; `?carousel=off`: the same
    page without the loader and the element (benchmarks/widget_lighthouse.py compares them)."""
    shop, product = _sandbox_product(public_key, product_id)
    media_dir: Path = current_app.config["TASTEMAKER"].media_dir
    heavy = request.args.get("page") == "heavy"
    hero = hero_image_path(shop.id, product.product_id)
    if heavy:
        hero = hero.removesuffix(".webp") + "-large.webp"
    html = render_template(
        "ugc/demo_product.html",
        shop=shop,
        product=product,
        price=f"{format_minor_units(product.price_minor, product.currency)} {product.currency}",
        hero_url=url_for("storefront.media_file", path=hero)
        if (media_dir / hero).exists()
        else None,
        api=current_app.config["TASTEMAKER"].public_url,
        loader=loader_name(),
        carousel=request.args.get("carousel") != "off",
        heavy=heavy,
        cart_root=f"/demo/shop/{shop.public_key}/",
        try_and_tag_url=_try_and_tag_url(shop, product.product_id),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DEMO_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def cart_add(public_key: str) -> ResponseReturnValue:
    """Shopify Ajax Cart's POST /cart/add.js shape: {"items": [{"id": variant, "quantity": n}]}."""
    session = get_session()
    shop = session.scalars(select(Shop).where(Shop.public_key == public_key)).first()
    if shop is None or shop.platform != "sandbox":
        raise NotFound()
    data = request.get_json(silent=True)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return _cart_error(422, "items is required")
    tenant = Tenant(session, shop.id)
    added = []
    for item in items:
        variant = str(item.get("id", "")) if isinstance(item, dict) else ""
        product = tenant.first(ProductSnapshot, ProductSnapshot.variant_id == variant)
        if product is None:
            return _cart_error(422, "Cannot find variant")
        quantity = item.get("quantity", 1)
        added.append(
            {
                "id": variant,
                "product_id": product.product_id,
                "title": product.title,
                "quantity": quantity if isinstance(quantity, int) and quantity > 0 else 1,
                "price": product.price_minor,
            }
        )
    return Response(json.dumps({"items": added}), mimetype="application/json")


def _try_and_tag_url(shop: Shop, product_id: str) -> str | None:
    """The product page links to the shop's Try & Tag page while the program is on."""
    from plugin.services.rewards import get_program
    from plugin.tenancy import Tenant

    program = get_program(Tenant(get_session(), shop.id))
    if program is None or not program.enabled:
        return None
    return url_for("try_and_tag.form", public_key=shop.public_key, product=product_id)


def _cart_error(status: int, description: str) -> Response:
    body = {"status": status, "message": "Cart Error", "description": description}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        "/demo/shop/<public_key>/products/<product_id>", "demo_product_page", product_page
    )
    bp.add_url_rule(
        "/demo/shop/<public_key>/cart/add.js", "demo_cart_add", cart_add, methods=["POST"]
    )
