"""Two shops on every admin API route: shop B can neither read nor change shop A's rows.

A row of another shop answers 404, exactly like a row that does not exist, so ids leak nothing.
The last test checks that the tables below cover every /api/v1 route and method.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from plugin.models import Agreement, Deliverable, LiftTest
from plugin.services.payouts import batch_payouts
from plugin.services.shops import issue_api_key
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import (
    make_attribution,
    make_campaign,
    make_code,
    make_creator,
    make_entry,
    make_link,
    make_order,
)

BY_ID: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/creators/{creator}", None),
    ("PATCH", "/api/v1/creators/{creator}", {"status": "paused"}),
    ("GET", "/api/v1/creators/{creator}/balance", None),
    ("POST", "/api/v1/creators/{creator}/portal-link", None),
    ("GET", "/api/v1/campaigns/{campaign}", None),
    ("PATCH", "/api/v1/campaigns/{campaign}", {"name": "Taken over"}),
    ("GET", "/api/v1/agreements/{agreement}", None),
    ("PATCH", "/api/v1/agreements/{agreement}", {"commission_rate_bps": 9_999}),
    ("GET", "/api/v1/agreements/{agreement}/versions", None),
    ("GET", "/api/v1/deliverables/{deliverable}", None),
    ("POST", "/api/v1/deliverables/{deliverable}/approve", {}),
    ("POST", "/api/v1/deliverables/{deliverable}/request-changes", {"message": "mine now"}),
    ("GET", "/api/v1/discount-codes/{code}", None),
    ("POST", "/api/v1/discount-codes/{code}/retry", {"code": "MINE"}),
    ("POST", "/api/v1/discount-codes/{code}/deactivate", None),
    ("GET", "/api/v1/links/{link}", None),
    ("GET", "/api/v1/attributions/{attribution}", None),
    ("GET", "/api/v1/payouts/{payout}", None),
    ("POST", "/api/v1/payouts/{payout}/approve", None),
    ("POST", "/api/v1/payouts/{payout}/mark-paid", {"external_reference": "stolen"}),
    ("POST", "/api/v1/payouts/{payout}/cancel", {}),
    ("GET", "/api/v1/payouts/batches/{batch}/export.csv", None),
    ("DELETE", "/api/v1/api-keys/{api_key}", None),
    ("GET", "/api/v1/metrics/creators?creator_id={creator}", None),
    ("GET", "/api/v1/metrics/campaigns?campaign_id={campaign}", None),
    ("GET", "/api/v1/metrics/uplift?creator_id={creator}", None),
    ("GET", "/api/v1/lift-tests/{lift_test}", None),
    ("PATCH", "/api/v1/lift-tests/{lift_test}", {"waves": 3}),
    ("POST", "/api/v1/lift-tests/{lift_test}/launch", None),
    ("POST", "/api/v1/lift-tests/{lift_test}/end", None),
]
# Lists as shop B: B owns nothing of these kinds, so each must come back empty.
LISTS = [
    "/api/v1/creators",
    "/api/v1/campaigns",
    "/api/v1/agreements",
    "/api/v1/agreements?creator_id={creator}",
    "/api/v1/deliverables",
    "/api/v1/deliverables?agreement_id={agreement}",
    "/api/v1/flat-fees/upcoming",
    "/api/v1/discount-codes",
    "/api/v1/discount-codes?creator_id={creator}",
    "/api/v1/links",
    "/api/v1/attributions",
    "/api/v1/attributions?creator_id={creator}",
    "/api/v1/ledger",
    "/api/v1/ledger?creator_id={creator}",
    "/api/v1/payouts",
    "/api/v1/payouts?batch_key={batch}",
    "/api/v1/payouts/batches",
    "/api/v1/metrics/creators",
    "/api/v1/lift-tests",
    "/api/v1/lift-tests?campaign_id={campaign}",
]
# Creating rows in B that point at A's rows.
REFERENCING: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "/api/v1/agreements",
        {"creator_id": "{creator}"},
        {"creator_id": "does not exist in this shop"},
    ),
    (
        "/api/v1/discount-codes",
        {"creator_id": "{creator}", "code": "STEAL10", "value": 1_000},
        {"creator_id": "does not exist in this shop"},
    ),
    ("/api/v1/links", {"creator_id": "{creator}"}, {"creator_id": "does not exist in this shop"}),
    (
        "/api/v1/ledger/adjustments",
        {"creator_id": "{creator}", "amount_minor": 100, "reason": "gift"},
        {"creator_id": "does not exist in this shop"},
    ),
    (
        "/api/v1/lift-tests",
        {"campaign_id": "{campaign}", "design": "holdout"},
        {"campaign_id": "does not exist in this shop"},
    ),
]


@pytest.fixture
def world_a(session: Session, shop_a: ShopKey) -> dict[str, Any]:
    """One of everything in shop A."""
    shop = shop_a.shop
    creator = make_creator(session, shop, "anna")
    campaign = make_campaign(session, shop)
    agreement = Agreement(shop_id=shop.id, creator_id=creator.id, campaign_id=campaign.id)
    session.add(agreement)
    session.flush()
    deliverable = Deliverable(
        shop_id=shop.id,
        agreement_id=agreement.id,
        creator_id=creator.id,
        position=0,
        kind="reel",
        status="submitted",
        post_url="https://instagram.com/p/a",
    )
    session.add(deliverable)
    code = make_code(session, shop, creator, "ANNA10", status="taken")
    link = make_link(session, shop, creator)
    order = make_order(session, shop)
    attribution = make_attribution(session, shop, order, creator)
    make_entry(session, shop, creator, 1_000, order=order)
    (payout,) = batch_payouts(session, shop.id, "a-batch")
    api_key, _ = issue_api_key(session, shop.id, "a's other key")
    lift_test = LiftTest(shop_id=shop.id, campaign_id=campaign.id, name="A's", design="staggered")
    lift_test.seed = 1
    session.add(lift_test)
    session.commit()
    return {
        "creator": creator.id,
        "campaign": campaign.id,
        "agreement": agreement.id,
        "deliverable": deliverable.id,
        "code": code.id,
        "link": link.id,
        "attribution": attribution.id,
        "payout": payout.id,
        "batch": "a-batch",
        "api_key": api_key.id,
        "lift_test": lift_test.id,
    }


def fill(template: Any, ids: dict[str, Any]) -> Any:
    if isinstance(template, str):
        whole = re.fullmatch(r"\{(\w+)\}", template)
        return ids[whole.group(1)] if whole else template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


def snapshot(api: Api, shop_a: ShopKey) -> list[Any]:
    """Everything shop A can see, to compare before and after shop B's attempts."""
    # Metrics are left out: their default period ends "now", so they differ call to call.
    paths = [path for path in LISTS if "{" not in path and "/metrics/" not in path]
    paths += ["/api/v1/api-keys", "/api/v1/shop"]
    return [api.get(path, shop_a).get_json() for path in paths]


