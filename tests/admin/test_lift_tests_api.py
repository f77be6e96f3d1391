"""/api/v1/lift-tests: plan, launch, read results with 95 % intervals, all as documented."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.demo.lift_store import PROMOTED, OrderWriter, simulate_sales, write_sales
from plugin.models import Agreement, Campaign, Creator, LiftAssignment, LiftTest, utcnow
from plugin.tenancy import Tenant
from tests.admin.conftest import Api, ShopKey


def _campaign(session: Session, who: ShopKey, creators: int = 4) -> Campaign:
    tenant = Tenant(session, who.id)
    campaign = tenant.add(Campaign(name="Serum launch", format="shoppable_story"))
    people = [
        tenant.add(Creator(handle=f"creator{n}", name=f"Creator {n}")) for n in range(creators)
    ]
    session.flush()
    for person in people:
        tenant.add(Agreement(creator_id=person.id, campaign_id=campaign.id))
    session.commit()
    return campaign


def test_plan_launch_and_read_a_staggered_test(api: Api, session: Session, shop_a: ShopKey) -> None:
    # given
    campaign = _campaign(session, shop_a, creators=8)
    created = api.post(
        "/api/v1/lift-tests",
        shop_a,
        {
            "campaign_id": campaign.id,
            "design": "staggered",
            "waves": 2,
            "wave_days": 7,
            "product_ids": [int(p) for p in PROMOTED],
            "seed": 31,
        },
    )
    assert created.status_code == 201, created.get_json()
    test_id = created.get_json()["id"]
    draft = api.get(f"/api/v1/lift-tests/{test_id}", shop_a).get_json()
    assert draft["status"] == "draft"
    assert draft["result"] is None
    assert draft["guidance"] == {
        "detectable_lift": None,
        "sentence": "No sales history yet: the app cannot size this test.",
        "enough": False,
    }
    assert draft["explanation"]["title"] == "Staggered launch (randomized)"
    # when it launches, and two weeks of sales (plus four of history) happen
    launched = api.post(f"/api/v1/lift-tests/{test_id}/launch", shop_a)
    assert launched.status_code == 200
    test = session.get(LiftTest, test_id)
    assert test is not None
    # move the launch (and its recorded wave dates) two weeks back, to the start of a day
    shift = test.launched_at - (utcnow() - timedelta(days=14)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    test.launched_at -= shift
    for row in session.scalars(select(LiftAssignment).where(LiftAssignment.test_id == test_id)):
        row.starts_at -= shift
    session.commit()
    first = test.launched_at - timedelta(days=28)
    detail = api.get(f"/api/v1/lift-tests/{test_id}", shop_a).get_json()
    go_live = {row["creator_id"]: 28 + row["day"] for row in detail["assignments"]}
    rng = np.random.default_rng(4)
    sales, _truth = simulate_sales(rng, first.date(), 42, go_live, 1.0, baseline=30)
    write_sales(OrderWriter(session, shop_a.id), rng, first, sales, campaign.id)
    session.commit()
    # then the result has every figure with its interval, per campaign and creator
    detail = api.get(f"/api/v1/lift-tests/{test_id}", shop_a).get_json()
    assert (
        "the headline (from the lottery alone) can detect a lift of about"
        in detail["guidance"]["sentence"]
    )
    result = detail["result"]
    assert result["randomized"] is True
    # the headline share from the randomization, bounded, and what it rests on; the
    # model-based difference in differences beside it
    assert result["incremental_share"]["low"] is not None
    assert result["incremental_share"]["high"] is not None
    assert result["model_based_share"]["low"] is not None
    # (2 of the 1,999 re-draws give the actual exposure again: 8 creators in 2 waves over 14
    # days have 70 x 105 schedules, so the smallest p-value is 3 in 2,000)
    assert result["randomization"] == {
        "schedules": 2000,
        "smallest_p_value": pytest.approx(3 / 2000),
        "interval_possible": True,
    }
    assert set(result["campaign"]["incremental_orders"]) == {"estimate", "low", "high"}
    assert "the campaign's creators" in result["campaign"]["sentence"]
    assert len(result["creators"]) == 8
    assert len(result["chart"]["days"]) == 42
    # and a launched test cannot change
    refused = api.patch(f"/api/v1/lift-tests/{test_id}", shop_a, {"waves": 3})
    assert refused.status_code == 409
    assert api.post(f"/api/v1/lift-tests/{test_id}/launch", shop_a).status_code == 409


def test_field_errors_are_422(api: Api, session: Session, shop_a: ShopKey, shop_b: ShopKey) -> None:
    campaign = _campaign(session, shop_b)
    response = api.post(
        "/api/v1/lift-tests",
        shop_a,
        {"campaign_id": campaign.id, "design": "coin-toss", "holdout_bps": 20_000},
    )
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert set(fields) == {"design", "holdout_bps"}
    # a campaign of another shop is a field error too
    response = api.post(
        "/api/v1/lift-tests", shop_a, {"campaign_id": campaign.id, "design": "holdout"}
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"campaign_id": "does not exist in this shop"}


def test_another_shops_test_is_not_found(
    api: Api, session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    campaign = _campaign(session, shop_b)
    created = api.post(
        "/api/v1/lift-tests", shop_b, {"campaign_id": campaign.id, "design": "observational"}
    ).get_json()
    assert api.get(f"/api/v1/lift-tests/{created['id']}", shop_a).status_code == 404
    assert api.get("/api/v1/lift-tests", shop_a).get_json()["data"] == []
