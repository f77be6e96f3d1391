"""Property: whatever stream of orders, refunds, cancellations, flat fees and adjustments arrives,
interleaved with payout batches, approvals, payments and cancellations, the creator balances
answered from the balance rollup equal the ones summed from the whole ledger, at any moment
(before, between and after the entries' release times, on UTC midnights), for every creator
and one at a time, on PostgreSQL and SQLite; and a rebuild from the raw rows lands on the same
rollup rows. The streams come from a seeded generator (one seed per case)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugin.models import BalanceReleaseDay, BalanceTotal, Creator, LedgerEntry, Payout
from plugin.services import balance_rollups
from plugin.services.payouts import approve_payout, batch_payouts, cancel_payout, mark_paid
from plugin.services.payouts import creator_balances as balances_of
from plugin.services.privacy import redact_shop
from tests.metrics.test_rollups_property import DAY0, World, _run_stream


def _payout_moves(session: Session, world: World, rng: random.Random) -> None:
    """Batches at random moments, each payout then approved, paid or cancelled (or left)."""
    world.shop.payout_minimum_minor = rng.choice([1, 500, 5_000])
    for n in range(rng.randrange(2, 5)):
        moment = DAY0 + timedelta(hours=rng.randrange(-24, 24 * 12))
        for payout in batch_payouts(session, world.shop.id, f"batch-{n}", now=moment):
            fate = rng.choice(["leave", "approve", "pay", "cancel", "cancel-approved"])
            if fate != "leave" and fate != "cancel":
                approve_payout(session, world.shop.id, payout.id)
            if fate == "pay":
                mark_paid(session, world.shop.id, payout.id, f"bank-{payout.id}")
            if fate.startswith("cancel"):
                cancel_payout(session, world.shop.id, payout.id, "changed my mind")
        # entries posted after a batch: more earnings, and adjustments taking money back
        for kind, value in world.ledger_events():
            if kind == "adjustment":
                index, amount, key = value
                value = (index, amount, f"{key}-after-{n}")
            else:
                index, fee, when = value
                value = (index, 100 + 10 * n + fee, when)
            world.apply(kind, value)


def _moments(session: Session, shop_id: int, rng: random.Random) -> list[Any]:
    releases = session.scalars(
        select(LedgerEntry.available_at).where(LedgerEntry.shop_id == shop_id)
    ).all()
    picked = rng.sample(releases, k=min(4, len(releases)))
    midnights = [DAY0 + timedelta(days=d) for d in (-1, 0, 3, 9, 11)]
    around = [m + timedelta(seconds=s) for m in picked for s in (-1, 0, 1)]
    return [*midnights, *around, DAY0 + timedelta(days=60)]


def _rows(session: Session, shop_id: int) -> tuple[list[Any], list[Any]]:
    balance_rollups.apply_pending(session)  # as the stream's transaction would on commit
    totals = session.execute(
        select(
            BalanceTotal.creator_id,
            BalanceTotal.currency,
            BalanceTotal.unclaimed_minor,
            BalanceTotal.in_payout_minor,
            BalanceTotal.paid_minor,
        )
        .where(BalanceTotal.shop_id == shop_id)
        .order_by(BalanceTotal.creator_id, BalanceTotal.currency)
    ).all()
    days = session.execute(
        select(
            BalanceReleaseDay.day,
            BalanceReleaseDay.creator_id,
            BalanceReleaseDay.currency,
            BalanceReleaseDay.unclaimed_minor,
        )
        .where(BalanceReleaseDay.shop_id == shop_id, BalanceReleaseDay.unclaimed_minor != 0)
        .order_by(BalanceReleaseDay.day, BalanceReleaseDay.creator_id)
    ).all()
    return [tuple(row) for row in totals], [tuple(row) for row in days]


@pytest.mark.parametrize("seed", range(4))
def test_balance_rollup_equals_the_ledger_at_every_moment(session: Session, seed: int) -> None:
    # given: a random stream of orders and ledger entries, then payouts moving through states
    rng = random.Random(seed)
    world = _run_stream(session, rng)
    _payout_moves(session, world, rng)
    shop_id = world.shop.id
    assert session.scalar(select(Payout.id).where(Payout.shop_id == shop_id)) is not None
    # then: from the rollup as from the raw ledger, for the shop and for each creator
    for moment in _moments(session, shop_id, rng):
        everyone = balances_of(session, shop_id, now=moment)
        assert everyone == balances_of(session, shop_id, now=moment, source="raw"), moment
        assert everyone  # the stream did post entries
        for creator in world.creators:
            one = balances_of(session, shop_id, creator_id=creator.id, now=moment)
            raw = balances_of(session, shop_id, creator_id=creator.id, now=moment, source="raw")
            assert one == raw, (moment, creator.handle)
    # and a rebuild from the raw rows writes the very same rows
    maintained = _rows(session, shop_id)
    for model in (BalanceTotal, BalanceReleaseDay):
        session.execute(delete(model).where(model.shop_id == shop_id))
    balance_rollups.rebuild(session, shop_id)
    assert _rows(session, shop_id) == maintained


def test_erasing_a_creator_or_the_shop_drops_their_balance_rows(session: Session) -> None:
    # given
    world = _run_stream(session, random.Random(7))
    shop_id = world.shop.id
    creator_ids = {row[0] for row in _rows(session, shop_id)[0]}
    assert len(creator_ids) >= 2
    gone = session.get(Creator, min(creator_ids))
    # when: a creator is deleted (their entries cascade), then the whole shop is erased
    session.delete(gone)
    session.flush()
    # then
    assert {row[0] for row in _rows(session, shop_id)[0]} == creator_ids - {min(creator_ids)}
    assert balances_of(session, shop_id) == balances_of(session, shop_id, source="raw")
    redact_shop(session, shop_id, keep_event_id=None, export_root=None)
    session.flush()
    assert _rows(session, shop_id) == ([], [])


def test_an_entry_posted_in_a_savepoint_that_rolls_back_leaves_no_balance(session: Session) -> None:
    # given: a creator with one entry, and a second one posted in a savepoint rolled back
    world = World(session, random.Random(3))
    creator = world.creators[0]
    world.apply("adjustment", (0, 700, "kept"))
    savepoint = session.begin_nested()
    world.apply("adjustment", (0, 5_000, "rolled-back"))
    savepoint.rollback()
    # when
    balances = balances_of(session, world.shop.id)
    # then: only the entry that stayed
    assert balances == balances_of(session, world.shop.id, source="raw")
    assert balances[creator.id].available_minor == 700


def test_entries_read_inside_a_savepoint_that_rolls_back_still_count(session: Session) -> None:
    # given: an entry posted, then read (so written) inside a savepoint that rolls back
    world = World(session, random.Random(4))
    creator = world.creators[1]
    world.apply("adjustment", (1, 900, "outside"))
    savepoint = session.begin_nested()
    assert balances_of(session, world.shop.id)[creator.id].available_minor == 900
    savepoint.rollback()
    # when
    balances = balances_of(session, world.shop.id)
    # then: the entry, posted outside the savepoint, still counts once
    assert balances == balances_of(session, world.shop.id, source="raw")
    assert balances[creator.id].available_minor == 900
