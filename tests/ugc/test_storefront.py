"""GET /storefront/<public_key>/ugc: eligible posts only, small plain JSON, cached until changed."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from plugin.models import utcnow
from plugin.services import ugc as service
from plugin.services import ugc_rights as rights
from plugin.services.ugc_feed import FeedCache
from plugin.tenancy import Tenant
from plugin.web.storefront import CACHE_KEY
from tests.ugc.conftest import Clock, ShopKey
from tests.ugc.factories import make_creator, make_post, upsert_product

FEED = "/storefront/{key}/ugc"


def feed(
    client: FlaskClient, shop: ShopKey, query: str = "?product=101", **headers: str
) -> TestResponse:
    return client.get(FEED.format(key=shop.shop.public_key) + query, headers=headers)


def authors(response: TestResponse) -> list[str]:
    return [post["author"] for post in response.get_json()["posts"]]


def test_the_feed_is_small_plain_json_with_shoppable_products(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    # given
    upsert_product(session, shop_a.shop, "101", title="Linen Shirt", price_minor=6800)
    creator = make_creator(session, shop_a.shop, "maya")
    post, _ = make_post(
        session,
        shop_a.shop,
        source="creator",
        creator=creator,
        handle="maya",
        caption="#ad linen season",
        products=("555", "101"),
    )
    session.commit()
    # when
    response = feed(client, shop_a)
    # then
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["source"] == "product"
    [item] = body["posts"]
    assert item == {
        "id": post.id,
        "media": {
            "type": "image",
            "width": 1080,
            "height": 1350,
            "sources": [{"url": post.media[0]["variants"][0]["url"], "width": 1080}],
        },
        "alt": "Photo by @maya",
        "caption": "#ad linen season",
        "author": "maya",
        "network": "other",
        "url": "https://www.instagram.com/p/abc/",
        "disclosure": "Paid partnership",
        "products": [
            {
                "id": "101",
                "title": "Linen Shirt",
                "price_minor": 6800,
                "currency": "USD",
                "variant_id": "9101",
                "url": "/products/p101",
            }
        ],
    }


def test_only_approved_posts_with_active_on_site_rights_are_served(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    # given
    make_post(session, shop_a.shop, handle="shown")
    make_post(session, shop_a.shop, handle="pending", approved=False)
    make_post(session, shop_a.shop, handle="no_rights", scopes=None)
    make_post(session, shop_a.shop, handle="email_only", scopes=("email",))
    make_post(
        session,
        shop_a.shop,
        handle="expired",
        duration_days=1,
        consented_at=utcnow() - timedelta(days=2),
    )
    _, revoked = make_post(session, shop_a.shop, handle="revoked")
    assert revoked is not None
    rights.revoke_rights(Tenant(session, shop_a.shop.id), revoked)
    session.commit()
    # then
    assert authors(feed(client, shop_a)) == ["shown"]


def test_product_posts_first_then_featured_fallback_and_unknown_products_get_nothing(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop, handle="on_101", products=("101",))
    make_post(session, shop_a.shop, handle="featured", products=("202",), featured=True)
    upsert_product(session, shop_a.shop, "303")
    session.commit()
    assert authors(feed(client, shop_a, "?product=101")) == ["on_101"]
    fallback = feed(client, shop_a, "?product=303")
    assert (fallback.get_json()["source"], authors(fallback)) == ("featured", ["featured"])
    assert authors(feed(client, shop_a, "")) == ["featured"]
    assert feed(client, shop_a, "?product=999").get_json() == {"posts": [], "source": "none"}


def test_limit_caps_the_number_of_posts(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    for index in range(5):
        make_post(session, shop_a.shop, handle=f"fan{index}")
    session.commit()
    assert len(authors(feed(client, shop_a, "?product=101&limit=3"))) == 3
    assert len(authors(feed(client, shop_a, "?product=101&limit=999"))) == 5


@pytest.mark.parametrize(
    "path",
    [
        "/storefront/pk_unknown/ugc?product=101",
        "/storefront/pk_alpha.example/ugc?product=%3Cscript%3E",
        "/storefront/" + "k" * 65 + "/ugc",
        "/storefront/pk_alpha.example/ugc?product=" + "1" * 65,
        "/storefront/pk%00x/ugc",
    ],
)
def test_unknown_or_malformed_requests_get_an_empty_list(
    client: FlaskClient, shop_a: ShopKey, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == {"posts": [], "source": "none"}


def test_an_uninstalled_shop_serves_nothing(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop)
    shop_a.shop.status = "uninstalled"
    session.commit()
    assert authors(feed(client, shop_a)) == []


def test_etag_revalidation_and_cache_headers(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop)
    session.commit()
    first = feed(client, shop_a)
    assert first.headers["Cache-Control"] == (
        "public, max-age=30, s-maxage=60, stale-while-revalidate=120"
    )
    assert first.headers["Vary"] == "Origin, Accept-Encoding"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    # when
    again = feed(client, shop_a, **{"If-None-Match": etag})
    strong = feed(client, shop_a, **{"If-None-Match": etag[2:]})
    # then
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    assert strong.status_code == 304


def test_gzip_is_served_when_accepted(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop)
    session.commit()
    plain = feed(client, shop_a)
    zipped = feed(client, shop_a, **{"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data


def test_cors_allows_only_the_shops_storefront_origins(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    shop_a.shop.settings = {"ugc": {"storefront_origins": ["https://www.alpha-store.com"]}}
    make_post(session, shop_a.shop)
    session.commit()
    allowed = ["https://alpha.example", "https://www.alpha-store.com", "https://tastemaker.test"]
    for origin in allowed:
        response = feed(client, shop_a, Origin=origin)
        assert response.headers["Access-Control-Allow-Origin"] == origin
    denied = feed(client, shop_a, Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in denied.headers


@pytest.mark.parametrize(
    "change",
    ["revoke", "hide", "reject", "unfeature", "untag"],
)
def test_a_change_removes_the_post_from_the_cached_feed_at_once(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock, change: str
) -> None:
    # given a cached feed with two posts
    tenant = Tenant(session, shop_a.shop.id)
    post, grant = make_post(session, shop_a.shop, handle="goes", featured=True)
    make_post(session, shop_a.shop, handle="stays", featured=True)
    session.commit()
    query = "" if change == "unfeature" else "?product=101"
    first = feed(client, shop_a, query)
    assert sorted(authors(first)) == ["goes", "stays"]
    # when
    assert grant is not None
    actions: dict[str, Any] = {
        "revoke": lambda: rights.revoke_rights(tenant, grant, "consent withdrawn"),
        "hide": lambda: service.moderate(tenant, post, "hide"),
        "reject": lambda: service.moderate(tenant, post, "reject", reason="off brand"),
        "unfeature": lambda: service.set_featured(tenant, post, False),
        "untag": lambda: service.set_products(tenant, post, ["999"]),
    }
    actions[change]()
    session.commit()
    # then the very next request, with the old ETag, gets the new list
    after = feed(client, shop_a, query, **{"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert authors(after) == ["stays"]


def test_expiry_removes_the_post_when_the_grant_ends_without_any_write(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    # given a grant ending 30 seconds from now, and a feed cached with it
    start = utcnow()
    consented = start - timedelta(days=1) + timedelta(seconds=30)
    make_post(session, shop_a.shop, handle="brief", duration_days=1, consented_at=consented)
    make_post(session, shop_a.shop, handle="lasting", consented_at=start - timedelta(hours=1))
    session.commit()
    clock.set(start)
    first = feed(client, shop_a)
    assert sorted(authors(first)) == ["brief", "lasting"]
    # shared caches may keep it only until the grant ends, and not serve it stale after
    assert first.headers["Cache-Control"] == (
        "public, max-age=30, s-maxage=30, stale-while-revalidate=0"
    )
    # when the clock passes the expiry
    clock.advance(timedelta(seconds=31))
    # then
    assert authors(feed(client, shop_a)) == ["lasting"]


def test_a_cache_hit_runs_no_query_at_all(
    client: FlaskClient, session: Session, connection: Connection, shop_a: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop, handle="cached")
    session.commit()
    first = feed(client, shop_a)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        again = feed(client, shop_a)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert again.data == first.data
    assert statements == []


def test_a_change_committed_by_another_process_shows_within_the_shop_ttl(
    app: Flask, client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given a cache whose monotonic clock the test moves, and a cached feed
    ticks = [100.0]
    app.extensions[CACHE_KEY] = FeedCache(monotonic=lambda: ticks[0])
    _, grant = make_post(session, shop_a.shop, handle="revoked_elsewhere")
    session.commit()
    assert authors(feed(client, shop_a)) == ["revoked_elsewhere"]
    # when another process revokes (this process hears nothing of its commit)
    assert grant is not None
    rights.revoke_rights(Tenant(session, shop_a.shop.id), grant)
    session.info.pop(service.FEED_CHANGED_KEY)
    session.commit()
    # then this process trusts what it knew for at most shop_ttl, then sees the new version
    ticks[0] += 0.5
    assert authors(feed(client, shop_a)) == ["revoked_elsewhere"]
    ticks[0] += 0.6
    assert authors(feed(client, shop_a)) == []


def test_the_cache_key_includes_the_shop(
    client: FlaskClient, session: Session, shop_a: ShopKey, shop_b: ShopKey, clock: Clock
) -> None:
    make_post(session, shop_a.shop, handle="alpha_fan")
    make_post(session, shop_b.shop, handle="bravo_fan")
    session.commit()
    assert authors(feed(client, shop_a)) == ["alpha_fan"]
    assert authors(feed(client, shop_b)) == ["bravo_fan"]
    assert authors(feed(client, shop_a)) == ["alpha_fan"]


def test_twelve_posts_fit_in_eight_kilobytes_gzipped(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    for product in ("101", "102", "103"):
        upsert_product(session, shop_a.shop, product, title=f"A product title {product} " * 3)
    for index in range(12):
        caption = f"Post {index}: " + " ".join(f"word{index * 7 + n}" for n in range(80))
        make_post(
            session,
            shop_a.shop,
            handle=f"creator.handle.{index}",
            caption=caption,
            products=("101", "102", "103"),
        )
    session.commit()
    response = feed(client, shop_a, "?product=101&limit=12")
    assert len(response.get_json()["posts"]) == 12
    assert all(len(p["caption"]) == 300 for p in response.get_json()["posts"])
    size = len(gzip.compress(response.data))
    assert size <= 8 * 1024, size


def test_hostile_fields_are_plain_text_and_unsafe_urls_are_dropped(
    client: FlaskClient, session: Session, shop_a: ShopKey, clock: Clock
) -> None:
    upsert_product(session, shop_a.shop, "101")
    post, _ = make_post(session, shop_a.shop, caption="<img src=x onerror=alert(1)>")
    # as if stored unchecked by an old import
    post.post_url = "javascript:alert(1)"
    post.media = [
        {
            "type": "image",
            "width": 1,
            "height": 1,
            "variants": [{"url": "javascript:x", "width": 1}],
        },
        {
            "type": "image",
            "width": 2,
            "height": 2,
            "variants": [{"url": "https://evil.example/a.jpg", "width": 2}],
        },
        *post.media,
    ]
    session.commit()
    [item] = feed(client, shop_a).get_json()["posts"]
    assert item["caption"] == "<img src=x onerror=alert(1)>"
    assert item["url"] is None
    assert [s["url"] for s in item["media"]["sources"]] == [post.media[2]["variants"][0]["url"]]
    assert json.dumps(item).count("javascript") == 0
