"""Batching payable balances into payouts, approval, payment, cancellation and the CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import LedgerEntry, Payout, utcnow
from plugin.services.payouts import (
    PayoutTransitionError,
    approve_payout,
    batch_csv,
    batch_payouts,
    cancel_payout,
    mark_paid,
)
from tests.admin.factories import make_creator, make_entry, make_shop


def claimed_by(session: Session, payout: Payout) -> list[int]:
    return list(
        session.scalars(
            select(LedgerEntry.id)
            .where(LedgerEntry.payout_id == payout.id)
            .order_by(LedgerEntry.id)
        )
    )


def test_a_batch_pays_each_creator_their_available_unclaimed_sum(session: Session) -> None:
    # given
    shop = make_shop(session, "shop.example")
    anna = make_creator(session, shop, "anna")
    ben = make_creator(session, shop, "ben")
    a1 = make_entry(session, shop, anna, 1_000)
    a2 = make_entry(session, shop, anna, -250, kind="reversal")
    make_entry(session, shop, anna, 4_000, available_at=utcnow() + timedelta(days=3))
    b1 = make_entry(session, shop, ben, 600)
    # when
    payouts = batch_payouts(session, shop.id, "2026-11-25")
    # then
    assert [(p.creator_id, p.amount_minor, p.currency, p.status) for p in payouts] == [
        (anna.id, 750, "USD", "pending_approval"),
        (ben.id, 600, "USD", "pending_approval"),
    ]
    assert payouts[0].idempotency_key == f"batch:2026-11-25:creator:{anna.id}"
    assert claimed_by(session, payouts[0]) == [a1.id, a2.id]
    assert claimed_by(session, payouts[1]) == [b1.id]


def test_running_the_same_batch_again_pays_nothing_more(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    anna = make_creator(session, shop, "anna")
    make_entry(session, shop, anna, 1_000)
    first = batch_payouts(session, shop.id, "daily-2026-11-25")
    make_entry(session, shop, anna, 500)  # earned after the first run
    again = batch_payouts(session, shop.id, "daily-2026-11-25")
    assert [p.amount_minor for p in first] == [1_000]
    assert again == []
    assert len(session.scalars(select(Payout)).all()) == 1


def test_a_later_batch_takes_only_entries_no_payout_has_claimed(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    anna = make_creator(session, shop, "anna")
    make_entry(session, shop, anna, 1_000)
    batch_payouts(session, shop.id, "first")
    late = make_entry(session, shop, anna, 300)
    second = batch_payouts(session, shop.id, "second")
    assert [p.amount_minor for p in second] == [300]
    assert claimed_by(session, second[0]) == [late.id]


def test_balances_below_the_minimum_carry_over(session: Session) -> None:
    shop = make_shop(session, "shop.example", payout_minimum_minor=5_000)
    anna = make_creator(session, shop, "anna")
    ben = make_creator(session, shop, "ben")
    make_entry(session, shop, anna, 4_999)
    make_entry(session, shop, ben, 5_000)
    payouts = batch_payouts(session, shop.id, "b1")
    assert [(p.creator_id, p.amount_minor) for p in payouts] == [(ben.id, 5_000)]
    make_entry(session, shop, anna, 1)
    assert [p.amount_minor for p in batch_payouts(session, shop.id, "b2")] == [5_000]


def test_a_refund_after_payout_reduces_the_next_payout(session: Session) -> None:
    # given a paid-out commission, then its reversal
    shop = make_shop(session, "shop.example")
    anna = make_creator(session, shop, "anna")
    make_entry(session, shop, anna, 1_000)
    batch_payouts(session, shop.id, "b1")
    make_entry(session, shop, anna, -400, kind="reversal")
    # when the balance is negative, nothing is paid and the debt stays unclaimed
    assert batch_payouts(session, shop.id, "b2") == []
    # then the next commission is reduced by it
    make_entry(session, shop, anna, 1_000)
    assert [p.amount_minor for p in batch_payouts(session, shop.id, "b3")] == [600]


def test_entries_in_another_currency_are_not_mixed_in(session: Session) -> None:
    shop = make_shop(session, "shop.example", currency="EUR")
    anna = make_creator(session, shop, "anna")
    make_entry(session, shop, anna, 1_000)
    make_entry(session, shop, anna, 9_999, currency="USD")
    payouts = batch_payouts(session, shop.id, "b1")
    assert [(p.amount_minor, p.currency) for p in payouts] == [(1_000, "EUR")]


def test_inactive_shops_are_not_batched(session: Session) -> None:
    shop = make_shop(session, "shop.example", status="needs_reconnect")
    make_entry(session, shop, make_creator(session, shop, "anna"), 1_000)
    assert batch_payouts(session, shop.id, "b1") == []


def test_approve_then_mark_paid_records_the_reference(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    make_entry(session, shop, make_creator(session, shop, "anna"), 1_000)
    (payout,) = batch_payouts(session, shop.id, "b1")
    approved = approve_payout(session, shop.id, payout.id)
    assert (approved.status, approved.approved_at is not None) == ("approved", True)
    paid = mark_paid(session, shop.id, payout.id, "PAYPAL-9XK2")
    assert (paid.status, paid.external_reference, paid.paid_at is not None) == (
        "paid",
        "PAYPAL-9XK2",
        True,
    )
    assert mark_paid(session, shop.id, payout.id, "PAYPAL-9XK2").status == "paid"


def test_a_payout_must_be_approved_before_it_is_paid(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    make_entry(session, shop, make_creator(session, shop, "anna"), 1_000)
    (payout,) = batch_payouts(session, shop.id, "b1")
    with pytest.raises(PayoutTransitionError, match="approve the payout before marking it paid"):
        mark_paid(session, shop.id, payout.id, "REF")


def test_a_paid_payout_cannot_be_cancelled_or_paid_again_differently(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    make_entry(session, shop, make_creator(session, shop, "anna"), 1_000)
    (payout,) = batch_payouts(session, shop.id, "b1")
    approve_payout(session, shop.id, payout.id)
    mark_paid(session, shop.id, payout.id, "REF-1")
    with pytest.raises(PayoutTransitionError, match="a paid payout cannot become cancelled"):
        cancel_payout(session, shop.id, payout.id)
    with pytest.raises(PayoutTransitionError, match="a paid payout cannot become paid"):
        mark_paid(session, shop.id, payout.id, "REF-2")


def test_cancelling_releases_the_entries_into_the_next_batch(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    anna = make_creator(session, shop, "anna")
    entry = make_entry(session, shop, anna, 1_000)
    (payout,) = batch_payouts(session, shop.id, "b1")
    cancelled = cancel_payout(session, shop.id, payout.id, "wrong bank details")
    assert (cancelled.status, cancelled.note) == ("cancelled", "wrong bank details")
    assert claimed_by(session, payout) == []
    (again,) = batch_payouts(session, shop.id, "b2")
    assert claimed_by(session, again) == [entry.id]


def test_csv_lists_approved_payouts_in_the_bulk_payout_layout(session: Session) -> None:
    # given
    shop = make_shop(session, "shop.example", currency="JPY")
    anna = make_creator(session, shop, "anna", payout_email="anna-pay@example.com")
    ben = make_creator(session, shop, "=ben", email="ben@example.com")
    cat = make_creator(session, shop, "cat")
    for creator, amount in ((anna, 12_500), (ben, 800), (cat, 300)):
        make_entry(session, shop, creator, amount)
    payouts = batch_payouts(session, shop.id, "2026-11")
    for payout in payouts[:2]:
        approve_payout(session, shop.id, payout.id)
    # when
    text = batch_csv(session, shop.id, "2026-11")
    # then
    a, b = payouts[0].id, payouts[1].id
    assert text.split("\r\n") == [
        "recipient_email,amount,currency,reference,note",
        f"anna-pay@example.com,12500,JPY,TM-{shop.id}-{a},"
        "Tastemaker commissions for @anna (2026-11)",
        f"ben@example.com,800,JPY,TM-{shop.id}-{b},Tastemaker commissions for @=ben (2026-11)",
        "",
    ]


@pytest.mark.parametrize(
    ("currency", "amount_minor", "shown"),
    [("USD", 123_456, "1234.56"), ("KWD", 1_005, "1.005"), ("JPY", 999, "999")],
)
def test_csv_amounts_follow_the_currency_exponent(
    session: Session, currency: str, amount_minor: int, shown: str
) -> None:
    shop = make_shop(session, "shop.example", currency=currency)
    make_entry(session, shop, make_creator(session, shop, "anna"), amount_minor)
    (payout,) = batch_payouts(session, shop.id, "b1")
    approve_payout(session, shop.id, payout.id)
    row = batch_csv(session, shop.id, "b1").split("\r\n")[1].split(",")
    assert row[1:3] == [shown, currency]


def test_csv_cells_cannot_start_a_spreadsheet_formula(session: Session) -> None:
    shop = make_shop(session, "shop.example")
    creator = make_creator(session, shop, "anna", payout_email=None, email="=cmd@example.com")
    make_entry(session, shop, creator, 100)
    (payout,) = batch_payouts(session, shop.id, "b1")
    approve_payout(session, shop.id, payout.id)
    assert batch_csv(session, shop.id, "b1").split("\r\n")[1].startswith("'=cmd@example.com,")
