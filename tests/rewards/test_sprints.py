"""Referral sprints: exact settlement amounts, the window's edges, exclusions, no double credit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import LedgerEntry, utcnow
from plugin.models.rewards import ReferralSprint
from plugin.services import sprints
from plugin.tenancy import Tenant
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_campaign, make_creator
from tests.rewards.conftest import backend, reload
from tests.rewards.factories import make_sprint, paid_order
from workers.jobs.rewards import settle_due_sprints

RunJobs = Callable[[], int]
DAY = timedelta(days=1)


def ledger(shop_id: int) -> list[tuple[int, str, int, str]]:
    entries = get_session().scalars(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop_id).order_by(LedgerEntry.id)
    )
    return [(e.creator_id, e.kind, e.amount_minor, e.idempotency_key) for e in entries]


def test_settlement_credits_each_creator_for_qualifying_orders_only(
    session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    # given a sprint paying 50 per order, capped at 120 per creator, that ended two hours ago
    shop = shop_a.shop
    end = utcnow() - timedelta(hours=2)
    start = end - 7 * DAY
    sprint = make_sprint(session, shop, start, end, credit=50, cap=120, name="Holiday")
    anna, ben, cat = (make_creator(session, shop, h) for h in ("anna", "ben", "cat"))
    for day in (1, 2):  # with the next one, 3 x 50 = 150, capped to 120
        paid_order(session, shop, anna, start + day * DAY)
    paid_order(session, shop, anna, start + DAY, status="partially_refunded")
    paid_order(session, shop, ben, start)  # the first instant counts
    paid_order(session, shop, ben, end - timedelta(seconds=1))
    # and orders that must not count
    paid_order(session, shop, ben, end)  # the end is exclusive
    paid_order(session, shop, ben, start - timedelta(seconds=1))
    paid_order(session, shop, cat, start + DAY, self_referral=True)
    paid_order(session, shop, cat, start + DAY, status="cancelled", cancelled_at=end)
    paid_order(session, shop, cat, start + DAY, cancelled_at=end)  # cancel seen, status lagging
    paid_order(session, shop, cat, start + DAY, status="refunded")
    paid_order(session, shop, cat, start + DAY, status="pending", paid_at=None)
    paid_order(session, shop, cat, start + DAY, is_test=True)
    paid_order(session, shop, cat, start + DAY, deleted_at=end)
    paid_order(session, shop, None, start + DAY)  # not attributed
    other = make_creator(session, shop_b.shop, "anna")
    paid_order(session, shop_b.shop, other, start + DAY)  # another shop's order
    session.commit()
    # when
    settled = sprints.settle_sprint(session, sprint.id)
    session.commit()
    # then
    assert settled is not None
    assert ledger(shop.id) == [
        (anna.id, "bonus", 120, f"sprint:{sprint.id}:creator:{anna.id}"),
        (ben.id, "bonus", 100, f"sprint:{sprint.id}:creator:{ben.id}"),
    ]
    assert ledger(shop_b.id) == []
    assert (settled.settled_total_minor, settled.settled_creators) == (220, 2)
    entries = get_session().scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [e.reason for e in entries] == [
        "Referral sprint 'Holiday': 3 orders x USD 0.50, capped at USD 1.20",
        "Referral sprint 'Holiday': 2 orders x USD 0.50",
    ]
    assert {e.available_at for e in entries} == {end + timedelta(days=30)}
    assert {(e.currency, e.order_id) for e in entries} == {("USD", None)}


def test_settling_twice_never_credits_twice(session: Session, shop_a: ShopKey) -> None:
    # given a settled sprint
    shop = shop_a.shop
    end = utcnow() - timedelta(hours=2)
    sprint = make_sprint(session, shop, end - 7 * DAY, end, credit=75)
    anna = make_creator(session, shop, "anna")
    paid_order(session, shop, anna, end - DAY)
    session.commit()
    first = sprints.settle_sprint(session, sprint.id)
    session.commit()
    # when it is settled again, and even once its settled mark is lost
    again = sprints.settle_sprint(session, sprint.id)
    sprint = reload(sprint)
    sprint.settled_at = None
    paid_order(session, shop, anna, end - DAY)  # a late order that would change the amount
    get_session().commit()
    replay = sprints.settle_sprint(get_session(), sprint.id)
    get_session().commit()
    # then the only credit is the first one
    assert first is not None
    assert again is None
    assert replay is not None
    assert ledger(shop.id) == [(anna.id, "bonus", 75, f"sprint:{sprint.id}:creator:{anna.id}")]


def test_a_campaign_sprint_counts_only_that_campaigns_orders(
    session: Session, shop_a: ShopKey
) -> None:
    shop = shop_a.shop
    end = utcnow() - timedelta(hours=2)
    spring, autumn = make_campaign(session, shop, name="Spring"), make_campaign(session, shop)
    sprint = make_sprint(session, shop, end - 7 * DAY, end, campaign_id=spring.id)
    anna = make_creator(session, shop, "anna")
    paid_order(session, shop, anna, end - DAY, campaign_id=spring.id)
    paid_order(session, shop, anna, end - DAY, campaign_id=autumn.id)
    paid_order(session, shop, anna, end - DAY)
    session.commit()
    sprints.settle_sprint(session, sprint.id)
    assert [amount for _c, _k, amount, _key in ledger(shop.id)] == [50]


def test_a_running_sprint_is_not_settled_and_its_leaderboard_is_live(
    session: Session, shop_a: ShopKey
) -> None:
    # given a sprint that started two days ago and runs for five more
    shop = shop_a.shop
    now = utcnow()
    sprint = make_sprint(session, shop, now - 2 * DAY, now + 5 * DAY, credit=50, cap=100)
    anna, ben, cat = (make_creator(session, shop, h) for h in ("anna", "ben", "cat"))
    for creator, count in ((anna, 3), (ben, 1), (cat, 3)):
        for _ in range(count):
            paid_order(session, shop, creator, now - DAY)
    session.commit()
    # when
    settled = sprints.settle_sprint(session, sprint.id)
    board = sprints.leaderboard(session, sprint, now)
    # then
    assert settled is None
    assert [(s.rank, s.creator_id, s.orders, s.credit_minor) for s in board] == [
        (1, anna.id, 3, 100),
        (1, cat.id, 3, 100),
        (3, ben.id, 1, 50),
    ]
    assert sprints.leaderboard(session, sprint, now - 3 * DAY) == []
    assert ledger(shop.id) == []


def test_due_sprints_are_settled_by_the_periodic_job_after_a_grace_hour(
    app: Flask, session: Session, shop_a: ShopKey, run_jobs: RunJobs
) -> None:
    # given sprints that ended two hours ago, ten minutes ago, and one already settled
    shop = shop_a.shop
    now = utcnow()
    due = make_sprint(session, shop, now - 7 * DAY, now - timedelta(hours=2))
    fresh = make_sprint(session, shop, now - 7 * DAY, now - timedelta(minutes=10))
    done = make_sprint(session, shop, now - 9 * DAY, now - 8 * DAY, settled_at=now - 7 * DAY)
    anna = make_creator(session, shop, "anna")
    paid_order(session, shop, anna, now - 3 * DAY)
    session.commit()
    key = f"sprint:{due.id}:creator:{anna.id}"
    anna_id = anna.id
    # when
    count = settle_due_sprints()
    ran = run_jobs()
    # then
    assert count == 1
    assert (
        backend(app).enqueued
        == [
            ("workers.jobs.rewards.settle_due_sprints", ()),
            ("workers.jobs.rewards.settle_sprint", (due.id,)),
        ][1:]
    )
    assert ran == 1
    assert [r.settled_at is not None for r in map(reload, (due, fresh, done))] == [
        True,
        False,
        True,
    ]
    assert ledger(shop_a.id) == [(anna_id, "bonus", 50, key)]


def test_sprints_validate_their_window_and_campaign(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.id)
    now = utcnow()
    sprint = sprints.create_sprint(
        tenant,
        shop_a.shop,
        {"name": "Week", "starts_at": now, "ends_at": now + 7 * DAY, "credit_per_order_minor": 25},
    )
    assert isinstance(sprint, ReferralSprint)
    assert (sprint.currency, sprint.cap_per_creator_minor, sprints.state(sprint, now)) == (
        "USD",
        None,
        "running",
    )
