"""The sandbox store's storefront: where sandbox referral links land, and where demo orders happen.

`GET /sandbox/<domain>/<path>` is the simulated shop's product page; it shows the click id and
discount code the referral link brought (as a real theme's click-capture snippet would keep them
in the cart). `POST /sandbox/<domain>/checkout` places the order in the simulated store
(connectors.sandbox.store), which sends its signed webhooks to the app's real
`/webhooks/sandbox` endpoint in-process, so the whole loop (click → order → attribution →
commission) runs through the same code as a real platform's.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, render_template_string, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from connectors.sandbox.store import Item, SandboxStore, Transport
from plugin.crypto import hash_email
from plugin.db import get_db, get_session
from plugin.domain.money import format_minor_units
from plugin.extensions import credentials
from plugin.models import DiscountCode, Order, Shop
from plugin.services.shops import find_shop, shop_context

bp = Blueprint("sandbox_store", __name__)

STORES_KEY = "tastemaker.sandbox_stores"


@dataclass(frozen=True)
class Product:
    product_id: int
    variant_id: int
    handle: str
    title: str
    price_minor: int
    blurb: str


PRODUCTS = (
    Product(101, 1011, "ceramic-mug", "Ceramic Mug", 2400, "Stoneware, 350 ml, glazed by hand."),
    Product(102, 1021, "pour-over-kettle", "Pour-over Kettle", 5900, "Gooseneck, 1 l, steel."),
)
_BY_ID = {product.product_id: product for product in PRODUCTS}


def _stores(app: Flask) -> tuple[threading.Lock, dict[str, SandboxStore]]:
    stores: tuple[threading.Lock, dict[str, SandboxStore]] = app.extensions.setdefault(
        STORES_KEY, (threading.Lock(), {})
    )
    return stores


def _in_process_transport(app: Flask) -> Transport:
    """Deliver webhooks to this app's own endpoint without a socket (works on any server)."""

    def send(path: str, body: bytes, headers: dict[str, str]) -> int:
        return app.test_client().post(path, data=body, headers=headers).status_code

    return send


def _store_for(app: Flask, domain: str, webhook_secret: str, currency: str) -> SandboxStore:
    stores = _stores(app)[1]
    store = stores.get(domain)
    if store is None or store.webhook_secret != webhook_secret:
        # Ids continue from the clock, so a restarted app never reuses an order id.
        start = int(time.time() * 1000)
        store = stores[domain] = SandboxStore(
            domain=domain,
            webhook_secret=webhook_secret,
            transport=_in_process_transport(app),
            currency=currency,
            _order_ids=itertools.count(start),
            _refund_ids=itertools.count(start),
            _line_ids=itertools.count(start),
        )
    return store


def _sandbox_shop(domain: str) -> Shop:
    shop = find_shop(get_session(), "sandbox", domain)
    if shop is None or not shop.is_active:
        abort(404)
    return shop


def _money(minor: int, currency: str) -> str:
    return f"{format_minor_units(minor, currency)} {currency}"


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        abort(400)


@bp.get("/sandbox/<domain>/")
@bp.get("/sandbox/<domain>/<path:path>")
def product_page(domain: str, path: str = "") -> ResponseReturnValue:
    shop = _sandbox_shop(domain)
    args = request.args
    return render_template_string(
        _PRODUCT_PAGE,
        shop=shop,
        products=PRODUCTS,
        money=_money,
        click_id=args.get("tm_click", "")[:64],
        code=args.get("discount", "")[:64],
        landing=request.full_path[:2048],
        utm={key: value for key, value in args.items() if key.startswith("utm_")},
    )


