"""Metrics through the admin API: shapes, periods and scoping (the figures are the metrics
service's; its own tests cover the formulas)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from plugin.domain.metrics import METRIC_DEFINITIONS
from plugin.models import utcnow
from plugin.services.metrics_rebuild import rebuild_shop
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_attribution, make_creator, make_entry, make_order
from tests.metrics.conftest import same_transaction


def test_creator_metrics_count_attributed_orders_and_spend(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    # given a paid order credited to anna with a 1,000 commission
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    placed = utcnow() - timedelta(days=2)
    order = make_order(
        session, shop_a.shop, placed_at=placed, paid_at=placed, net_item_revenue_minor=10_000
    )
    make_attribution(session, shop_a.shop, order, anna)
    make_entry(session, shop_a.shop, anna, 1_000, order=order)
    rebuild_shop(same_transaction(session), shop_a.shop.id)  # rows written directly: roll up
    # when
    rows = api.get("/api/v1/metrics/creators", shop_a).get_json()["data"]
    only_anna = api.get(f"/api/v1/metrics/creators?creator_id={anna.id}", shop_a).get_json()
    summary = api.get("/api/v1/metrics/summary", shop_a).get_json()
    other_shop = api.get("/api/v1/metrics/summary", shop_b).get_json()
    # then
    by_handle = {row["handle"]: row["performance"] for row in rows}
    assert set(by_handle) == {"anna", "ben"}
    anna_numbers = by_handle["anna"]
    assert (anna_numbers["orders"], anna_numbers["revenue_minor"], anna_numbers["spend_minor"]) == (
        1,
        10_000,
        1_000,
    )
    assert (anna_numbers["currency"], by_handle["ben"]["orders"]) == ("USD", 0)
    assert [row["creator_id"] for row in only_anna["data"]] == [anna.id]
    assert summary["attributed"]["orders"] == 1
    assert other_shop["attributed"]["orders"] == 0
    assert ben.id != anna.id


def test_campaign_metrics_include_always_on(api: Api, shop_a: ShopKey) -> None:
    rows = api.get("/api/v1/metrics/campaigns", shop_a).get_json()["data"]
    assert [(row["campaign_id"], row["name"]) for row in rows] == [(None, "always-on")]


def test_uplift_states_its_method(api: Api, shop_a: ShopKey) -> None:
    body = api.get("/api/v1/metrics/uplift", shop_a).get_json()
    assert body["method"] == "pre_post_with_unattributed_control"


def test_the_period_is_validated(api: Api, shop_a: ShopKey) -> None:
    backwards = api.get(
        "/api/v1/metrics/summary?start=2026-02-01T00:00:00Z&end=2026-01-01T00:00:00Z", shop_a
    )
    naive = api.get("/api/v1/metrics/summary?start=2026-01-01", shop_a)
    assert backwards.get_json()["fields"] == {"end": "must be after start"}
    assert naive.get_json()["fields"] == {"start": "must include a timezone offset (e.g. Z)"}


def test_every_metric_has_a_definition_the_pages_can_show(api: Api, shop_a: ShopKey) -> None:
    # when
    definitions = api.get("/api/v1/metrics/definitions", shop_a).get_json()["data"]
    summary = api.get("/api/v1/metrics/summary", shop_a).get_json()
    # then: every figure of a performance (and the spend breakdown) is defined
    performance = summary["attributed"]
    shown = set(performance) - {"currency", "start", "end", "spend", "undefined"}
    shown -= {"unique_visitors_approximate"}
    shown |= set(performance["spend"]) - {"total_minor", "definition"}
    assert shown - set(definitions) == set()
    assert definitions == METRIC_DEFINITIONS
    assert "flat fees" in performance["spend"]["definition"]
    assert performance["unique_visitors_approximate"] is True
