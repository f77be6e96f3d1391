"""Demo part: a product catalog and UGC posts for every sandbox shop, and its sample product page.

Seeded through the real services (so audit trails and feed versions are real), with pictures drawn
by Pillow at seed time (no network). Only some posts are eligible for the storefront: the pending,
revoked and email-only ones are seeded to show they never appear, and one carries a hostile caption
and a javascript: link to show both stay inert.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import get_db
from plugin.models import Creator, Shop, utcnow
from plugin.models.ugc import UgcPost
from plugin.services import ugc as service
from plugin.services import ugc_rights as rights
from plugin.services.media import store_upload
from plugin.tenancy import Tenant
from plugin.web.storefront_demo import hero_image_path

HOSTILE_CAPTION = "<img src=x onerror=alert(1)>"
HOSTILE_URL = "javascript:alert(1)"
# The sandbox store's own catalog (plugin.demo.sandbox sells the same ids): posts, links and
# orders all talk about the same three products.
PRODUCTS = (
    ("1001", "Rose Glow Serum", 3400, "2001", "/products/rose-glow-serum", ((244, 194, 194), 1)),
    ("1002", "Cloud Lip Balm", 1200, "2002", "/products/cloud-lip-balm", ((222, 206, 240), 2)),
    ("1003", "Dew Face Mist", 2200, "2003", "/products/dew-face-mist", ((198, 228, 222), 3)),
)

TITLES = {product[0]: product[1] for product in PRODUCTS}


@dataclass(frozen=True)
class DemoPost:
    handle: str
    source: str
    caption: str
    products: tuple[str, ...]
    colors: tuple[tuple[int, int, int], tuple[int, int, int]]
    # approved+on_site (shown), pending, revoked, email_only, hostile (shown, inert)
    fate: str
    featured: bool = False


POSTS = (
    DemoPost(
        "maya.moves",
        "creator",
        "#ad Morning routine: two drops of the Rose Glow Serum before sunscreen. "
        "Glass skin by 8am.",
        ("1001",),
        ((255, 183, 148), (186, 104, 200)),
        "shown",
        featured=True,
    ),
    DemoPost(
        "sam.outdoors",
        "creator",
        "Paid partnership: three days of hiking; the lip balm kept my lips happy, serum at night.",
        ("1002", "1001"),
        ((129, 199, 132), (38, 120, 140)),
        "shown",
    ),
    DemoPost(
        "lena.daily",
        "try_and_tag",
        "Ordered the serum on Monday, skin already looks brighter by Friday.",
        ("1001",),
        ((255, 224, 130), (239, 108, 0)),
        "shown",
    ),
    DemoPost(
        "jo_runs",
        "merchant",
        "Our Dew Face Mist, on the desk for the 3pm slump.",
        ("1003", "1001"),
        ((144, 202, 249), (48, 63, 159)),
        "shown",
        featured=True,
    ),
    DemoPost(
        "not_a_hacker",
        "merchant",
        HOSTILE_CAPTION,
        ("1001",),
        ((90, 90, 90), (20, 20, 20)),
        "hostile",
    ),
    DemoPost(
        "priya.makes",
        "creator",
        "Tried the serum for two weeks, no breakouts. #sponsored",
        ("1001",),
        ((248, 187, 208), (194, 24, 91)),
        "pending",
    ),
    DemoPost(
        "rae.wanders",
        "creator",
        "Serum under moisturiser, every single day. #ad",
        ("1001",),
        ((255, 171, 145), (191, 54, 12)),
        "revoked",
    ),
    DemoPost(
        "eli.brews",
        "creator",
        "Serum + cold brew = Sunday. #ad",
        ("1001",),
        ((179, 157, 219), (69, 39, 160)),
        "email_only",
    ),
)


def start(app: Flask, base_url: str) -> list[str]:
    """Seed every active sandbox shop (once) and name its sample product page."""
    media_dir: Path = app.config["TASTEMAKER"].media_dir
    lines = []
    with app.app_context(), get_db(app).transaction() as session:
        shops = session.scalars(
            select(Shop).where(Shop.platform == "sandbox", Shop.status == "active")
        ).all()
        for shop in shops:
            seed_shop(session, shop, media_dir)
            product = PRODUCTS[0][0]
            lines.append(
                f"UGC carousel on a sample product page ({shop.domain}): "
                f"{base_url.rstrip('/')}/demo/shop/{shop.public_key}/products/{product}"
            )
    return lines


def seed_shop(session: Session, shop: Shop, media_dir: Path) -> None:
    tenant = Tenant(session, shop.id)
    service.upsert_products(
        tenant,
        [
            {
                "product_id": product_id,
                "title": title,
                "price_minor": price,
                "currency": shop.currency,
                "variant_id": variant,
                "url": url,
            }
            for product_id, title, price, variant, url, _art in PRODUCTS
        ],
    )
    for product_id, _title, _price, _variant, _url, (color, shape) in PRODUCTS:
        _write_hero(media_dir / hero_image_path(shop.id, product_id), color, shape)
    if tenant.first(UgcPost) is not None:
        return  # posts were seeded by an earlier run
    for index, spec in enumerate(POSTS):
        _seed_post(tenant, spec, index, media_dir)


def _seed_post(tenant: Tenant, spec: DemoPost, index: int, media_dir: Path) -> None:
    now = utcnow()
    creator_id = None
    if spec.source == "creator":
        creator = tenant.first(Creator, Creator.handle == spec.handle)
        creator = creator or tenant.add(Creator(handle=spec.handle, name=spec.handle))
        tenant.session.flush()
        creator_id = creator.id
    media = store_upload(_post_image(spec.colors, index), media_dir, tenant.shop_id)
    post = service.create_post(
        tenant,
        source=spec.source,
        media=[media],
        caption=spec.caption,
        author_handle=spec.handle,
        network="instagram",
        post_url=f"https://www.instagram.com/p/demo{index}/",
        alt_text=f"@{spec.handle} with the {TITLES[spec.products[0]]}",
        product_ids=spec.products,
        creator_id=creator_id,
        featured=spec.featured,
        posted_at=now - timedelta(days=index + 1),
        actor="demo",
    )
    if spec.fate == "hostile":
        # As if an old import had stored it unchecked: the feed and the widget must defuse it.
        post.post_url = HOSTILE_URL
        post.alt_text = HOSTILE_CAPTION
    if spec.fate == "pending":
        rights.request_rights(
            tenant, post, scopes=["on_site"], request_text="May we feature your post?", actor="demo"
        )
        return
    service.moderate(tenant, post, "approve", actor="demo")
    scopes = ["email"] if spec.fate == "email_only" else ["on_site", "email"]
    grant = rights.request_rights(
        tenant,
        post,
        scopes=scopes,
        request_text=f"Hi @{spec.handle}! May we show this post on our product pages for a year?",
        duration_days=365,
        actor="demo",
    )
    rights.grant_rights(
        tenant,
        grant,
        reply_text="Yes, happy for you to use it!",
        evidence_url=f"https://www.instagram.com/p/demo{index}/c/reply",
        actor="demo",
    )
    if spec.fate == "revoked":
        rights.revoke_rights(tenant, grant, "The creator withdrew consent", actor="demo")


def _post_image(colors: tuple[tuple[int, int, int], tuple[int, int, int]], index: int) -> bytes:
    """A 4:5 picture: a vertical gradient, a sun, a hill and a product-ish card."""
    width, height = 640, 800
    top, bottom = colors
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    sun = 120 + (index * 53) % 360
    draw.ellipse([sun, 110, sun + 170, 280], fill=(255, 248, 225))
    draw.ellipse([-200, 620, width + 200, 1300], fill=tuple(max(0, c - 40) for c in bottom))
    draw.rounded_rectangle([220, 430, 500, 720], radius=36, fill=(250, 250, 250))
    draw.rounded_rectangle([260, 470, 460, 560], radius=18, fill=top)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _write_hero(target: Path, color: tuple[int, int, int], shape: int) -> None:
    if target.exists():
        return
    size = 800
    image = Image.new("RGB", (size, size), (242, 242, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse([140, 620, 660, 700], fill=(225, 225, 230))
    if shape == 1:  # a shirt
        draw.polygon(
            [
                (250, 200),
                (550, 200),
                (660, 330),
                (580, 380),
                (560, 640),
                (240, 640),
                (220, 380),
                (140, 330),
            ],
            fill=color,
        )
    elif shape == 2:  # a tote
        draw.arc([300, 150, 500, 380], 180, 360, fill=color, width=24)
        draw.rectangle([220, 270, 580, 640], fill=color)
    else:  # a sneaker
        draw.rounded_rectangle([170, 420, 650, 600], radius=80, fill=color)
        draw.rectangle([170, 560, 650, 610], fill=(250, 250, 250))
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, "WEBP", quality=82)
    _write_large_hero(large_hero_path(target), image)


def large_hero_path(hero: Path) -> Path:
    return hero.with_name(hero.stem + "-large.webp")


def _write_large_hero(target: Path, image: Image.Image) -> None:
    """The heavier sample page's picture: 1600 px with photo-like grain (a few hundred KB)."""
    large = image.resize((1600, 1600), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((1600, 1600), 48).convert("RGB")
    Image.blend(large, grain, 0.18).save(target, "WEBP", quality=88)
