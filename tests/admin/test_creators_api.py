"""Creators through the admin API: create, list, read, update, status changes, portal links."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from plugin.crypto import sha256_hex
from plugin.models import Creator
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_creator, make_entry
from workers.backends import InProcessBackend
from workers.runtime import get_backend


def enqueued(app: Flask) -> list[tuple[str, tuple[Any, ...]]]:
    backend = get_backend(app)
    assert isinstance(backend, InProcessBackend)
    return backend.enqueued


def test_create_creator_returns_it_and_stores_email_hash(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # when
    response = api.post(
        "/api/v1/creators",
        shop_a,
        {"handle": "anna.makes", "name": "Anna", "email": "Anna@Example.com", "niche": "knits"},
    )
    # then
    assert response.status_code == 201
    body = response.get_json()
    assert (body["handle"], body["status"], body["has_portal_link"]) == (
        "anna.makes",
        "active",
        False,
    )
    creator = session.get(Creator, body["id"])
    assert creator is not None
    assert creator.shop_id == shop_a.id
    assert creator.email_hash == sha256_hex("anna@example.com")


def test_create_creator_reports_every_bad_field(api: Api, shop_a: ShopKey) -> None:
    # when
    response = api.post(
        "/api/v1/creators",
        shop_a,
        {"handle": "-bad handle", "email": "nope", "engagement_rate_bps": 20_000, "colour": "red"},
    )
    # then
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "validation",
        "fields": {
            "handle": "must start with a letter or digit and use only letters, digits, . _ -",
            "email": "must be an email address",
            "engagement_rate_bps": "must be between 0 and 10000",
            "colour": "is not a known field",
        },
    }


def test_create_creator_refuses_a_handle_already_used_in_any_case(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    make_creator(session, shop_a.shop, "anna")
    # when
    response = api.post("/api/v1/creators", shop_a, {"handle": "ANNA"})
    # then
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"handle": "is already used by another creator"}


def test_the_same_handle_may_exist_in_another_shop(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    make_creator(session, shop_a.shop, "anna")
    response = api.post("/api/v1/creators", shop_b, {"handle": "anna"})
    assert response.status_code == 201


def test_malformed_json_is_a_400(api: Api, shop_a: ShopKey) -> None:
    # when
    response = api.client.post(
        "/api/v1/creators",
        data=b'{"handle": "anna",',
        headers={"Authorization": f"Bearer {shop_a.key}", "Content-Type": "application/json"},
    )
    # then
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_a_body_that_is_not_an_object_is_a_422(api: Api, shop_a: ShopKey) -> None:
    response = api.post("/api/v1/creators", shop_a, ["anna"])
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"body": "must be a JSON object"}


def test_requests_without_a_valid_key_are_401(api: Api, shop_a: ShopKey) -> None:
    assert api.get("/api/v1/creators", None).status_code == 401
    bogus = ShopKey(shop_a.shop, "tmk_not-a-real-key")
    assert api.get("/api/v1/creators", bogus).status_code == 401


def test_list_creators_pages_newest_first_with_a_cursor(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    creators = [make_creator(session, shop_a.shop, f"c{n}") for n in range(5)]
    # when
    first = api.get("/api/v1/creators?limit=2", shop_a).get_json()
    second = api.get(f"/api/v1/creators?limit=2&cursor={first['next_cursor']}", shop_a).get_json()
    third = api.get(f"/api/v1/creators?limit=2&cursor={second['next_cursor']}", shop_a).get_json()
    # then
    handles = [row["handle"] for page in (first, second, third) for row in page["data"]]
    assert handles == [c.handle for c in reversed(creators)]
    assert third["next_cursor"] is None


def test_list_creators_filters_by_status(api: Api, shop_a: ShopKey, session: Session) -> None:
    make_creator(session, shop_a.shop, "on")
    make_creator(session, shop_a.shop, "off", status="paused")
    body = api.get("/api/v1/creators?status=paused", shop_a).get_json()
    assert [row["handle"] for row in body["data"]] == ["off"]


def test_bad_query_parameters_are_field_errors(api: Api, shop_a: ShopKey) -> None:
    response = api.get("/api/v1/creators?limit=0&cursor=zzz&status=asleep", shop_a)
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "limit": "must be between 1 and 200",
        "status": "must be one of: active, paused, terminated",
        "cursor": "is not a cursor this API returned",
    }


def test_pausing_a_creator_enqueues_deactivation_of_their_codes(
    app: Flask, api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "anna")
    session.commit()
    # when
    response = api.patch(f"/api/v1/creators/{creator.id}", shop_a, {"status": "paused"})
    # then
    assert response.status_code == 200
    assert response.get_json()["status"] == "paused"
    assert enqueued(app) == [("workers.jobs.codes.deactivate_creator_codes", (creator.id,))]


def test_updating_other_fields_enqueues_nothing(
    app: Flask, api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    response = api.patch(f"/api/v1/creators/{creator.id}", shop_a, {"niche": "ceramics"})
    assert response.get_json()["niche"] == "ceramics"
    assert enqueued(app) == []


def test_a_terminated_creator_cannot_be_reactivated(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna", status="terminated")
    response = api.patch(f"/api/v1/creators/{creator.id}", shop_a, {"status": "active"})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"status": "a terminated creator cannot be reactivated"}


def test_portal_link_stores_only_the_token_hash_and_replaces_the_old_one(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "anna")
    # when
    first = api.post(f"/api/v1/creators/{creator.id}/portal-link", shop_a).get_json()
    second = api.post(f"/api/v1/creators/{creator.id}/portal-link", shop_a).get_json()
    # then
    token = second["url"].rsplit("/", 1)[1]
    assert second["url"] == f"https://tastemaker.test/creator/{token}"
    session.refresh(creator)
    assert creator.portal_token_hash == sha256_hex(token)
    assert first["url"] != second["url"]


def test_balance_splits_held_available_and_paid(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    from datetime import timedelta

    from plugin.models import utcnow

    creator = make_creator(session, shop_a.shop, "anna")
    make_entry(session, shop_a.shop, creator, 1_500)
    make_entry(session, shop_a.shop, creator, -200, kind="reversal")
    make_entry(session, shop_a.shop, creator, 900, available_at=utcnow() + timedelta(days=20))
    # when
    body = api.get(f"/api/v1/creators/{creator.id}/balance", shop_a).get_json()
    # then
    assert body == {
        "creator_id": creator.id,
        "currency": "USD",
        "held_minor": 900,
        "available_minor": 1_300,
        "in_payout_minor": 0,
        "paid_minor": 0,
    }
