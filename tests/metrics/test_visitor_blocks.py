"""Visitor blocks (plugin.services.visitor_blocks) are an exact cache: answers read through them
equal the raw recomputation, also after late clicks, redactions and rebuilds changed the cells
they were made from, on PostgreSQL and SQLite."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import Campaign, Creator, MetricState, Shop, VisitorBlock
from plugin.services import visitor_blocks
from plugin.services.privacy import CustomerRef, redact_customer
from tests.metrics.conftest import same_transaction
from tests.metrics.test_rollups_property import (
    DAY0,
    World,
    _assert_rollups_equal_raw,
    _assert_series_matches_raw,
)

LATER = DAY0 + timedelta(days=200)  # every day of the streams is settled by then


def _valid_blocks(session: Session, shop_id: int) -> int:
    generation = select(MetricState.sketch_generation).where(MetricState.shop_id == shop_id)
    return int(
        session.scalar(
            select(func.count()).where(
                VisitorBlock.shop_id == shop_id,
                VisitorBlock.generation == generation.scalar_subquery(),
            )
        )
        or 0
    )


@pytest.mark.parametrize("seed", range(3))
def test_answers_through_blocks_equal_raw_after_late_writes(session: Session, seed: int) -> None:
    # given: half a random stream of clicks and orders, then its settled days compacted
    rng = random.Random(seed)
    world = World(session, rng)
    batches = world.click_batches()
    for batch in batches[: len(batches) // 2]:
        world.apply("clicks", batch)
    for n in range(10):
        for kind, value in world.order_events(8_000_000 + world.shop.id * 1000 + n):
            world.apply(kind, value)
    transaction = same_transaction(session)
    assert visitor_blocks.compact(transaction, world.shop.id, LATER) > 0
    assert _valid_blocks(session, world.shop.id) > 0
    _assert_rollups_equal_raw(session, world, rng)
    _assert_series_matches_raw(session, world)
    # when: the other half of the clicks arrives late, into the compacted days
    for batch in batches[len(batches) // 2 :]:
        world.apply("clicks", batch)
    # then: the blocks made before no longer count, and the answers are still the raw ones
    assert _valid_blocks(session, world.shop.id) == 0
    _assert_rollups_equal_raw(session, world, rng)
    _assert_series_matches_raw(session, world)
    # and once compacted again, and after a redaction, too
    assert visitor_blocks.compact(transaction, world.shop.id, LATER) > 0
    _assert_rollups_equal_raw(session, world, rng)
    redact_customer(session, world.shop.id, CustomerRef(customer_id="customer1"))
    session.flush()
    _assert_rollups_equal_raw(session, world, rng)
    _assert_series_matches_raw(session, world)


def test_a_compaction_leaves_unsettled_days_to_the_cells(session: Session) -> None:
    # given: clicks on the stream's days
    rng = random.Random(7)
    world = World(session, rng)
    for batch in world.click_batches():
        world.apply("clicks", batch)
    # when: compacting as of the stream's first days, when most of them are not settled yet
    visitor_blocks.compact(same_transaction(session), world.shop.id, DAY0 + timedelta(days=3))
    # then: no block reaches past the settled days, and the answers are the raw ones
    horizon = visitor_blocks.settled_before(DAY0 + timedelta(days=3), world.shop.timezone)
    spans = session.execute(
        select(VisitorBlock.first_day, VisitorBlock.span).where(
            VisitorBlock.shop_id == world.shop.id
        )
    ).all()
    assert spans
    assert all(first + timedelta(days=int(span)) <= horizon for first, span in spans)
    _assert_rollups_equal_raw(session, world, rng)
    _assert_series_matches_raw(session, world)


def test_blocks_tile_a_period_with_the_largest_valid_spans(session: Session) -> None:
    # given: a shop compacted far after its clicks
    rng = random.Random(3)
    world = World(session, rng)
    for batch in world.click_batches():
        world.apply("clicks", batch)
    visitor_blocks.compact(same_transaction(session), world.shop.id, LATER)
    # a period starting three days into the 64-day window of the first clicks
    first = visitor_blocks.aligned(DAY0.date(), 64) + timedelta(days=3)
    last = first + timedelta(days=150)
    # when
    covered, uncovered = visitor_blocks.cover(
        session, world.shop.id, first, last, visitor_blocks.LINK_SPANS
    )
    # then: every day exactly once, in few pieces: the middle in 64-day blocks, the ends in
    # 8-day blocks, at most 7 days at either end from the cells
    days = [
        block_first + timedelta(days=offset)
        for span, block_first in covered
        for offset in range(span)
    ] + [
        low + timedelta(days=offset)
        for low, high in uncovered
        for offset in range((high - low).days)
    ]
    assert sorted(days) == [first + timedelta(days=offset) for offset in range(150)]
    assert any(span == 64 for span, _ in covered)
    assert len(covered) + sum((high - low).days for low, high in uncovered) <= 2 * (7 + 7) + 3


def test_the_periodic_job_compacts_every_shop(session: Session, run_jobs: Any) -> None:
    # given: two shops with clicks on days long settled
    worlds = [World(session, random.Random(seed)) for seed in (11, 12)]
    for world in worlds:
        for batch in world.click_batches():
            world.apply("clicks", batch)
    ids = [
        (world.shop.id, world.campaign.id, [creator.id for creator in world.creators])
        for world in worlds
    ]
    session.commit()
    # when
    from workers.jobs.metrics import compact_visitor_blocks_all_shops

    compact_visitor_blocks_all_shops()
    run_jobs()
    # then: each shop has valid blocks, and its answers are still the raw ones
    session = get_session()  # the jobs ended the request's session, as after any job
    for world, (shop_id, campaign_id, creator_ids) in zip(worlds, ids, strict=True):
        world.shop = session.get(Shop, shop_id)
        world.campaign = session.get(Campaign, campaign_id)
        world.creators = [session.get(Creator, creator_id) for creator_id in creator_ids]
        assert _valid_blocks(session, world.shop.id) > 0
        _assert_rollups_equal_raw(session, world, random.Random(1))


def test_a_link_moved_to_another_campaign_counts_there_at_once(session: Session) -> None:
    # given: compacted clicks, and the answers per campaign read once (merged per link, cached)
    rng = random.Random(11)
    world = World(session, rng)
    for batch in world.click_batches():
        world.apply("clicks", batch)
    assert visitor_blocks.compact(same_transaction(session), world.shop.id, LATER) > 0
    _assert_rollups_equal_raw(session, world, rng)
    # when: an always-on link joins the campaign (no click cell changes)
    moved = world.links[-1]
    assert moved.campaign_id is None
    moved.campaign_id = world.campaign.id
    session.flush()
    # then: the answers per campaign, and within it, are the raw ones again
    _assert_rollups_equal_raw(session, world, random.Random(11))
