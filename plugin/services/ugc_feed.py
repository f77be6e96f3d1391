"""The storefront feed: eligible posts as small plain-text JSON, and its in-process cache.

A cached response is keyed by (shop, product, limit) and stamped with the shop's feed version; any
change that bumps the version (moderation, rights, featured, catalog) makes the entry unusable.
Grants that start or expire later bound the entry's lifetime, so expiry needs no sweeper.

A cache hit touches no database: the shop row and its version are trusted for `shop_ttl` (1 s)
per process. A change committed in this process forgets the shop at once (after_commit); another
process (web worker, RQ job, admin API) is seen within shop_ttl. That bound is what keeps a
hit near the speed of a bare route (benchmarks/storefront.py) while a revocation still leaves the
storefront within a second.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import event, exists, func, or_, select
from sqlalchemy.orm import Session

from plugin.domain.disclosure import disclosure_label
from plugin.domain.ugc_rules import GrantView, next_change, safe_link_url
from plugin.models import Shop, utcnow
from plugin.models.ugc import (
    ProductSnapshot,
    UgcFeedVersion,
    UgcPost,
    UgcPostProduct,
    UgcRightsGrant,
)
from plugin.services.media import media_hosts, variant_url
from plugin.services.ugc import FEED_CHANGED_KEY, UgcShopSettings, ugc_settings

CAPTION_CHARS = 300
PRODUCTS_PER_POST = 3
ORIGIN_TTL = timedelta(minutes=10)
SHOP_TTL_SECONDS = 1.0
MAX_SHOPS = 10_000
SHARED_MAX_AGE = 60
BROWSER_MAX_AGE = 30
STALE_WHILE_REVALIDATE = 120
CacheKey = tuple[int, str | None, int]


@dataclass(frozen=True)
class FeedShop:
    id: int
    public_key: str
    domain: str
    status: str
    settings: UgcShopSettings
    version: int


@dataclass(frozen=True)
class CachedFeed:
    version: int
    body: bytes
    gzipped: bytes
    etag: str
    # When a grant starts or ends, or ORIGIN_TTL passes: the entry is stale from then on.
    valid_until: datetime
    # The next grant boundary, if any: shared caches must not hold the response past it.
    next_change: datetime | None

    def cache_control(self, now: datetime) -> str:
        if self.next_change is None:
            fresh, stale = SHARED_MAX_AGE, STALE_WHILE_REVALIDATE
        else:
            left = max(0, int((self.next_change - now).total_seconds()))
            fresh = min(SHARED_MAX_AGE, left)
            stale = max(0, min(STALE_WHILE_REVALIDATE, left - fresh))
        # Browsers reuse the feed for BROWSER_MAX_AGE seconds, then serve it once more while
        # revalidating in the background (a cheap 304 on the ETag): a shopper browsing product
        # pages costs no feed request per view, and a revocation leaves a browser within about
        # half a minute. Shared caches may hold it for `fresh` seconds. Neither ever holds it
        # past the next grant boundary.
        browser = min(BROWSER_MAX_AGE, fresh)
        return f"public, max-age={browser}, s-maxage={fresh}, stale-while-revalidate={stale}"


class FeedCache:
    """Rendered responses (a bounded LRU) and shop rows (trusted for shop_ttl seconds).

    Thread-safe; one per app in each process.
    """

    def __init__(
        self,
        max_entries: int = 4096,
        clock: Callable[[], datetime] = utcnow,
        shop_ttl: float = SHOP_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self.shop_ttl = shop_ttl
        self.monotonic = monotonic
        self._entries: OrderedDict[CacheKey, CachedFeed] = OrderedDict()
        self._shops: dict[str, tuple[float, FeedShop | None]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def shop(self, public_key: str, load: Callable[[], FeedShop | None]) -> FeedShop | None:
        """The shop for a public key (None: unknown), loaded at most once per shop_ttl."""
        now = self.monotonic()
        known = self._shops.get(public_key)
        if known is not None and now - known[0] < self.shop_ttl:
            return known[1]
        shop = load()
        with self._lock:
            if len(self._shops) >= MAX_SHOPS:
                self._shops.clear()
            self._shops[public_key] = (now, shop)
        return shop

    def forget_shops(self, shop_ids: set[int]) -> None:
        with self._lock:
            for key in [k for k, (_, shop) in self._shops.items() if shop and shop.id in shop_ids]:
                del self._shops[key]

    def get(self, key: CacheKey, version: int, now: datetime) -> CachedFeed | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or now >= entry.valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: CacheKey, entry: CachedFeed) -> CachedFeed:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._shops.clear()


_caches: weakref.WeakSet[FeedCache] = weakref.WeakSet()


@event.listens_for(Session, "after_commit")
def _forget_changed_shops(session: Session) -> None:
    changed = session.info.pop(FEED_CHANGED_KEY, None)
    if changed:
        for cache in list(_caches):
            cache.forget_shops(changed)


@event.listens_for(Session, "after_rollback")
def _drop_changed_shops(session: Session) -> None:
    session.info.pop(FEED_CHANGED_KEY, None)


def lookup_shop(session: Session, public_key: str) -> FeedShop | None:
    """The shop and its feed version in one indexed query (the cache-hit path's only query)."""
    row = session.execute(
        select(Shop.id, Shop.domain, Shop.status, Shop.settings, UgcFeedVersion.version)
        .outerjoin(UgcFeedVersion, UgcFeedVersion.shop_id == Shop.id)
        .where(Shop.public_key == public_key)
    ).first()
    if row is None:
        return None
    return FeedShop(
        id=row[0],
        public_key=public_key,
        domain=row[1],
        status=row[2],
        settings=ugc_settings(row[3]),
        version=row[4] or 0,
    )


def eligible_posts_query(shop_id: int, now: datetime) -> Any:
    """plugin.domain.ugc_rules.is_servable as SQL: approved AND an active on-site grant."""
    active_grant = exists().where(
        UgcRightsGrant.ugc_post_id == UgcPost.id,
        UgcRightsGrant.shop_id == shop_id,
        UgcRightsGrant.status == "granted",
        UgcRightsGrant.scope_on_site.is_(True),
        or_(UgcRightsGrant.starts_at.is_(None), UgcRightsGrant.starts_at <= now),
        or_(UgcRightsGrant.expires_at.is_(None), UgcRightsGrant.expires_at > now),
    )
    return select(UgcPost).where(
        UgcPost.shop_id == shop_id, UgcPost.moderation_status == "approved", active_grant
    )


def build_feed(
    session: Session,
    shop: FeedShop,
    product: str | None,
    limit: int,
    now: datetime,
    public_url: str,
) -> tuple[dict[str, Any], datetime | None]:
    """The payload and the next moment it may change by itself (a grant starting or ending).

    With a product: its posts, else the featured ones if the product is known to the shop (in
    the catalog or tagged on a post). An unknown product gets an empty list.
    """
    base = eligible_posts_query(shop.id, now).order_by(
        UgcPost.featured.desc(), func.coalesce(UgcPost.posted_at, UgcPost.created_at).desc()
    )
    posts: list[UgcPost] = []
    source = "featured"
    if product is not None:
        tagged = select(UgcPostProduct.ugc_post_id).where(
            UgcPostProduct.shop_id == shop.id, UgcPostProduct.product_id == product
        )
        posts = list(session.scalars(base.where(UgcPost.id.in_(tagged)).limit(limit)))
        source = "product"
        if not posts and not _product_known(session, shop.id, product):
            return {"posts": [], "source": "none"}, None
    if not posts:
        source = "featured"
        posts = list(session.scalars(base.where(UgcPost.featured.is_(True)).limit(limit)))
    catalog = _catalog(session, shop.id, {pid for post in posts for pid in post.product_ids})
    hosts = media_hosts(shop.settings.media_hosts)
    items = [
        item
        for post in posts
        if (item := _post_json(post, product, catalog, hosts, public_url)) is not None
    ]
    payload: dict[str, Any] = {"posts": items, "source": source}
    if _try_and_tag_open(session, shop.id):
        # The carousel links shoppers to the shop's Try & Tag page (saving the program bumps
        # the feed version, so this follows the program being switched on or off).
        query = f"?product={quote(product, safe='')}" if product else ""
        payload["try_and_tag"] = f"{public_url.rstrip('/')}/try-and-tag/{shop.public_key}{query}"
    return payload, _next_grant_change(session, shop.id, now)


def _try_and_tag_open(session: Session, shop_id: int) -> bool:
    from plugin.models.rewards import TryAndTagProgram

    enabled = session.scalar(
        select(TryAndTagProgram.enabled).where(TryAndTagProgram.shop_id == shop_id)
    )
    return bool(enabled)


def render(
    payload: Mapping[str, Any], version: int, now: datetime, next_change_at: datetime | None
) -> CachedFeed:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    valid_until = now + ORIGIN_TTL
    if next_change_at is not None:
        valid_until = min(valid_until, next_change_at)
    return CachedFeed(
        version=version,
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        etag='W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        valid_until=valid_until,
        next_change=next_change_at,
    )


def _product_known(session: Session, shop_id: int, product: str) -> bool:
    in_catalog = exists().where(
        ProductSnapshot.shop_id == shop_id, ProductSnapshot.product_id == product
    )
    tagged = exists().where(UgcPostProduct.shop_id == shop_id, UgcPostProduct.product_id == product)
    return bool(session.scalar(select(or_(in_catalog, tagged))))


def _catalog(session: Session, shop_id: int, product_ids: set[str]) -> dict[str, ProductSnapshot]:
    if not product_ids:
        return {}
    rows = session.scalars(
        select(ProductSnapshot).where(
            ProductSnapshot.shop_id == shop_id, ProductSnapshot.product_id.in_(product_ids)
        )
    )
    return {row.product_id: row for row in rows}


def _next_grant_change(session: Session, shop_id: int, now: datetime) -> datetime | None:
    rows = session.execute(
        select(UgcRightsGrant.starts_at, UgcRightsGrant.expires_at).where(
            UgcRightsGrant.shop_id == shop_id,
            UgcRightsGrant.status == "granted",
            UgcRightsGrant.scope_on_site.is_(True),
            or_(UgcRightsGrant.starts_at > now, UgcRightsGrant.expires_at > now),
        )
    )
    views = [GrantView("granted", frozenset({"on_site"}), start, end) for start, end in rows]
    return next_change(views, now)


def _post_json(
    post: UgcPost,
    page_product: str | None,
    catalog: Mapping[str, ProductSnapshot],
    hosts: tuple[str, ...],
    public_url: str,
) -> dict[str, Any] | None:
    media = _media_json(post.media, hosts, public_url)
    if media is None:
        return None  # nothing safe to show
    ordered = sorted(post.product_ids, key=lambda pid: pid != page_product)
    products = [_product_json(catalog[pid]) for pid in ordered if pid in catalog]
    return {
        "id": post.id,
        "media": media,
        "alt": post.alt_text or f"Photo by @{post.author_handle}",
        "caption": post.caption[:CAPTION_CHARS],
        "author": post.author_handle,
        "network": post.network,
        "url": safe_link_url(post.post_url or ""),
        "disclosure": disclosure_label(post.source, post.disclosure_ok),
        "products": [p for p in products if p is not None][:PRODUCTS_PER_POST],
    }


def _media_json(
    items: list[dict[str, Any]], hosts: tuple[str, ...], public_url: str
) -> dict[str, Any] | None:
    for item in items:
        sources = []
        for variant in item.get("variants") or ():
            url = variant_url(variant, public_url, hosts)
            if url is not None:
                sources.append({"url": url, "width": int(variant["width"])})
        if sources:
            return {
                "type": "video" if item.get("type") == "video" else "image",
                "width": int(item["width"]),
                "height": int(item["height"]),
                "sources": sources,
            }
    return None


def _product_json(row: ProductSnapshot) -> dict[str, Any] | None:
    if not row.variant_id:
        return None  # cannot go to a cart
    return {
        "id": row.product_id,
        "title": row.title,
        "price_minor": row.price_minor,
        "currency": row.currency,
        "variant_id": row.variant_id,
        "url": safe_link_url(row.url) if row.url else None,
    }


class EventLimiter:
    """A fixed-window budget of beacon events per (shop, visitor), in-process like the cache.

    Enough for real browsing, too small for a script to flood the events table.
    """

    def __init__(
        self,
        per_window: int = 120,
        window: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime] = utcnow,
        max_keys: int = 50_000,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._windows: dict[tuple[int, str], tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def take(self, shop_id: int, visitor: str, wanted: int) -> int:
        """How many of `wanted` events may be stored now."""
        now = self.clock()
        key = (shop_id, visitor)
        with self._lock:
            started, used = self._windows.get(key, (now, 0))
            if now - started >= self.window:
                started, used = now, 0
            granted = max(0, min(wanted, self.per_window - used))
            if len(self._windows) >= self.max_keys and key not in self._windows:
                self._windows.clear()  # bounded memory; a reset only forgives a little
            self._windows[key] = (started, used + granted)
            return granted
