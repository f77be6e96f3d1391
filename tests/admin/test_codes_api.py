"""Discount codes and referral links through the admin API, with the codes job behind it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from sqlalchemy.orm import Session

from connectors.base import DiscountCodeSpec
from plugin.extensions import connectors, credentials
from plugin.models import utcnow
from plugin.services.shops import shop_context
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_code, make_creator
from tests.conftest import REDIS_URL
from workers import runtime
from workers.backends import RQBackend


def test_a_new_code_is_pending_until_the_job_creates_it_in_the_store(
    api: Api, shop_a: ShopKey, session: Session, run_jobs: Callable[[], int]
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "anna")
    session.commit()
    # when
    created = api.post(
        "/api/v1/discount-codes",
        shop_a,
        {"creator_id": creator.id, "code": "Anna10", "value": 1_000, "once_per_customer": True},
    )
    pending = created.get_json()
    ran = run_jobs()
    after = api.get(f"/api/v1/discount-codes/{pending['id']}", shop_a).get_json()
    # then
    assert created.status_code == 202
    assert (pending["status"], pending["platform_id"], pending["currency"]) == (
        "pending",
        None,
        "USD",
    )
    assert ran == 1
    assert after["status"] == "active"
    assert after["platform_id"].startswith("sandbox-discount-")
    assert after["error"] is None


def test_a_code_taken_in_the_store_offers_alternatives_and_can_be_retried(
    api: Api, shop_a: ShopKey, session: Session, run_jobs: Callable[[], int]
) -> None:
    # given the store already has ANNA10 (made outside Tastemaker)
    creator = make_creator(session, shop_a.shop, "anna")
    context = shop_context(session, credentials(), shop_a.shop)
    connectors().get("sandbox").create_discount_code(
        context, DiscountCodeSpec("ANNA10", "manual", "percentage", 1000, "USD", utcnow())
    )
    session.commit()
    code_id = api.post(
        "/api/v1/discount-codes",
        shop_a,
        {"creator_id": creator.id, "code": "anna10", "value": 1000},
    ).get_json()["id"]
    run_jobs()
    # when
    taken = api.get(f"/api/v1/discount-codes?creator_id={creator.id}", shop_a).get_json()["data"][0]
    retried = api.post(f"/api/v1/discount-codes/{code_id}/retry", shop_a, {"code": "anna101"})
    run_jobs()
    final = api.get(f"/api/v1/discount-codes/{code_id}", shop_a).get_json()
    # then
    assert taken["status"] == "taken"
    assert taken["alternatives"] == ["anna101", "anna102", "anna103"]
    assert taken["error"] == "discount code 'anna10' already exists in the store"
    assert retried.status_code == 202
    assert (final["status"], final["code"], final["alternatives"]) == ("active", "anna101", [])


def test_codes_are_unique_per_shop_ignoring_case(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    make_code(session, shop_a.shop, creator, "ANNA10")
    response = api.post(
        "/api/v1/discount-codes", shop_a, {"creator_id": creator.id, "code": "anna10", "value": 500}
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"code": "already exists in this shop"}


def test_code_values_are_checked_per_kind(api: Api, shop_a: ShopKey, session: Session) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    too_much = api.post(
        "/api/v1/discount-codes",
        shop_a,
        {"creator_id": creator.id, "code": "HALFPLUS", "value": 10_001},
    )
    wrong_currency = api.post(
        "/api/v1/discount-codes",
        shop_a,
        {
            "creator_id": creator.id,
            "code": "FIVEOFF",
            "kind": "fixed_amount",
            "value": 500,
            "currency": "eur",
        },
    )
    bad_name = api.post(
        "/api/v1/discount-codes",
        shop_a,
        {"creator_id": creator.id, "code": "no spaces!", "value": 1},
    )
    assert too_much.get_json()["fields"] == {"value": "must be between 1 and 10000 basis points"}
    assert wrong_currency.get_json()["fields"] == {"currency": "must be the shop currency (USD)"}
    assert bad_name.get_json()["fields"] == {"code": "must be 3-64 letters, digits, _ or -"}


def test_a_paused_creator_gets_no_new_code(api: Api, shop_a: ShopKey, session: Session) -> None:
    creator = make_creator(session, shop_a.shop, "anna", status="paused")
    response = api.post(
        "/api/v1/discount-codes", shop_a, {"creator_id": creator.id, "code": "ANNA10", "value": 1}
    )
    assert response.get_json()["fields"] == {"creator_id": "creator is paused"}


def test_deactivating_a_code_retires_it_in_the_store(
    api: Api, shop_a: ShopKey, session: Session, run_jobs: Callable[[], int]
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "anna")
    session.commit()
    code_id = api.post(
        "/api/v1/discount-codes", shop_a, {"creator_id": creator.id, "code": "ANNA10", "value": 1}
    ).get_json()["id"]
    run_jobs()
    platform_id = api.get(f"/api/v1/discount-codes/{code_id}", shop_a).get_json()["platform_id"]
    # when
    response = api.post(f"/api/v1/discount-codes/{code_id}/deactivate", shop_a)
    run_jobs()
    # then
    assert response.status_code == 202
    after = api.get(f"/api/v1/discount-codes/{code_id}", shop_a).get_json()
    assert after["status"] == "deactivated"
    assert platform_id in connectors().get("sandbox").deactivated  # type: ignore[attr-defined]


def test_only_taken_or_failed_codes_can_be_retried(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    code = make_code(session, shop_a.shop, creator, "ANNA10", status="active")
    response = api.post(f"/api/v1/discount-codes/{code.id}/retry", shop_a)
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "conflict",
        "message": "a active code cannot be retried",
    }


def test_create_and_list_referral_links(api: Api, shop_a: ShopKey, session: Session) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    # when
    created = api.post(
        "/api/v1/links", shop_a, {"creator_id": anna.id, "target_path": "/products/scarf"}
    )
    api.post("/api/v1/links", shop_a, {"creator_id": ben.id})
    listed = api.get(f"/api/v1/links?creator_id={anna.id}", shop_a).get_json()
    # then
    assert created.status_code == 201
    body = created.get_json()
    assert body["url"] == f"https://tastemaker.test/r/{body['slug']}"
    assert (body["target_path"], body["active"]) == ("/products/scarf", True)
    assert [row["id"] for row in listed["data"]] == [body["id"]]
    assert api.get(f"/api/v1/links/{body['id']}", shop_a).get_json() == body


def test_links_only_point_at_the_shops_own_domain(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    off_site = api.post(
        "/api/v1/links", shop_a, {"creator_id": anna.id, "target_path": "//evil.example/x"}
    )
    tracking = api.post(
        "/api/v1/links", shop_a, {"creator_id": anna.id, "target_path": "/x?tm_click=1"}
    )
    assert off_site.get_json()["fields"] == {
        "target_path": "must be a path on the shop's own domain, starting with /"
    }
    assert tracking.get_json()["fields"] == {
        "target_path": "must not set tm_click: tracking parameters are added"
    }


def test_a_link_cannot_use_another_creators_code(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    code = make_code(session, shop_a.shop, ben, "BEN10")
    response = api.post(
        "/api/v1/links", shop_a, {"creator_id": anna.id, "discount_code_id": code.id}
    )
    assert response.get_json()["fields"] == {"discount_code_id": "belongs to another creator"}


@pytest.mark.redis
def test_a_code_is_created_by_a_real_rq_worker_after_commit(
    app: Flask, api: Api, shop_a: ShopKey, session: Session, redis_connection: Any
) -> None:
    # given the app sends jobs to Redis
    creator = make_creator(session, shop_a.shop, "anna")
    session.commit()
    runtime.init_app(app, RQBackend(REDIS_URL))
    # when
    code_id = api.post(
        "/api/v1/discount-codes", shop_a, {"creator_id": creator.id, "code": "RQ10", "value": 1}
    ).get_json()["id"]
    codes_queue = Queue("codes", connection=redis_connection)
    queued = codes_queue.count
    runtime.set_worker_app(app)
    try:
        SimpleWorker([codes_queue], connection=redis_connection).work(burst=True)
    finally:
        runtime.set_worker_app(None)
    # then
    assert queued == 1
    assert api.get(f"/api/v1/discount-codes/{code_id}", shop_a).get_json()["status"] == "active"
