"""Ledger services: flat fees, bonus tiers, adjustments, balances and payable entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import Agreement, Creator, LedgerEntry, Payout, Shop
from plugin.services.ledger import (
    AdjustmentConflict,
    PayableBalance,
    add_adjustment,
    creator_balance,
    payable_balances,
    payable_entries,
    post_due_flat_fees,
)
from plugin.services.orders import apply_order, apply_refund
from tests.engine.factories import (
    T0,
    make_agreement,
    make_code,
    make_creator,
    make_shop,
    order,
    refund,
)
from workers.jobs.ledger import post_flat_fees_all_shops
from workers.runtime import enqueue


def ledger(session: Session, shop: Shop) -> list[tuple[str, str, int]]:
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop.id).order_by(LedgerEntry.id)
    )
    return [(e.idempotency_key, e.kind, e.amount_minor) for e in rows]


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, timezone="Asia/Tokyo", currency="JPY")


@pytest.fixture
def creator(session: Session, shop: Shop) -> Creator:
    return make_creator(session, shop, "mika")


def test_monthly_flat_fees_post_once_per_month_in_the_shop_timezone(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given a monthly fee of 30 000 yen from 2026-01-31 20:00 UTC (February 1st in Tokyo)
    agreement = make_agreement(
        session,
        shop,
        creator,
        rate_bps=0,
        payment_schedule="monthly",
        flat_fee_minor=30_000,
        starts_at=datetime(2026, 1, 31, 20, 0, tzinfo=UTC),
    )
    prefix = f"flat_fee:agreement:{agreement.id}"
    # when the job runs twice in March, then again in April
    march = datetime(2026, 3, 5, tzinfo=UTC)
    assert post_due_flat_fees(session, shop, march) == 2
    assert post_due_flat_fees(session, shop, march) == 0
    assert post_due_flat_fees(session, shop, datetime(2026, 4, 1, tzinfo=UTC)) == 1
    # then (April 1st 00:00 UTC is already April in Tokyo)
    assert ledger(session, shop) == [
        (f"{prefix}:2026-02", "flat_fee", 30_000),
        (f"{prefix}:2026-03", "flat_fee", 30_000),
        (f"{prefix}:2026-04", "flat_fee", 30_000),
    ]
    assert creator_balance(session, shop.id, creator.id, march) == (60_000, 30_000, "JPY")


def test_flat_fee_in_another_currency_is_not_posted(
    session: Session, shop: Shop, creator: Creator
) -> None:
    make_agreement(
        session,
        shop,
        creator,
        payment_schedule="on_signing",
        flat_fee_minor=500,
        currency="USD",
        starts_at=T0,
    )
    assert post_due_flat_fees(session, shop, T0 + timedelta(days=1)) == 0
    assert ledger(session, shop) == []


def test_on_delivery_fees_follow_the_deliverables(
    session: Session, shop: Shop, creator: Creator
) -> None:
    agreement = make_agreement(
        session,
        shop,
        creator,
        payment_schedule="on_delivery",
        flat_fee_minor=10_000,
        starts_at=T0,
        deliverables=[{"kind": "reel", "delivered_at": "2026-03-12T10:00:00Z"}, {"kind": "story"}],
    )
    assert post_due_flat_fees(session, shop, T0 + timedelta(days=5)) == 1
    session.execute(
        update(Agreement)
        .where(Agreement.id == agreement.id)
        .values(
            deliverables=[
                {"kind": "reel", "delivered_at": "2026-03-12T10:00:00Z"},
                {"kind": "story", "delivered_at": "2026-03-14T10:00:00+00:00"},
            ]
        )
    )
    session.expire_all()
    assert post_due_flat_fees(session, shop, T0 + timedelta(days=5)) == 1
    prefix = f"flat_fee:agreement:{agreement.id}"
    assert ledger(session, shop) == [
        (f"{prefix}:deliverable:0", "flat_fee", 5_000),
        (f"{prefix}:deliverable:1", "flat_fee", 5_000),
    ]


def test_bonus_tier_pays_extra_above_n_orders_in_the_calendar_month(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given 10% plus 5% from the third order of a month (Tokyo time)
    agreement = make_agreement(
        session,
        shop,
        creator,
        rate_bps=1000,
        bonus_tiers=[{"min_orders": 2, "extra_rate_bps": 500}],
    )
    make_code(session, shop, creator, "MIKA", agreement=agreement)

    def paid(order_id: int, placed: datetime) -> None:
        apply_order(
            session,
            shop,
            order(
                platform_order_id=order_id,
                currency="JPY",
                presentment_currency="JPY",
                discount_codes=("MIKA",),
                created_at=placed,
                updated_at=placed,
            ),
        )

    # when four orders are paid: three in March (Tokyo), one on April 1st in Tokyo
    paid(1, datetime(2026, 3, 2, tzinfo=UTC))
    paid(2, datetime(2026, 3, 3, tzinfo=UTC))
    paid(3, datetime(2026, 3, 4, tzinfo=UTC))
    paid(3, datetime(2026, 3, 4, tzinfo=UTC))  # a replay earns no second bonus
    paid(4, datetime(2026, 3, 31, 16, 0, tzinfo=UTC))
    apply_refund(session, shop, refund(9, 5_000, platform_order_id=3, currency="JPY"))
    # then only the third order earns the bonus, and its refund takes back half of both
    assert ledger(session, shop) == [
        ("commission:1", "commission", 1_000),
        ("commission:2", "commission", 1_000),
        ("commission:3", "commission", 1_000),
        ("bonus:3", "bonus", 500),
        ("commission:4", "commission", 1_000),
        ("reversal:3:refund:9", "reversal", -750),
    ]


def test_adjustments_need_a_reason_and_are_idempotent(
    session: Session, shop: Shop, creator: Creator
) -> None:
    now = T0
    first = add_adjustment(
        session, shop.id, creator.id, -1_200, "chargeback on #1042", "cb-1042", now=now
    )
    again = add_adjustment(
        session, shop.id, creator.id, -1_200, "chargeback on #1042", "cb-1042", now=now
    )
    assert again.id == first.id
    assert (first.kind, first.amount_minor, first.currency, first.reason) == (
        "adjustment",
        -1_200,
        "JPY",
        "chargeback on #1042",
    )
    assert first.available_at == now
    with pytest.raises(AdjustmentConflict):
        add_adjustment(session, shop.id, creator.id, 900, "another", "cb-1042")
    with pytest.raises(ValueError, match="needs a reason"):
        add_adjustment(session, shop.id, creator.id, 100, "  ", "k2")
    with pytest.raises(ValueError, match="must move money"):
        add_adjustment(session, shop.id, creator.id, 0, "nothing", "k3")


def test_adjustment_for_another_shops_creator_is_refused(
    session: Session, shop: Shop, creator: Creator
) -> None:
    other = make_shop(session)
    with pytest.raises(LookupError, match="not found in shop"):
        add_adjustment(session, other.id, creator.id, 100, "bonus", "k1")
    assert ledger(session, other) == []


def test_balances_and_payable_entries_exclude_held_and_claimed_entries(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given an available adjustment, a held one, and one already in a payout
    now = T0
    available = add_adjustment(session, shop.id, creator.id, 700, "a", "a", now=now)
    add_adjustment(session, shop.id, creator.id, 300, "b", "b", now=now + timedelta(days=3))
    claimed = add_adjustment(session, shop.id, creator.id, 5_000, "c", "c", now=now)
    payout = Payout(
        shop_id=shop.id,
        creator_id=creator.id,
        amount_minor=5_000,
        currency="JPY",
        idempotency_key="p",
        batch_key="b",
    )
    session.add(payout)
    session.flush()
    session.execute(
        update(LedgerEntry).where(LedgerEntry.id == claimed.id).values(payout_id=payout.id)
    )
    other = make_creator(session, shop, "ren")
    add_adjustment(session, shop.id, other.id, -50, "d", "d", now=now)
    # then
    assert creator_balance(session, shop.id, creator.id, now) == (700, 300, "JPY")
    assert [e.id for e in payable_entries(session, shop.id, creator.id, now)] == [available.id]
    assert payable_balances(session, shop.id, now) == [
        PayableBalance(creator.id, 700, "JPY", 1),
        PayableBalance(other.id, -50, "JPY", 1),
    ]
    assert creator_balance(session, shop.id, other.id, now) == (-50, 0, "JPY")


def test_flat_fee_job_posts_due_fees_of_active_shops_once(
    session: Session, shop: Shop, creator: Creator, run_jobs: Callable[[], int]
) -> None:
    # given a signed agreement in an active shop, and one in an uninstalled shop
    make_agreement(
        session, shop, creator, payment_schedule="on_signing", flat_fee_minor=8_000, starts_at=T0
    )
    gone = make_shop(session, currency="JPY", status="uninstalled")
    make_agreement(
        session,
        gone,
        make_creator(session, gone, "old"),
        payment_schedule="on_signing",
        flat_fee_minor=1_000,
        starts_at=T0,
    )
    shop_ids = (shop.id, gone.id)
    session.commit()
    # when the periodic job runs twice
    enqueue(post_flat_fees_all_shops)
    enqueue(post_flat_fees_all_shops)
    run_jobs()
    # then (the jobs ended the test's session: read through a new one)
    rows = get_session().execute(
        select(LedgerEntry.shop_id, LedgerEntry.kind, LedgerEntry.amount_minor).where(
            LedgerEntry.shop_id.in_(shop_ids)
        )
    )
    assert [tuple(row) for row in rows] == [(shop_ids[0], "flat_fee", 8_000)]