@pytest.mark.parametrize(("method", "path", "body"), BY_ID)
def test_another_shops_row_is_not_found(
    api: Api,
    shop_a: ShopKey,
    shop_b: ShopKey,
    world_a: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    # given
    before = snapshot(api, shop_a)
    # when
    response = api.call(method, fill(path, world_a), shop_b, json=body)
    # then
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "no such resource in this shop"}
    assert snapshot(api, shop_a) == before


@pytest.mark.parametrize("path", LISTS)
def test_lists_show_only_the_callers_rows(
    api: Api, shop_b: ShopKey, world_a: dict[str, Any], path: str
) -> None:
    response = api.get(fill(path, world_a), shop_b)
    assert response.status_code == 200
    assert response.get_json()["data"] == []


@pytest.mark.parametrize(("path", "body", "fields"), REFERENCING)
def test_another_shops_rows_cannot_be_referenced(
    api: Api,
    shop_a: ShopKey,
    shop_b: ShopKey,
    world_a: dict[str, Any],
    path: str,
    body: dict[str, Any],
    fields: dict[str, str],
) -> None:
    before = snapshot(api, shop_a)
    response = api.post(path, shop_b, fill(body, world_a))
    assert response.status_code == 422
    assert response.get_json()["fields"] == fields
    assert snapshot(api, shop_a) == before


def test_api_keys_and_shop_are_the_callers_own(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, world_a: dict[str, Any]
) -> None:
    # when
    keys = api.get("/api/v1/api-keys", shop_b).get_json()["data"]
    created = api.post("/api/v1/api-keys", shop_b, {"label": "b2"}).get_json()
    shop = api.get("/api/v1/shop", shop_b).get_json()
    changed = api.patch("/api/v1/shop", shop_b, {"payout_minimum_minor": 1}).get_json()
    # then
    assert [row["label"] for row in keys] == ["test"]
    assert (
        api.get("/api/v1/shop", ShopKey(shop_b.shop, created["key"])).get_json()["id"] == shop_b.id
    )
    assert (shop["id"], changed["id"]) == (shop_b.id, shop_b.id)
    assert api.get("/api/v1/shop", shop_a).get_json()["payout_minimum_minor"] == 0


def test_writes_create_rows_in_the_callers_shop_only(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, world_a: dict[str, Any]
) -> None:
    # when shop B creates a creator with A's handle, a campaign, and runs a payout batch
    creator = api.post("/api/v1/creators", shop_b, {"handle": "anna"})
    campaign = api.post("/api/v1/campaigns", shop_b, {"name": "B's", "format": "live_drop"})
    batch = api.post("/api/v1/payouts/batches", shop_b, {"batch_key": "a-batch"})
    # then they exist in B and A still sees only its own
    assert (creator.status_code, campaign.status_code) == (201, 201)
    assert batch.get_json() == {"batch_key": "a-batch", "created": []}
    a_creators = api.get("/api/v1/creators", shop_a).get_json()["data"]
    assert [row["id"] for row in a_creators] == [world_a["creator"]]
    a_campaigns = api.get("/api/v1/campaigns", shop_a).get_json()["data"]
    assert [row["id"] for row in a_campaigns] == [world_a["campaign"]]


COVERED_ELSEWHERE = {
    ("POST", "/api/v1/creators"),
    # tests/admin/test_creator_import.py: test_import_is_scoped_to_the_calling_shop
    ("POST", "/api/v1/creators/import"),
    ("POST", "/api/v1/campaigns"),
    ("POST", "/api/v1/payouts/batches"),
    ("GET", "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"),
    ("GET", "/api/v1/shop"),
    ("PATCH", "/api/v1/shop"),
    ("GET", "/api/v1/metrics/summary"),
    ("GET", "/api/v1/metrics/definitions"),  # the same text for every shop, no tenant rows
}


def test_every_admin_route_is_in_a_tenancy_table(app: Flask) -> None:
    # given
    def rule_of(path: str) -> str:
        return re.sub(r"\{\w+\}", "<x>", path.split("?", 1)[0])

    covered = {(method, rule_of(path)) for method, path, _ in BY_ID}
    covered |= {("GET", rule_of(path)) for path in LISTS}
    covered |= {("POST", rule_of(path)) for path, _, _ in REFERENCING}
    covered |= COVERED_ELSEWHERE
    # when
    routes = {
        (method, re.sub(r"<[^>]+>", "<x>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("admin_api.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    # then
    assert routes - covered == set()