@bp.post("/sandbox/<domain>/checkout")
def checkout(domain: str) -> ResponseReturnValue:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    shop = _sandbox_shop(domain)
    form = request.form
    product = _BY_ID.get(_int(form.get("product_id"), 0))
    if product is None:
        abort(400)
    qty = max(1, min(_int(form.get("quantity"), 1), 20))
    code_text = form.get("discount", "").strip()[:64] or None
    code = (
        session.scalars(
            select(DiscountCode).where(
                DiscountCode.shop_id == shop.id,
                DiscountCode.code_normalized == code_text.lower(),
                DiscountCode.status == "active",
            )
        ).first()
        if code_text
        else None
    )
    gross = product.price_minor * qty
    discount_bps = 0
    if code is not None:
        discount_bps = (
            code.value if code.kind == "percentage" else min(10_000, code.value * 10_000 // gross)
        )
    email = form.get("email", "").strip()[:254]
    customer_id = (
        int(hashlib.sha256(email.lower().encode()).hexdigest()[:12], 16) if email else None
    )
    first_order = None
    if customer_id is not None:
        first_order = (
            session.scalar(
                select(Order.id).where(
                    Order.shop_id == shop.id, Order.customer_ref == str(customer_id)
                )
            )
            is None
        )
    secret = str(shop_context(session, credentials(), shop).credentials.get("webhook_secret", ""))
    currency, shop_name, applied_code = shop.currency, shop.name, code.code if code else None
    # The webhooks below run through the app in this thread and share its scoped session: end
    # this request's transaction first (and with it SQLite's write lock).
    get_db().session.remove()
    lock, _ = _stores(app)
    with lock:
        store = _store_for(app, domain, secret, currency)
        already_sent = len(store.deliveries)  # 0 unless another checkout failed midway
        order = store.place_order(
            [
                Item(
                    product.product_id,
                    product.variant_id,
                    product.title,
                    product.price_minor,
                    qty,
                )
            ],
            discount_code=applied_code,
            discount_bps=discount_bps,
            click_id=form.get("tm_click", "").strip()[:64] or None,
            landing_site=form.get("landing", "")[:2048] or None,
            customer_id=customer_id,
            customer_email_hash=hash_email(email),
            first_order=first_order,
        )
        deliveries = store.deliveries[already_sent:]
        del store.deliveries[:]  # shown once; a long-running store must not accumulate them
    return render_template_string(
        _THANK_YOU_PAGE,
        shop_name=shop_name,
        order=order,
        money=_money,
        product=product,
        quantity=qty,
        deliveries=deliveries,
    ), 200 if all(200 <= d.status < 300 for d in deliveries) else 502


_STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
.products{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem}.muted{color:#666;font-size:.9rem}
.banner{background:#f4f0ff;border-radius:8px;padding:.75rem 1rem;margin:1rem 0}
button{background:#222;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;cursor:pointer}
input{padding:.4rem;margin:.25rem 0}code{background:#f3f3f3;padding:0 .25rem}
</style>"""

_PRODUCT_PAGE = (
    """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ shop.name or shop.domain }} (sandbox store)</title>"""
    + _STYLE
    + """</head><body>
<h1>{{ shop.name or shop.domain }}</h1>
<p class="muted">A simulated store (Tastemaker sandbox). Orders here send real signed webhooks.</p>
<div class="banner" id="referral">
{% if click_id %}Arrived through a creator link: click <code id="tm-click">{{ click_id }}</code>
{% else %}No referral click id on this visit.{% endif %}
{% if code %} · discount code <code id="tm-code">{{ code }}</code> applied{% endif %}
{% if utm %}<div class="muted">{% for k, v in utm.items() %}{{ k }}={{ v }} {% endfor %}</div>
{% endif %}</div>
<div class="products">
{% for p in products %}<form class="card" method="post"
 action="{{ url_for('sandbox_store.checkout', domain=shop.domain) }}">
<h2>{{ p.title }}</h2><p>{{ p.blurb }}</p><p><strong>{{ money(p.price_minor, shop.currency) }}
</strong></p>
<input type="hidden" name="product_id" value="{{ p.product_id }}">
<input type="hidden" name="tm_click" value="{{ click_id }}">
<input type="hidden" name="discount" value="{{ code }}">
<input type="hidden" name="landing" value="{{ landing }}">
<label>Qty <input type="number" name="quantity" value="1" min="1" max="20"></label><br>
<label>Email <input type="email" name="email" placeholder="you@example.com"></label><br>
<button type="submit" id="buy-{{ p.handle }}">Buy</button></form>
{% endfor %}</div></body></html>"""
)

_THANK_YOU_PAGE = (
    """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Thank you ({{ shop_name }})</title>"""
    + _STYLE
    + """</head><body>
<h1>Thank you for your order</h1>
<p>Order <strong id="order-number">{{ order.number }}</strong>:
{{ quantity }} &times; {{ product.title }},
total <strong>{{ money(order.total_minor, order.currency) }}</strong>
{% if order.discount_codes %}(code <code>{{ order.discount_codes[0] }}</code>){% endif %}.</p>
{% if order.click_id %}<p class="muted">Referral click id <code>{{ order.click_id }}</code>
travelled with the order.</p>{% endif %}
<h2>Webhooks sent by the store</h2><ul>
{% for d in deliveries %}<li><code>{{ d.topic }}</code> → HTTP {{ d.status }}</li>{% endfor %}
</ul></body></html>"""
)
