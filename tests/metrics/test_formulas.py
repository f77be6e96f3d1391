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
