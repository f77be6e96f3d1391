"""Shops, posts and grants for UGC tests, written through the real services."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from plugin.models import Creator, Shop, utcnow
from plugin.models.ugc import UgcPost, UgcRightsGrant
from plugin.services import ugc as service
from plugin.services import ugc_rights as rights
from plugin.services.media import remote_media
from plugin.services.shops import issue_api_key
from plugin.tenancy import Tenant

_sequence = itertools.count(1)
CDN = "https://cdn.shopify.com/s/files/1/demo"


def make_shop(session: Session, domain: str, *, platform: str = "sandbox", **fields: Any) -> Shop:
    shop = Shop(platform=platform, domain=domain, name=domain, public_key=f"pk_{domain}", **fields)
    session.add(shop)
    session.flush()
    return shop


def make_key(session: Session, shop: Shop) -> str:
    _key, clear = issue_api_key(session, shop.id, label="tests")
    session.flush()
    return clear


def make_creator(session: Session, shop: Shop, handle: str | None = None) -> Creator:
    creator = Tenant(session, shop.id).add(Creator(handle=handle or f"creator{next(_sequence)}"))
    session.flush()
    return creator


def image_media(name: str = "photo") -> list[dict[str, Any]]:
    return [
        remote_media(
            f"{CDN}/{name}-{next(_sequence)}.jpg",
            width=1080,
            height=1350,
            hosts=("cdn.shopify.com",),
        )
    ]


def make_post(
    session: Session,
    shop: Shop,
    *,
    source: str = "merchant",
    handle: str | None = None,
    caption: str = "Love it",
    products: tuple[str, ...] = ("101",),
    featured: bool = False,
    creator: Creator | None = None,
    approved: bool = True,
    scopes: tuple[str, ...] | None = ("on_site",),
    duration_days: int | None = None,
    consented_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[UgcPost, UgcRightsGrant | None]:
    """A post; approved and holding a granted on-site right unless told otherwise."""
    tenant = Tenant(session, shop.id)
    post = service.create_post(
        tenant,
        source=source,
        media=image_media(),
        caption=caption,
        author_handle=handle or f"fan{next(_sequence)}",
        product_ids=products,
        featured=featured,
        creator_id=creator.id if creator else None,
        post_url="https://www.instagram.com/p/abc/",
    )
    if approved:
        service.moderate(tenant, post, "approve", now=now)
    grant = None
    if scopes is not None:
        grant = rights.request_rights(
            tenant,
            post,
            scopes=list(scopes),
            request_text="May we show your post on our site?",
            duration_days=duration_days,
            now=now,
        )
        rights.grant_rights(
            tenant,
            grant,
            reply_text="Yes!",
            consented_at=consented_at,
            now=consented_at or now,
        )
    session.flush()
    return post, grant


def upsert_product(session: Session, shop: Shop, product_id: str = "101", **fields: Any) -> None:
    item = {
        "product_id": product_id,
        "title": f"Product {product_id}",
        "price_minor": 2500,
        "currency": "USD",
        "variant_id": f"9{product_id}",
        "url": f"/products/p{product_id}",
        **fields,
    }
    service.upsert_products(Tenant(session, shop.id), [item])
    session.flush()


def png_bytes(width: int, height: int, mode: str = "RGB", color: Any = (200, 100, 50)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, "PNG")
    return out.getvalue()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def now() -> datetime:
    return utcnow()
