"""The metric formulas: basis points and money quotients, rounded half to even, None over zero."""

from __future__ import annotations

import pytest

from plugin.domain import metrics


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 3, 3333),
        (2, 3, 6667),
        (5, 3, 16667),
        (1, 20000, 0),
        (3, 20000, 2),
        (0, 5, 0),
        (1, 0, None),
    ],
)
def test_ratio_in_basis_points(numerator: int, denominator: int, expected: int | None) -> None:
    # 3/20000 = 1.5 bps rounds to the even 2; 1/20000 = 0.5 bps to the even 0
    assert metrics.ratio_bps(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("amount", "count", "expected"), [(10150, 4, 2538), (10130, 4, 2532), (-7, 2, -4), (5, 0, None)]
)
def test_money_per_unit_rounds_half_to_even(amount: int, count: int, expected: int | None) -> None:
    assert metrics.per_unit_minor(amount, count) == expected


def test_spend_subtracts_reversals_whatever_their_stored_sign() -> None:
    common = {"commission": 1000, "flat_fee": 500, "bonus": 100, "adjustment": -50}
    assert metrics.spend_minor(reversal=-200, **common) == 1350
    assert metrics.spend_minor(reversal=200, **common) == 1350


@pytest.mark.parametrize(
    ("revenue", "spend", "expected"),
    [(16000, 6750, 13704), (0, 3000, -10000), (2000, 0, None), (100, -50, None)],
)
def test_roi(revenue: int, spend: int, expected: int | None) -> None:
    assert metrics.return_on_investment_bps(revenue, spend) == expected


def test_cac_and_conversion_are_none_without_a_denominator() -> None:
    assert metrics.customer_acquisition_cost_minor(3000, 0) is None
    assert metrics.conversion_rate_bps(3, 0) is None
    assert metrics.change_bps(100, 0) is None


def test_a_net_credit_never_shows_as_a_negative_cac_or_roi() -> None:
    # given: a -10.00 manual adjustment and nothing else spent, one new customer
    spend = metrics.spend_minor(commission=0, flat_fee=0, bonus=0, reversal=0, adjustment=-1000)
    # then
    assert spend == -1000
    assert metrics.customer_acquisition_cost_minor(spend, 1) is None
    assert metrics.return_on_investment_bps(5000, spend) is None
    reasons = metrics.undefined_reasons(clicks=3, orders=1, new_customers=1, spend=spend)
    assert reasons == {"cac_minor": metrics.NET_CREDIT, "roi_bps": metrics.NET_CREDIT}


def test_conversion_counts_only_orders_from_clicks() -> None:
    # 2 code orders and 1 link order from 4 clicks: 25 %, never 300 %
    assert metrics.conversion_rate_bps(1, 4) == 2500
    assert metrics.undefined_reasons(clicks=0, orders=2, new_customers=0, spend=0) == {
        "conversion_rate_bps": metrics.NO_CLICKS,
        "cac_minor": metrics.NO_SPEND,
        "roi_bps": metrics.NO_SPEND,
    }


def test_spend_definition_names_what_it_includes() -> None:
    for part in ("commissions", "flat fees", "bonuses", "reversals", "adjustments"):
        assert part in metrics.SPEND_DEFINITION
    assert set(metrics.METRIC_DEFINITIONS) >= {"spend_minor", "cac_minor", "code_orders"}
