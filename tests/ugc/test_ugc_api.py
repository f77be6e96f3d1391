"""The merchant's UGC API: posts, uploads, moderation, rights, catalog, settings, CTR."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from plugin.models.ugc import UgcPost
from plugin.settings import Settings
from tests.ugc.conftest import ShopKey
from tests.ugc.factories import make_creator, make_post, png_bytes, upsert_product

API = "/api/v1/ugc"
MEDIA = {"url": "https://cdn.shopify.com/s/files/1/a.jpg", "width": 1080, "height": 1350}


def call(
    client: FlaskClient, method: str, path: str, who: ShopKey | None, **kw: Any
) -> TestResponse:
    headers = who.headers if who else {}
    return client.open(API + path, method=method, headers=headers, **kw)


def test_every_route_needs_a_shop_key(client: FlaskClient) -> None:
    assert call(client, "GET", "/posts", None).status_code == 401
    assert call(client, "POST", "/posts", None, json={}).status_code == 401


def test_a_merchant_adds_a_post_by_media_url(client: FlaskClient, shop_a: ShopKey) -> None:
    response = call(
        client,
        "POST",
        "/posts",
        shop_a,
        json={
            "media": MEDIA,
            "caption": "Our favourite customer photo",
            "author_handle": "@jo",
            "network": "instagram",
            "post_url": "https://www.instagram.com/p/xyz/",
            "product_ids": ["101"],
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["source"] == "merchant"
    assert body["author_handle"] == "jo"
    assert body["moderation"] == {"status": "pending", "reason": None, "moderated_at": None}
    assert body["media"] == [
        {
            "type": "image",
            "width": 1080,
            "height": 1350,
            "variants": [{"width": 1080, "height": 1350, "url": MEDIA["url"]}],
        }
    ]
    assert (body["rights"], body["servable"]) == ([], False)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"media": "is required"}),
        (
            {"media": {**MEDIA, "url": "https://evil.example/a.jpg"}, "author_handle": "x"},
            {"media.url": "must be an https URL on an allowed media host"},
        ),
        (
            {"media": {**MEDIA, "url": "javascript:alert(1)"}, "author_handle": "x"},
            {"media.url": "must be an https URL on an allowed media host"},
        ),
        (
            {"media": {**MEDIA, "type": "video"}, "author_handle": "x"},
            {"media.poster_url": "is required for a video"},
        ),
        (
            {"media": MEDIA, "author_handle": "x", "post_url": "javascript:alert(1)"},
            {"post_url": "must be an https URL"},
        ),
        ({"media": MEDIA}, {"author_handle": "is required"}),
        (
            {"media": MEDIA, "author_handle": "x", "product_ids": ["ok", "<bad>"]},
            {"product_ids[1]": "must be 1-64 letters, digits or . _ : / -"},
        ),
        (
            {"media": MEDIA, "source": "robot"},
            {"source": "must be one of: creator, merchant, try_and_tag"},
        ),
    ],
)
def test_invalid_posts_get_field_level_422(
    client: FlaskClient, shop_a: ShopKey, payload: dict[str, Any], fields: dict[str, str]
) -> None:
    response = call(client, "POST", "/posts", shop_a, json=payload)
    assert response.status_code == 422
    assert response.get_json() == {"error": "validation", "fields": fields}


def test_malformed_json_is_a_400(client: FlaskClient, shop_a: ShopKey) -> None:
    response = call(client, "POST", "/posts", shop_a, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_import_is_all_or_nothing_with_indexed_errors(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    good = {"media": MEDIA, "author_handle": "one"}
    bad = {"media": {**MEDIA, "url": "http://cdn.shopify.com/a.jpg"}, "author_handle": "two"}
    response = call(client, "POST", "/posts/import", shop_a, json={"posts": [good, bad]})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "posts[1].media.url": "must be an https URL on an allowed media host"
    }
    assert session.scalars(select(UgcPost)).all() == []
    ok = call(client, "POST", "/posts/import", shop_a, json={"posts": [good, good]})
    assert ok.status_code == 201
    assert [p["author_handle"] for p in ok.get_json()["data"]] == ["one", "one"]


def test_a_creator_uploads_an_image_resized_to_webp(
    client: FlaskClient, session: Session, shop_a: ShopKey, settings: Settings
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "ava")
    session.commit()
    # when
    response = call(
        client,
        "POST",
        "/posts/upload",
        shop_a,
        data={
            "media": (io.BytesIO(png_bytes(1200, 1500)), "look.png"),
            "creator_id": str(creator.id),
            "caption": "New in! #sponsored",
            "product_ids": "101, 102",
        },
        content_type="multipart/form-data",
    )
    # then
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["source"], body["author_handle"], body["product_ids"]) == (
        "creator",
        "ava",
        ["101", "102"],
    )
    assert body["disclosure"]["ok"] is True
    assert body["disclosure"]["matches"] == ["#sponsored"]
    [media] = body["media"]
    assert (media["width"], media["height"]) == (1200, 1500)
    assert [(v["width"], v["height"]) for v in media["variants"]] == [
        (320, 400),
        (640, 800),
        (1080, 1350),
    ]
    for variant in media["variants"]:
        path = variant["url"].removeprefix("https://tastemaker.test/media/")
        assert (Path(settings.media_dir) / path).read_bytes()[8:12] == b"WEBP"
        with client.get(f"/media/{path}") as served:
            assert (served.status_code, served.mimetype) == (200, "image/webp")
            assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def image_file(data: bytes) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), "upload.png"


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({}, {"media": "is required: send the image as a multipart file"}),
        (
            {"media": b"not an image", "creator_id": "1"},
            {"media": "is not a readable image"},
        ),
        (
            {"media": png_bytes(10, 10), "creator_id": "abc"},
            {"creator_id": "must be an integer"},
        ),
        (
            {"media": png_bytes(10, 10)},
            {"creator_id": "is required for a creator post", "author_handle": "is required"},
        ),
    ],
)
def test_invalid_uploads_get_field_level_422(
    client: FlaskClient, shop_a: ShopKey, form: dict[str, Any], fields: dict[str, str]
) -> None:
    data = {k: image_file(v) if k == "media" else v for k, v in form.items()}
    response = call(
        client, "POST", "/posts/upload", shop_a, data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == fields


def test_moderation_queue_and_decisions(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given
    creator = make_creator(session, shop_a.shop)
    flagged, _ = make_post(
        session, shop_a.shop, source="creator", creator=creator, approved=False, scopes=None
    )
    fine, _ = make_post(session, shop_a.shop, approved=False, scopes=None)
    session.commit()
    # then the queue lists both, the flagged filter only the undisclosed creator post
    queue = call(client, "GET", "/posts?status=pending", shop_a).get_json()["data"]
    assert [p["id"] for p in queue] == [fine.id, flagged.id]
    assert queue[1]["disclosure"]["flagged"] is True
    only = call(client, "GET", "/posts?flagged=true", shop_a).get_json()["data"]
    assert [p["id"] for p in only] == [flagged.id]
    # when
    rejected = call(
        client, "POST", f"/posts/{flagged.id}/moderation", shop_a, json={"action": "reject"}
    )
    assert rejected.status_code == 422
    assert rejected.get_json()["fields"] == {"reason": "is required to reject a post"}
    done = call(
        client,
        "POST",
        f"/posts/{flagged.id}/moderation",
        shop_a,
        json={"action": "reject", "reason": "no disclosure"},
    )
    call(client, "POST", f"/posts/{fine.id}/moderation", shop_a, json={"action": "approve"})
    # then
    assert done.get_json()["moderation"]["status"] == "rejected"
    assert done.get_json()["moderation"]["reason"] == "no disclosure"
    assert call(client, "GET", "/posts?status=pending", shop_a).get_json()["data"] == []
    audit = call(client, "GET", f"/posts/{flagged.id}/audit", shop_a).get_json()["data"]
    assert [(e["category"], e["action"]) for e in audit] == [
        ("content", "created"),
        ("disclosure", "missing"),
        ("moderation", "rejected"),
    ]


def test_rights_request_grant_and_revoke_through_the_api(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    post, _ = make_post(session, shop_a.shop, scopes=None)
    session.commit()
    bad = call(
        client,
        "POST",
        f"/posts/{post.id}/rights",
        shop_a,
        json={"scopes": ["tv"], "request_text": "x"},
    )
    assert bad.get_json()["fields"] == {"scopes": "must be some of: on_site, email, ads"}
    requested = call(
        client,
        "POST",
        f"/posts/{post.id}/rights",
        shop_a,
        json={"scopes": ["on_site"], "request_text": "May we?", "duration_days": 30},
    )
    assert requested.status_code == 201
    grant_id = requested.get_json()["id"]
    granted = call(
        client,
        "POST",
        f"/rights/{grant_id}/grant",
        shop_a,
        json={
            "evidence_url": "https://www.instagram.com/p/abc/c/1",
            "consented_at": "2026-01-01T00:00:00Z",
        },
    )
    assert granted.status_code == 200
    body = granted.get_json()
    assert body["status"] == "granted"
    assert body["expires_at"] == "2026-01-31T00:00:00+00:00"
    assert body["evidence"]["evidence_url"] == "https://www.instagram.com/p/abc/c/1"
    again = call(client, "POST", f"/rights/{grant_id}/grant", shop_a, json={"reply_text": "yes"})
    assert again.status_code == 409
    revoked = call(client, "POST", f"/rights/{grant_id}/revoke", shop_a, json={"reason": "asked"})
    assert (revoked.get_json()["status"], revoked.get_json()["reason"]) == ("revoked", "asked")
    post_view = call(client, "GET", f"/posts/{post.id}", shop_a).get_json()
    assert [g["status"] for g in post_view["rights"]] == ["revoked"]


def test_featured_flag_edits_and_the_servable_view(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    post, _ = make_post(session, shop_a.shop)
    session.commit()
    response = call(
        client,
        "PATCH",
        f"/posts/{post.id}",
        shop_a,
        json={"featured": True, "caption": "edited", "product_ids": ["5"]},
    )
    body = response.get_json()
    assert (body["featured"], body["caption"], body["product_ids"], body["servable"]) == (
        True,
        "edited",
        ["5"],
        True,
    )
    assert (
        call(client, "GET", "/posts?featured=true&product_id=5", shop_a).get_json()["data"][0]["id"]
        == post.id
    )
    assert call(client, "DELETE", f"/posts/{post.id}", shop_a).status_code == 204
    assert call(client, "GET", f"/posts/{post.id}", shop_a).status_code == 404


def test_disclosure_check_uses_the_shops_phrases(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    post, _ = make_post(session, shop_a.shop, caption="Werbung: mein Lieblingsteil")
    session.commit()
    put = call(client, "PUT", "/settings", shop_a, json={"disclosure_phrases": ["Werbung"]})
    assert put.get_json()["disclosure_phrases"] == ["werbung"]
    result = call(client, "POST", f"/posts/{post.id}/disclosure-check", shop_a).get_json()
    assert (result["disclosed"], result["matches"], result["prominent"]) == (
        True,
        ["werbung"],
        True,
    )


def test_settings_validate_hosts_and_origins(client: FlaskClient, shop_a: ShopKey) -> None:
    response = call(
        client,
        "PUT",
        "/settings",
        shop_a,
        json={
            "media_hosts": [".ok.example", "bad host"],
            "storefront_origins": ["http://x.example"],
        },
    )
    assert response.get_json()["fields"] == {
        "media_hosts[1]": "is not a valid media host",
        "storefront_origins[0]": "is not a valid storefront origin",
    }
    ok = call(
        client,
        "PUT",
        "/settings",
        shop_a,
        json={
            "media_hosts": [".ok.example"],
            "storefront_origins": ["https://shop.example"],
            "max_items": 8,
        },
    )
    assert ok.get_json() == {
        "disclosure_phrases": [],
        "media_hosts": [".ok.example"],
        "storefront_origins": ["https://shop.example"],
        "max_items": 8,
    }


def test_catalog_upsert_and_list(client: FlaskClient, shop_a: ShopKey) -> None:
    item = {
        "product_id": "101",
        "title": "Shirt",
        "price_minor": 4200,
        "currency": "eur",
        "variant_id": "9001",
    }
    assert call(client, "PUT", "/products", shop_a, json={"products": [item]}).status_code == 200
    call(
        client,
        "PUT",
        "/products",
        shop_a,
        json={"products": [{**item, "title": "Shirt v2", "url": "/p/shirt"}]},
    )
    listed = call(client, "GET", "/products", shop_a).get_json()["data"]
    assert listed == [
        {
            "product_id": "101",
            "title": "Shirt v2",
            "price_minor": 4200,
            "currency": "EUR",
            "variant_id": "9001",
            "url": "/p/shirt",
        }
    ]
    bad = call(
        client,
        "PUT",
        "/products",
        shop_a,
        json={"products": [{**item, "price_minor": -1, "url": "javascript:x"}]},
    )
    assert bad.get_json()["fields"] == {
        "products[0].price_minor": "must be between 0 and 1000000000000"
    }
    bad_url = call(
        client, "PUT", "/products", shop_a, json={"products": [{**item, "url": "javascript:x"}]}
    )
    assert bad_url.get_json()["fields"] == {"products[0].url": "must be https or a /path"}


def test_ctr_endpoint(client: FlaskClient, session: Session, shop_a: ShopKey) -> None:
    post, _ = make_post(session, shop_a.shop, handle="jo")
    session.commit()
    client.post(
        f"/storefront/{shop_a.shop.public_key}/events",
        json={
            "events": [{"post": post.id, "type": "impression"}, {"post": post.id, "type": "click"}]
        },
    )
    data = call(client, "GET", "/metrics/ctr", shop_a).get_json()["data"]
    assert data == [
        {"post_id": post.id, "label": "jo", "impressions": 1, "clicks": 1, "ctr_bps": 10000}
    ]
    assert call(client, "GET", "/metrics/ctr?by=campaign", shop_a).status_code == 422


OTHER_SHOP_ROUTES = [
    ("GET", "/posts/{post}", None),
    ("PATCH", "/posts/{post}", {"caption": "hijacked"}),
    ("DELETE", "/posts/{post}", None),
    ("POST", "/posts/{post}/moderation", {"action": "hide"}),
    ("POST", "/posts/{post}/disclosure-check", None),
    ("GET", "/posts/{post}/audit", None),
    ("POST", "/posts/{post}/rights", {"scopes": ["on_site"], "request_text": "mine now"}),
    ("POST", "/rights/{grant}/grant", {"reply_text": "yes"}),
    ("POST", "/rights/{grant}/decline", {}),
    ("POST", "/rights/{grant}/revoke", {}),
]


@pytest.mark.parametrize(("method", "path", "payload"), OTHER_SHOP_ROUTES)
def test_a_shop_cannot_touch_another_shops_posts_or_rights(
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    shop_b: ShopKey,
    method: str,
    path: str,
    payload: dict[str, Any] | None,
) -> None:
    # given shop A's post with a granted right, and shop A's open request
    post, grant = make_post(session, shop_a.shop, caption="original")
    assert grant is not None
    session.commit()
    target = path.format(post=post.id, grant=grant.id)
    # when shop B calls the route with A's ids
    response = call(client, method, target, shop_b, json=payload)
    # then nothing is found and nothing changed
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "no such resource in this shop"}
    session.expire_all()
    mine = call(client, "GET", f"/posts/{post.id}", shop_a).get_json()
    assert (mine["caption"], mine["moderation"]["status"]) == ("original", "approved")
    assert [g["status"] for g in mine["rights"]] == ["granted"]


def test_lists_catalog_settings_and_metrics_are_per_shop(
    client: FlaskClient, session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    post, _ = make_post(session, shop_a.shop)
    upsert_product(session, shop_a.shop, "101")
    session.commit()
    call(client, "PUT", "/settings", shop_a, json={"max_items": 5})
    client.post(
        f"/storefront/{shop_a.shop.public_key}/events",
        json={"events": [{"post": post.id, "type": "impression"}]},
    )
    for path in (
        "/posts",
        "/posts?status=approved",
        "/products",
        "/metrics/ctr",
        "/metrics/ctr?by=creator",
    ):
        assert call(client, "GET", path, shop_b).get_json()["data"] == [], path
    assert call(client, "GET", "/settings", shop_b).get_json()["max_items"] == 12
    # shop B cannot tag shop A's creator either
    creator = make_creator(session, shop_a.shop)
    session.commit()
    response = call(
        client,
        "POST",
        "/posts",
        shop_b,
        json={"media": MEDIA, "source": "creator", "creator_id": creator.id},
    )
    assert response.get_json()["fields"]["creator_id"] == "is not a creator of this shop"
