"""Commission arithmetic: rounding in 0/2/3-decimal currencies, reversals, tiers, flat fees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.domain.commissions import (
    FlatFeeTerms,
    bonus_extra_rate_bps,
    commission_minor,
    due_flat_fees,
    month_bounds,
    month_key,
    refund_reversal,
    reverses_whole,
    split_evenly,
)
from plugin.domain.money import format_minor_units, to_minor_units

UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("revenue", "currency", "rate_bps", "commission"),
    [
        ("12345", "JPY", 1000, "1234"),  # 1234.5 yen: the tie goes to the even yen
        ("12355", "JPY", 1000, "1236"),  # 1235.5 yen -> 1236
        ("999", "JPY", 333, "33"),  # 33.2667
        ("100.05", "USD", 1000, "10.00"),  # 10.005 -> 10.00 (even)
        ("100.15", "USD", 1000, "10.02"),  # 10.015 -> 10.02 (even)
        ("19.99", "USD", 1250, "2.50"),  # 2.49875
        ("1234.567", "KWD", 250, "30.864"),  # 30.864175
        ("10.010", "KWD", 1500, "1.502"),  # 1.5015 -> 1.502 (even)
        ("10.030", "KWD", 1500, "1.504"),  # 1.5045 -> 1.504 (even)
        ("0", "USD", 1000, "0.00"),
    ],
)
def test_commission_rounds_half_even_in_the_currency_minor_unit(
    revenue: str, currency: str, rate_bps: int, commission: str
) -> None:
    # when
    minor = commission_minor(to_minor_units(revenue, currency), rate_bps)
    # then
    assert format_minor_units(minor, currency) == commission


def test_commission_refuses_negative_inputs() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        commission_minor(-1, 1000)


def test_a_refund_reverses_its_own_share_rounded_down() -> None:
    # given a commission of 1001 on a base of 10000, refunded in halves
    # when / then: 500.5 is rounded down for each half, whichever comes first
    assert refund_reversal(earned_minor=1_001, base_minor=10_000, item_amount_minor=5_000) == 500
    assert refund_reversal(earned_minor=1, base_minor=3, item_amount_minor=1) == 0


def test_a_refund_covering_the_base_alone_leaves_the_reversal_to_the_whole_entry() -> None:
    assert refund_reversal(earned_minor=1_000, base_minor=10_000, item_amount_minor=10_000) == 0
    assert refund_reversal(earned_minor=1_000, base_minor=10_000, item_amount_minor=12_000) == 0
    assert reverses_whole(base_minor=10_000, refunded_items_minor=[12_000], ended=False)


def test_the_whole_earning_is_reversed_once_refunds_cover_the_base_or_the_order_ends() -> None:
    assert not reverses_whole(base_minor=10_000, refunded_items_minor=[5_000, 4_999], ended=False)
    assert reverses_whole(base_minor=10_000, refunded_items_minor=[5_000, 5_000], ended=False)
    assert reverses_whole(base_minor=10_000, refunded_items_minor=[], ended=True)
    # a negative refund amount is bad input and covers nothing
    assert not reverses_whole(base_minor=10_000, refunded_items_minor=[-1, 9_999], ended=False)
    assert not reverses_whole(base_minor=0, refunded_items_minor=[], ended=False)


@given(
    earned=st.integers(0, 10**9),
    base=st.integers(1, 10**9),
    parts=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
)
def test_partial_refunds_never_exceed_earnings_and_stay_within_a_unit_per_refund(
    earned: int, base: int, parts: list[int]
) -> None:
    # given refunds that together do not cover the base
    if sum(parts) >= base:
        parts = [part * (base - 1) // max(sum(parts), 1) for part in parts]
    # when
    amounts = [
        refund_reversal(earned_minor=earned, base_minor=base, item_amount_minor=part)
        for part in parts
    ]
    # then
    exact = Fraction(earned * sum(parts), base)
    assert all(amount >= 0 for amount in amounts)
    assert sum(amounts) <= exact < sum(amounts) + len(parts)
    assert sum(amounts) <= earned


@pytest.mark.parametrize(
    ("rank", "extra"),
    [(1, 0), (10, 0), (11, 200), (20, 200), (21, 500), (100, 500)],
)
def test_bonus_tiers_apply_above_n_orders(rank: int, extra: int) -> None:
    tiers = [{"min_orders": 20, "extra_rate_bps": 500}, {"min_orders": 10, "extra_rate_bps": 200}]
    assert bonus_extra_rate_bps(tiers, rank) == extra


def test_bonus_tier_validation() -> None:
    with pytest.raises(ValueError, match="invalid bonus tier"):
        bonus_extra_rate_bps([{"min_orders": -1, "extra_rate_bps": 5}], 3)


@pytest.mark.parametrize(
    ("amount", "parts", "shares"),
    [(100, 3, [33, 34, 33]), (1, 4, [0, 0, 1, 0]), (0, 2, [0, 0]), (10, 1, [10])],
)
def test_split_evenly_sums_exactly(amount: int, parts: int, shares: list[int]) -> None:
    assert split_evenly(amount, parts) == shares
    assert sum(split_evenly(amount, parts)) == amount


def test_month_bounds_follow_the_shop_timezone_across_dst() -> None:
    tz = ZoneInfo("America/New_York")
    # 2026-03-01 03:00 UTC is still February in New York
    moment = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    start, end = month_bounds(moment, tz)
    assert month_key(moment, tz) == "2026-02"
    assert start.astimezone(UTC) == datetime(2026, 2, 1, 5, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    # March starts in EST and ends in EDT
    _, april = month_bounds(datetime(2026, 3, 15, tzinfo=UTC), tz)
    assert april.astimezone(UTC) == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


def _terms(schedule: str, **values: object) -> FlatFeeTerms:
    defaults: dict[str, object] = {
        "agreement_id": 7,
        "schedule": schedule,
        "fee_minor": 50_000,
        "status": "active",
        "starts_at": datetime(2026, 1, 20, 9, 0, tzinfo=UTC),
    }
    defaults.update(values)
    return FlatFeeTerms(**defaults)  # type: ignore[arg-type]


def test_monthly_fees_are_due_from_the_start_each_month_until_the_end() -> None:
    # given an agreement from 2026-01-20 to 2026-04-01
    terms = _terms("monthly", ends_at=datetime(2026, 4, 1, tzinfo=UTC))
    # when asked in June
    fees = due_flat_fees(terms, datetime(2026, 6, 1, tzinfo=UTC), UTC_ZONE)
    # then January (from the start date), February and March
    assert [(f.key, f.due_at.isoformat(), f.amount_minor) for f in fees] == [
        ("flat_fee:agreement:7:2026-01", "2026-01-20T09:00:00+00:00", 50_000),
        ("flat_fee:agreement:7:2026-02", "2026-02-01T00:00:00+00:00", 50_000),
        ("flat_fee:agreement:7:2026-03", "2026-03-01T00:00:00+00:00", 50_000),
    ]


def test_monthly_fee_of_the_current_month_only_once_it_starts() -> None:
    terms = _terms("monthly")
    fees = due_flat_fees(terms, datetime(2026, 2, 28, 23, 59, tzinfo=UTC), UTC_ZONE)
    assert [f.key for f in fees] == ["flat_fee:agreement:7:2026-01", "flat_fee:agreement:7:2026-02"]


def test_on_signing_fee_is_due_at_the_start() -> None:
    terms = _terms("on_signing")
    assert due_flat_fees(terms, datetime(2026, 1, 19, tzinfo=UTC), UTC_ZONE) == []
    (fee,) = due_flat_fees(terms, datetime(2026, 1, 21, tzinfo=UTC), UTC_ZONE)
    assert (fee.key, fee.amount_minor) == ("flat_fee:agreement:7:signing", 50_000)


def test_on_delivery_fee_is_split_across_deliverables_as_they_are_delivered() -> None:
    delivered = datetime(2026, 2, 2, tzinfo=UTC)
    terms = _terms("on_delivery", fee_minor=100, delivered_at=(delivered, None, delivered))
    fees = due_flat_fees(terms, datetime(2026, 3, 1, tzinfo=UTC), UTC_ZONE)
    assert [(f.key, f.amount_minor) for f in fees] == [
        ("flat_fee:agreement:7:deliverable:0", 33),
        ("flat_fee:agreement:7:deliverable:2", 33),
    ]


def test_on_completion_fee_waits_for_the_end() -> None:
    ends = datetime(2026, 2, 15, tzinfo=UTC)
    terms = _terms("on_completion", ends_at=ends)
    assert due_flat_fees(terms, ends - timedelta(seconds=1), UTC_ZONE) == []
    (fee,) = due_flat_fees(terms, ends, UTC_ZONE)
    assert (fee.key, fee.due_at) == ("flat_fee:agreement:7:completion", ends)


@pytest.mark.parametrize("status", ["draft", "terminated", "paused"])
def test_no_fees_for_agreements_not_running(status: str) -> None:
    terms = _terms("monthly", status=status)
    assert due_flat_fees(terms, datetime(2026, 6, 1, tzinfo=UTC), UTC_ZONE) == []


def test_unknown_schedule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown payment schedule 'weekly'"):
        due_flat_fees(_terms("weekly"), datetime(2026, 6, 1, tzinfo=UTC), UTC_ZONE)
