"""The public Try & Tag form and JSON endpoint: what a shopper may send, and what is kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.crypto import hash_email
from plugin.db import get_session
from plugin.models.ugc import ProductSnapshot, Reward, UgcPost
from plugin.services import rewards as service
from plugin.services import ugc
from plugin.services import ugc_rights as rights
from plugin.tenancy import Tenant
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_order
from tests.rewards.factories import PRODUCT, open_program, submission, submit

RunJobs = Callable[[], int]
FORM = {
    "post_url": "https://instagram.com/p/Cx1/?igsh=tracking",
    "handle": "@lena.daily",
    "product_id": PRODUCT,
    "email": "Lena@Example.com",
    "order_number": "",
}


def form_url(shop: ShopKey) -> str:
    return f"/try-and-tag/{shop.shop.public_key}"


def rewards() -> list[Reward]:
    return list(get_session().scalars(select(Reward).order_by(Reward.id)))


def test_the_form_shows_the_offer_and_the_catalog(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given
    open_program(session, shop_a.shop, terms="One reward per product.")
    session.commit()
    # when
    response = client.get(form_url(shop_a) + f"?product={PRODUCT}")
    # then
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Post it, tag alpha.example, get 15% off" in page
    assert f'<option value="{PRODUCT}" selected>Linen Overshirt</option>' in page
    assert "One reward per product." in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page


def test_a_shop_without_an_open_program_takes_no_submissions(
    client: FlaskClient, session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    open_program(session, shop_b.shop, enabled=False)
    session.commit()
    for url in (form_url(shop_a), form_url(shop_b), "/try-and-tag/pk_nobody"):
        assert client.get(url).status_code == 404
        assert client.post(url, data=FORM).status_code == 404
        assert client.post(url + "/submissions", json=FORM).status_code == 404
    assert rewards() == []


def test_a_form_submission_becomes_a_pending_post_and_a_private_status_page(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given
    open_program(session, shop_a.shop)
    session.commit()
    # when
    response = client.post(form_url(shop_a), data=FORM)
    # then the shopper lands on their status page
    assert response.status_code == 303
    location = response.headers["Location"]
    match = re.fullmatch(rf"{form_url(shop_a)}/rewards/([A-Za-z0-9_-]+)\?new=1", location)
    assert match is not None
    status = client.get(location)
    assert status.status_code == 200
    assert "alpha.example has your post" in status.get_data(as_text=True)
    assert status.headers["Referrer-Policy"] == "no-referrer"
    # and the merchant has a post to moderate, with its reward waiting
    [reward] = rewards()
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    assert (post.source, post.moderation_status, post.network, post.author_handle) == (
        "try_and_tag",
        "pending",
        "instagram",
        "lena.daily",
    )
    assert (post.post_url, post.product_ids) == ("https://www.instagram.com/p/Cx1", [PRODUCT])
    assert (reward.status, reward.is_open, reward.product_id) == ("submitted", True, PRODUCT)
    assert reward.customer_email_hash == hash_email("lena@example.com")
    assert (reward.discount_kind, reward.discount_value, reward.currency) == (
        "percentage",
        1500,
        "USD",
    )
    assert service.reward_for_token(get_session(), shop_a.id, match.group(1)) == reward


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("post_url", "http://instagram.com/p/Cx1/", "must be the https link to your post"),
        ("post_url", "https://evil.example/p/Cx1", "must be the https link to your post"),
        ("handle", "lena daily", "must be your handle there"),
        ("email", "not-an-email", "must be an email address"),
        ("product_id", "9999", "is not a product of this shop"),
        ("order_number", "12; drop table", "is not an order number"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_kept(
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    field: str,
    value: str,
    message: str,
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    form = client.post(form_url(shop_a), data={**FORM, field: value})
    api = client.post(form_url(shop_a) + "/submissions", json={**FORM, field: value})
    assert form.status_code == 422
    assert f'role="alert">{message[0].upper()}{message[1:]}' in form.get_data(as_text=True)
    assert api.status_code == 422
    assert api.get_json()["error"] == "validation"
    assert list(api.get_json()["fields"]) == [field]
    assert api.get_json()["fields"][field].startswith(message)
    assert rewards() == []
    assert get_session().scalars(select(UgcPost)).all() == []


def test_the_json_endpoint_answers_with_the_status_link_and_cors_for_the_store(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    origin = {"Origin": "https://alpha.example"}
    url = form_url(shop_a) + "/submissions"
    preflight = client.options(url, headers=origin)
    response = client.post(url, json=FORM, headers=origin)
    stranger = client.post(
        url, json={**FORM, "product_id": "x"}, headers={"Origin": "https://x.io"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://alpha.example"
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://alpha.example"
    body = response.get_json()
    assert body["status"] == "submitted"
    assert body["status_url"].startswith(f"https://tastemaker.test{form_url(shop_a)}/rewards/")
    assert "Access-Control-Allow-Origin" not in stranger.headers


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [(b"{not json", 400, "malformed_json"), (b"x" * 9000, 413, "too_large")],
)
def test_malformed_or_oversized_bodies_are_refused(
    client: FlaskClient, session: Session, shop_a: ShopKey, body: bytes, status: int, error: str
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    response = client.post(
        form_url(shop_a) + "/submissions", data=body, content_type="application/json"
    )
    assert (response.status_code, response.get_json()["error"]) == (status, error)


def test_one_open_submission_per_email_and_product_until_it_is_turned_down(
    app: Flask, client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given a submission under review
    open_program(session, shop_a.shop)
    session.add(
        ProductSnapshot(
            shop_id=shop_a.id, product_id="8002", title="Tote", price_minor=1, variant_id="1"
        )
    )
    session.commit()
    first, _token = submit(session, shop_a.shop, email="lena@example.com")
    other_post = {"post_url": "https://www.tiktok.com/@lena/video/2", "email": "LENA@example.com"}
    # when the same email sends another post for the same product, or another product
    same = client.post(form_url(shop_a) + "/submissions", json={**FORM, **other_post})
    other = client.post(
        form_url(shop_a) + "/submissions", json={**FORM, **other_post, "product_id": "8002"}
    )
    # then only the other product is taken
    assert same.status_code == 422
    assert same.get_json()["fields"] == {
        "email": "already has a submission for this product, which is waiting for the shop's review"
    }
    assert other.status_code == 201
    # when the first is rejected, the shopper may try again with a new post
    post = get_session().get(UgcPost, first.ugc_post_id)
    assert post is not None
    ugc.moderate(Tenant(get_session(), shop_a.id), post, "reject", reason="blurry")
    get_session().commit()
    retake = {**other_post, "post_url": "https://www.youtube.com/watch?v=retake"}
    again = client.post(form_url(shop_a) + "/submissions", json={**FORM, **retake})
    assert again.status_code == 201
    assert [(r.product_id, r.status, r.is_open) for r in rewards()] == [
        (PRODUCT, "void", None),
        ("8002", "submitted", True),
        (PRODUCT, "submitted", True),
    ]


def test_the_same_post_cannot_be_submitted_twice(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    submit(session, shop_a.shop, post_url="https://www.instagram.com/p/Cx1")
    response = client.post(
        form_url(shop_a) + "/submissions", json={**FORM, "email": "someone@else.example"}
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "post_url": "was already submitted and is waiting for the shop's review"
    }


def test_an_email_may_have_only_a_few_submissions_waiting(
    session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    for n in range(6):
        session.add(
            ProductSnapshot(
                shop_id=shop_a.id, product_id=f"p{n}", title=f"P{n}", price_minor=1, variant_id="1"
            )
        )
    session.commit()
    for n in range(5):
        submit(session, shop_a.shop, product_id=f"p{n}", post_url=f"https://youtu.be/v{n}")
    with pytest.raises(service.ValidationFailed) as refused:
        submit(session, shop_a.shop, product_id="p5", post_url="https://youtu.be/v5")
    assert refused.value.fields == {"email": "has too many submissions waiting for review"}


def test_a_visitor_gets_a_small_budget_of_submissions(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    answers = [
        client.post(form_url(shop_a) + "/submissions", json={**FORM, "product_id": "nope"})
        for _ in range(11)
    ]
    form = client.post(form_url(shop_a), data=FORM)
    assert [a.status_code for a in answers] == [422] * 10 + [429]
    assert answers[-1].headers["Retry-After"] == "3600"
    assert form.status_code == 429
    assert "Too many submissions from your network" in form.get_data(as_text=True)


def test_the_honeypot_field_is_thanked_and_dropped(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    response = client.post(form_url(shop_a), data={**FORM, "website": "https://spam.example"})
    assert response.status_code == 200
    assert "has received your post" in response.get_data(as_text=True)
    assert rewards() == []


def test_orders_are_matched_by_number_and_email(session: Session, shop_a: ShopKey) -> None:
    # given an order placed with the shopper's email
    open_program(session, shop_a.shop, require_order=True)
    make_order(
        session,
        shop_a.shop,
        order_number="#1042",
        customer_email_hash=hash_email("lena@example.com"),
    )
    session.commit()
    tenant = Tenant(session, shop_a.id)
    # when the order is missing, or named with another email
    for fields, message in (
        ({"order_number": ""}, "is required"),
        (
            {"order_number": "1042", "email": "eve@example.com"},
            "does not match an order placed with this email",
        ),
    ):
        with pytest.raises(service.ValidationFailed) as refused:
            service.submit(tenant, shop_a.shop, submission(**fields))
        assert refused.value.fields == {"order_number": message}
    # then only the matching one is taken, and verified
    reward, _token = service.submit(
        tenant, shop_a.shop, submission(order_number="1042", email="lena@example.com")
    )
    assert (reward.order_number, reward.order_id is not None) == ("1042", True)


def test_an_unmatched_order_number_is_kept_unverified_when_not_required(
    session: Session, shop_a: ShopKey
) -> None:
    open_program(session, shop_a.shop)
    session.commit()
    reward, _token = submit(session, shop_a.shop, order_number="#7")
    assert (reward.order_number, reward.order_id) == ("#7", None)


def test_the_status_page_shows_the_code_once_issued_and_only_under_its_shop(
    client: FlaskClient, session: Session, shop_a: ShopKey, shop_b: ShopKey, run_jobs: RunJobs
) -> None:
    # given an approved, issued reward
    open_program(session, shop_a.shop)
    session.commit()
    reward, token = submit(session, shop_a.shop)
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    ugc.moderate(Tenant(get_session(), shop_a.id), post, "approve")
    get_session().commit()
    run_jobs()
    code = get_session().scalars(select(Reward.code)).one()
    # when
    page = client.get(f"{form_url(shop_a)}/rewards/{token}")
    elsewhere = client.get(f"{form_url(shop_b)}/rewards/{token}")
    guessed = client.get(f"{form_url(shop_a)}/rewards/not-the-token")
    # then
    assert page.status_code == 200
    assert f"<code>{code}</code>" in page.get_data(as_text=True)
    assert "15% off" in page.get_data(as_text=True)
    assert (elsewhere.status_code, guessed.status_code) == (404, 404)


def test_an_approved_submission_is_never_served_on_the_storefront(
    app: Flask, client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given an approved submission with on-site rights (it has no picture, only a link)
    open_program(session, shop_a.shop)
    session.commit()
    reward, _token = submit(session, shop_a.shop)
    tenant = Tenant(get_session(), shop_a.id)
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    ugc.moderate(tenant, post, "approve")
    grant = rights.request_rights(tenant, post, scopes=["on_site"], request_text="May we?")
    rights.grant_rights(tenant, grant, reply_text="yes")
    get_session().commit()
    # when
    feed = client.get(f"/storefront/{shop_a.shop.public_key}/ugc?product={PRODUCT}")
    # then
    assert feed.get_json()["posts"] == []
