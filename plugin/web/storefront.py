"""Public storefront endpoints: the UGC feed the carousel reads, and its impression/click beacon.

Both are called from merchants' product pages, so they must be fast and must never fail loudly:
an unknown shop or product, a malformed parameter, or a database hiccup answers an empty list.
The widget files and UGC media are served by plugin.web.storefront_assets, the demo product page
by plugin.web.storefront_demo, on this same blueprint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_session
from plugin.models.ugc import WIDGET_EVENT_KINDS
from plugin.services.ugc import MAX_ITEMS
from plugin.services.ugc_events import record_widget_events
from plugin.services.ugc_feed import (
    CachedFeed,
    EventLimiter,
    FeedCache,
    FeedShop,
    build_feed,
    lookup_shop,
    render,
)
from plugin.web import storefront_assets, storefront_demo

bp = Blueprint("storefront", __name__)
logger = logging.getLogger(__name__)

CACHE_KEY = "tastemaker.ugc_feed_cache"
LIMITER_KEY = "tastemaker.ugc_event_limiter"
KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PRODUCT_RE = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
EMPTY_BODY = b'{"posts":[],"source":"none"}'
MAX_EVENTS_BODY = 8 * 1024
MAX_EVENTS_PER_BEACON = 50


def feed_cache() -> FeedCache:
    cache: FeedCache = current_app.extensions.setdefault(CACHE_KEY, FeedCache())
    return cache


def event_limiter() -> EventLimiter:
    limiter: EventLimiter = current_app.extensions.setdefault(LIMITER_KEY, EventLimiter())
    return limiter


@bp.get("/storefront/<public_key>/ugc")
def ugc_feed(public_key: str) -> ResponseReturnValue:
    product = request.args.get("product") or None
    if not KEY_RE.fullmatch(public_key) or (product and not PRODUCT_RE.fullmatch(product)):
        return _empty()
    cache = feed_cache()
    try:
        shop = cache.shop(public_key, lambda: lookup_shop(get_session(), public_key))
        if shop is None or shop.status != "active":
            return _empty()
        limit = _limit(request.args.get("limit"), shop.settings.max_items)
        now = cache.clock()
        key = (shop.id, product, limit)
        entry = cache.get(key, shop.version, now)
        if entry is None:
            settings = current_app.config["TASTEMAKER"]
            payload, changes_at = build_feed(
                get_session(), shop, product, limit, now, settings.public_url
            )
            entry = cache.put(key, render(payload, shop.version, now, changes_at))
    except SQLAlchemyError:
        # A storefront must keep rendering: answer empty, uncached, and log for the operator.
        logger.exception("storefront feed failed for %s", public_key)
        return _empty(cacheable=False)
    return _feed_response(entry, shop, now)


def _limit(raw: str | None, default: int) -> int:
    if raw is None or not raw.isdigit():
        return default
    return max(1, min(int(raw), MAX_ITEMS))


def _feed_response(entry: CachedFeed, shop: FeedShop, now: datetime) -> Response:
    headers = {
        "ETag": entry.etag,
        "Cache-Control": entry.cache_control(now),
        "Vary": "Origin, Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    origin = request.headers.get("Origin")
    if origin and origin in _allowed_origins(shop):
        headers["Access-Control-Allow-Origin"] = origin
    # Weak comparison (RFC 9110): the quoted hash matches with or without the W/ prefix.
    if entry.etag[2:] in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    body = entry.body
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = entry.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, mimetype="application/json", headers=headers)


def _allowed_origins(shop: FeedShop) -> set[str]:
    """The shop's own storefront, its configured extra domains, and this app (demo pages)."""
    public_url = current_app.config["TASTEMAKER"].public_url
    return {f"https://{shop.domain}", public_url, *shop.settings.storefront_origins}


def _empty(*, cacheable: bool = True) -> Response:
    control = "public, max-age=60, s-maxage=60" if cacheable else "no-store"
    return Response(
        EMPTY_BODY,
        mimetype="application/json",
        headers={"Cache-Control": control, "Access-Control-Allow-Origin": "*"},
    )


@bp.post("/storefront/<public_key>/events")
def ugc_events(public_key: str) -> ResponseReturnValue:
    """Beacon sink. sendBeacon posts text/plain (no CORS preflight), so the body is read raw."""
    if (request.content_length or 0) > MAX_EVENTS_BODY:
        return _problem(413, "a beacon carries at most 8 KB")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_EVENTS_BODY:
        return _problem(413, "a beacon carries at most 8 KB")
    events = _parse_events(raw)
    if events is None:
        return _problem(400, 'expected {"events": [{"post": id, "type": "impression"|"click"}]}')
    if not KEY_RE.fullmatch(public_key):
        return _accepted()
    session = get_session()
    shop = feed_cache().shop(public_key, lambda: lookup_shop(session, public_key))
    if shop is None or shop.status != "active":
        return _accepted()
    visitor = _visitor_hash()
    allowed = event_limiter().take(shop.id, visitor, len(events))
    if allowed:
        record_widget_events(session, shop.id, events[:allowed], visitor_hash=visitor)
        session.commit()
    return _accepted(shop)


def _parse_events(raw: bytes) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not 0 < len(events) <= MAX_EVENTS_PER_BEACON:
        return None
    clean = []
    for event in events:
        if not isinstance(event, dict):
            return None
        post, kind, product = event.get("post"), event.get("type"), event.get("product")
        if isinstance(post, bool) or not isinstance(post, int) or not 0 < post < 2**62:
            return None
        if kind not in WIDGET_EVENT_KINDS:
            return None
        if product is not None and not (isinstance(product, str) and PRODUCT_RE.fullmatch(product)):
            return None
        clean.append({"post": post, "type": kind, "product": product})
    return clean


def _visitor_hash() -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    seen = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}".encode()
    return hmac.new(secret, seen, hashlib.sha256).hexdigest()[:32]


def _accepted(shop: FeedShop | None = None) -> Response:
    response = Response(status=204)
    origin = request.headers.get("Origin")
    if shop is not None and origin and origin in _allowed_origins(shop):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def _problem(status: int, message: str) -> Response:
    body = json.dumps({"error": "invalid_events", "message": message})
    return Response(body, status=status, mimetype="application/json")


storefront_assets.register(bp)
storefront_demo.register(bp)
