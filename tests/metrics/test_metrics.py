"""Metrics on the seeded shop (tests/metrics/conftest.py); every expected figure is worked out
by hand in the comments."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from plugin.domain import metrics as formulas
from plugin.services.metrics import (
    UPLIFT_METHOD,
    campaign_metrics,
    creator_metrics,
    shop_summary,
    uplift,
)
from plugin.services.metrics_results import Ltv, Spend
from tests.metrics.conftest import END, START, Seed


def _performance(**figures: object) -> dict[str, object]:
    base: dict[str, object] = {
        "currency": "USD",
        "start": "2026-03-01T00:00:00+00:00",
        "end": "2026-04-01T00:00:00+00:00",
        "clicks": 0,
        "unique_visitors": 0,
        "unique_visitors_approximate": True,
        "orders": 0,
        "click_orders": 0,
        "code_orders": 0,
        "self_referral_orders": 0,
        "conversion_rate_bps": None,
        "gross_revenue_minor": 0,
        "refunded_minor": 0,
        "revenue_minor": 0,
        "average_order_value_minor": None,
        "spend": Spend().to_dict(),
        "spend_minor": 0,
        "new_customers": 0,
        "cac_minor": None,
        "roi_bps": None,
    }
    base.update(figures)
    # Every seeded order is credited by code except o1 (by click): see conftest.
    base.setdefault("code_orders", 0)
    if "code_orders" not in figures:
        base["code_orders"] = int(base["orders"]) - int(base["click_orders"])  # type: ignore[call-overload]
    base["undefined"] = formulas.undefined_reasons(
        clicks=int(base["clicks"]),  # type: ignore[call-overload]
        orders=int(base["orders"]),  # type: ignore[call-overload]
        new_customers=int(base["new_customers"]),  # type: ignore[call-overload]
        spend=int(base["spend_minor"]),  # type: ignore[call-overload]
    )
    return base


def test_creator_metrics(session: Session, seed: Seed) -> None:
    # when
    rows = {
        m.handle: m.to_dict() for m in creator_metrics(session, seed.shop.id, start=START, end=END)
    }
    # then
    assert list(rows) == ["ava", "ben", "cy", "dee", "eve"]
    # ava: clicks v1 v1 v2 v3 (February's excluded); orders o1 o2 o3 (o4 is her own, o9 is
    # February's, o10 pending); revenue 10000 + 5000 + 3000 - 2000 refunded = 16000;
    # AOV 16000/3 = 5333.3 -> 5333; spend 1000 + 500 + 300 + 250 bonus + 5000 fee - 200 reversal
    # (posted in April, about March's o2) - 100 adjustment = 6750; new customers o1 o3;
    # CAC 6750/2 = 3375; ROI (16000 - 6750)/6750 = 1.37037 -> 13704 bps.
    assert rows["ava"]["performance"] == _performance(
        clicks=4,
        unique_visitors=3,
        orders=3,
        click_orders=1,  # o1; o2 and o3 by code
        self_referral_orders=1,
        conversion_rate_bps=2500,  # 1 order from 4 clicks
        gross_revenue_minor=18000,
        refunded_minor=2000,
        revenue_minor=16000,
        average_order_value_minor=5333,
        spend=Spend(1050 + 750, 5000, 250, 200, -100, 6750).to_dict(),
        spend_minor=6750,
        new_customers=2,
        cac_minor=3375,
        roi_bps=13704,
    )
    # ava's cohort: c1, c2, c3 first bought through her in March; c1 came back twice (o8
    # unattributed 6000, o11 via ben in April 2500 - 500 refunded), c3's later order was
    # cancelled: 8000 over 3 customers = 2666.7 -> 2667.
    assert rows["ava"]["ltv"] == Ltv(3, 1, 2, 8000, 2667).to_dict()
    # ben: clicks v1 and one without a hash; o5 only (o6 cancelled, o7 a test, o11 in April);
    # spend 400; ROI (4000 - 400)/400 = 9 -> 90000 bps.
    assert rows["ben"]["performance"] == _performance(
        clicks=2,
        unique_visitors=1,
        orders=1,
        conversion_rate_bps=0,  # o5 came by code: no order from ben's clicks
        gross_revenue_minor=4000,
        revenue_minor=4000,
        average_order_value_minor=4000,
        spend=Spend(400, 0, 0, 0, 0, 400).to_dict(),
        spend_minor=400,
        new_customers=1,
        cac_minor=400,
        roi_bps=90000,
    )
    assert rows["ben"]["ltv"] == Ltv(1, 0, 0, 0, 0).to_dict()
    # cy: nothing at all, so every quotient is None.
    assert rows["cy"]["performance"] == _performance()
    assert rows["cy"]["ltv"] == Ltv(0, 0, 0, 0, None).to_dict()
    # dee: a 3000 fee and no sale: no CAC (no new customer), ROI -100 %.
    assert rows["dee"]["performance"] == _performance(
        spend=Spend(0, 3000, 0, 0, 0, 3000).to_dict(), spend_minor=3000, roi_bps=-10000
    )
    # eve: a sale and no spend: CAC and ROI undefined (nothing spent, not "free customers");
    # conversion undefined (no clicks).
    assert rows["eve"]["performance"] == _performance(
        orders=1,
        gross_revenue_minor=2000,
        revenue_minor=2000,
        average_order_value_minor=2000,
        new_customers=1,
    )


def test_creator_metrics_within_one_campaign(session: Session, seed: Seed) -> None:
    # when
    (ava,) = creator_metrics(
        session,
        seed.shop.id,
        start=START,
        end=END,
        creator_id=seed.creators["ava"].id,
        campaign_id=seed.spring.id,
    )
    # then: Spring link clicks v1 v1 v2; o1 o2; spend 1000 + 500 - 200 + 5000 = 6300;
    # ROI (13000 - 6300)/6300 = 1.063492 -> 10635; cohort c1 c2, c1's 8000 later: 4000 each.
    assert ava.performance.to_dict() == _performance(
        clicks=3,
        unique_visitors=2,
        orders=2,
        click_orders=1,
        conversion_rate_bps=3333,
        gross_revenue_minor=15000,
        refunded_minor=2000,
        revenue_minor=13000,
        average_order_value_minor=6500,
        spend=Spend(1500, 5000, 0, 200, 0, 6300).to_dict(),
        spend_minor=6300,
        new_customers=1,
        cac_minor=6300,
        roi_bps=10635,
    )
    assert ava.ltv == Ltv(2, 1, 2, 8000, 4000)


def test_campaign_metrics(session: Session, seed: Seed) -> None:
    # when
    rows = campaign_metrics(session, seed.shop.id, start=START, end=END)
    # then
    assert [(row.campaign_id, row.name) for row in rows] == [
        (seed.spring.id, "Spring"),
        (None, "always-on"),
    ]
    spring, always_on = (row.performance.to_dict() for row in rows)
    assert spring["revenue_minor"] == 13000
    assert spring["spend_minor"] == 6300
    # always-on: clicks v3 (ava) + v1 and an unhashed one (ben): 3 clicks, 2 visitors; orders
    # o3 o5 o13 = 9000; spend ava 300 + 250 - 100 adjustment, ben 400, dee's 3000 fee = 3850;
    # CAC 3850/3 = 1283.3 -> 1283; ROI 5150/3850 = 1.33766 -> 13377.
    assert always_on == _performance(
        clicks=3,
        unique_visitors=2,
        orders=3,
        self_referral_orders=1,  # ava's own o4, outside any campaign
        conversion_rate_bps=0,  # all three by code, never above 100 %
        gross_revenue_minor=9000,
        revenue_minor=9000,
        average_order_value_minor=3000,
        spend=Spend(700, 3000, 250, 0, -100, 3850).to_dict(),
        spend_minor=3850,
        new_customers=3,
        cac_minor=1283,
        roi_bps=13377,
    )


def test_shop_summary(session: Session, seed: Seed) -> None:
    # when
    summary = shop_summary(session, seed.shop.id, start=START, end=END).to_dict()
    # then: 6 clicks from v1 v2 v3; orders ava 3 + ben 1 + eve 1 = 5, revenue 22000; spend
    # 6750 + 400 + 3000 = 10150; 4 new customers: CAC 2537.5 -> 2538 (half to even);
    # ROI 11850/10150 = 1.16749 -> 11675.
    assert summary["attributed"] == _performance(
        clicks=6,
        unique_visitors=3,
        orders=5,
        click_orders=1,
        self_referral_orders=1,
        conversion_rate_bps=1667,  # o1 from 6 clicks
        gross_revenue_minor=24000,
        refunded_minor=2000,
        revenue_minor=22000,
        average_order_value_minor=4400,
        spend=Spend(2200, 8000, 250, 200, -100, 10150).to_dict(),
        spend_minor=10150,
        new_customers=4,
        cac_minor=2538,
        roi_bps=11675,
    )
    # all paid orders: those 5, ava's own o4 (7000) and the unattributed o8 (6000)
    assert (summary["all_orders"], summary["all_revenue_minor"]) == (7, 35000)
    assert summary["attributed_revenue_share_bps"] == 6286  # 22000 / 35000
    json.dumps(summary)


def test_uplift_names_its_method_and_returns_the_baselines(session: Session, seed: Seed) -> None:
    # when
    view = uplift(session, seed.shop.id, start=START, end=END, creator_id=seed.creators["ava"].id)
    data = view.to_dict()
    # then: baseline = the 31 days before March; ava had o9 (1111) then, the shop's
    # unattributed orders were o14 (5000) then and o8 (6000) in March.
    assert data["method"] == UPLIFT_METHOD
    assert "not an experiment" in data["caveat"]
    assert data["attributed"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": "2026-04-01T00:00:00+00:00",
        "orders": 3,
        "revenue_minor": 16000,
        "revenue_per_day_minor": 516,  # 16000 / 31
    }
    assert data["attributed_baseline"] == {
        "start": "2026-01-29T00:00:00+00:00",
        "end": "2026-03-01T00:00:00+00:00",
        "orders": 1,
        "revenue_minor": 1111,
        "revenue_per_day_minor": 36,
    }
    assert (
        data["unattributed"]["revenue_minor"],
        data["unattributed_baseline"]["revenue_minor"],
    ) == (
        6000,
        5000,
    )
    assert data["attributed_revenue_change_bps"] == 134014  # (16000 - 1111) / 1111
    assert data["unattributed_revenue_change_bps"] == 2000
    assert data["attributed_revenue_share_bps"] == 7273  # 16000 / 22000


def test_a_period_must_be_aware_and_ordered(session: Session, seed: Seed) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        creator_metrics(session, seed.shop.id, start=datetime(2026, 3, 1), end=END)  # noqa: DTZ001
    with pytest.raises(ValueError, match="before end"):
        shop_summary(session, seed.shop.id, start=END, end=START)


def test_an_empty_period_has_no_rates(session: Session, seed: Seed) -> None:
    quiet = datetime(2025, 1, 1, tzinfo=UTC)
    summary = shop_summary(session, seed.shop.id, start=quiet, end=START.replace(year=2025))
    assert summary.attributed.orders == 0
    assert summary.attributed.conversion_rate_bps is None
    assert summary.attributed_revenue_share_bps is None
