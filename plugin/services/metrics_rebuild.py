"""Rebuilding a shop's metric rollups from the raw rows (`tastemaker metrics rebuild`).

A few shop-local days (CHUNK_DAYS) per transaction: their click cells, order cells and order
contributions are deleted and recomputed from the raw clicks, orders, refunds and ledger, while
the shop's rollup lock is held exclusively (plugin.services.rollups.lock_shops_shared): writers
of that shop wait for the chunk in progress (well under a second at a busy shop's volume), and
a writer whose raw rows were not yet visible to the rebuild adds them itself after it, so the
result is exact under traffic. Memory is bounded by one page of orders and one chunk's click
cells. Progress is committed with each chunk (MetricState), so an interrupted rebuild resumes
where it stopped.

The creator balance rollup (plugin.services.balance_rollups) is rebuilt after the days, in one
transaction holding the lock (one streamed pass over the shop's ledger).

Click cells of days before `clicks_pruned_before` (raw clicks pruned by retention,
plugin.services.click_retention) are history and are kept as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.domain import metric_cells as cells_of
from plugin.domain.metric_cells import CellKey
from plugin.models import (
    Attribution,
    Click,
    ClickDay,
    CohortDay,
    CustomerCohort,
    LedgerEntry,
    MetricState,
    Order,
    OrderDay,
    Refund,
    Shop,
    utcnow,
)
from plugin.services import balance_rollups, visitor_blocks
from plugin.services.rollup_base import execute_rows
from plugin.services.rollup_cohorts import (
    cohorts_of,
    customer_key,
    customer_row,
    upsert_customers,
    write_cohort_cells,
)
from plugin.services.rollups import (
    LEDGER_LINES,
    add_order_cells,
    bump_sketch_generation,
    day_bounds,
    ensure_metric_state,
    ledger_line,
    lock_shop_exclusive,
    order_state,
    upsert_contribution,
    zone_named,
)

logger = logging.getLogger(__name__)

Transaction = Callable[[], AbstractContextManager[Session]]
ORDER_PAGE = 2000
CUSTOMER_PAGE = 500
CHUNK_DAYS = 7


@dataclass(frozen=True)
class RebuildResult:
    shop_id: int
    days: int
    resumed: bool


def rebuild_shop(
    transaction: Transaction, shop_id: int, *, restart: bool = False, chunk_days: int = CHUNK_DAYS
) -> RebuildResult | None:
    """Rebuild every day of the shop's rollups; None if the shop is gone."""
    with transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return None
        zone = zone_named(shop.timezone)
        state = session.get(MetricState, shop_id) or _new_state(session, shop_id)
        resumed = (
            not restart and state.rebuild_next_day is not None and state.rebuild_finished_at is None
        )
        if not resumed:
            first, last = _day_range(session, shop_id, zone)
            state.rebuild_first_day, state.rebuild_last_day = first, last
            state.rebuild_next_day = first
            state.rebuild_started_at, state.rebuild_finished_at = utcnow(), None
    days = 0
    while True:
        with transaction() as session:
            state = session.get(MetricState, shop_id)
            if state is None or state.rebuild_next_day is None or state.rebuild_last_day is None:
                return None  # the shop was erased meanwhile
            day = state.rebuild_next_day
            if day >= state.rebuild_last_day:
                state.rebuild_finished_at = utcnow()
                break
            until = min(day + timedelta(days=chunk_days), state.rebuild_last_day)
            lock_shop_exclusive(session.connection(), shop_id)
            rebuild_days(session, shop_id, day, until, zone, state.clicks_pruned_before)
            state.rebuild_next_day = until
            days += (until - day).days
    with transaction() as session:
        balance_rollups.rebuild(session, shop_id)  # not by day: one pass over the ledger
    visitor_blocks.compact(transaction, shop_id, utcnow())
    logger.info("metrics rollups of shop %s rebuilt (%s days)", shop_id, days)
    return RebuildResult(shop_id, days, resumed)


def rebuild_all(transaction: Transaction, *, restart: bool = False) -> list[RebuildResult]:
    with transaction() as session:
        shop_ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
    results = []
    for shop_id in shop_ids:
        result = rebuild_shop(transaction, shop_id, restart=restart)
        if result is not None:
            results.append(result)
    return results


def _new_state(session: Session, shop_id: int) -> MetricState:
    ensure_metric_state(session.connection(), shop_id)  # a late click may be creating it too
    state = session.get(MetricState, shop_id)
    assert state is not None
    return state


def _day_range(session: Session, shop_id: int, zone: ZoneInfo) -> tuple[date, date]:
    """From the first day anything (raw or rolled up) exists to the last."""
    moments = [
        session.scalar(select(func.min(Click.occurred_at)).where(Click.shop_id == shop_id)),
        session.scalar(select(func.max(Click.occurred_at)).where(Click.shop_id == shop_id)),
        session.scalar(select(func.min(Order.placed_at)).where(Order.shop_id == shop_id)),
        session.scalar(select(func.max(Order.placed_at)).where(Order.shop_id == shop_id)),
        session.scalar(
            select(func.min(LedgerEntry.created_at)).where(LedgerEntry.shop_id == shop_id)
        ),
        session.scalar(
            select(func.max(LedgerEntry.created_at)).where(LedgerEntry.shop_id == shop_id)
        ),
    ]
    days = [moment.astimezone(zone).date() for moment in moments if moment is not None]
    for table in (ClickDay, OrderDay):
        for aggregate in (func.min, func.max):
            found = session.scalar(select(aggregate(table.day)).where(table.shop_id == shop_id))
            if found is not None:
                days.append(found if isinstance(found, date) else date.fromisoformat(str(found)))
    if not days:
        today = utcnow().astimezone(zone).date()
        return today, today
    return min(days), max(days) + timedelta(days=1)


def rebuild_days(
    session: Session,
    shop_id: int,
    first: date,
    last: date,
    zone: ZoneInfo,
    clicks_pruned_before: date | None,
) -> None:
    """Recompute the shop-local days [first, last) of the shop's rollups from the raw rows."""
    start, end = day_bounds(first, zone)[0], day_bounds(last, zone)[0]
    if clicks_pruned_before is not None and first < clicks_pruned_before:
        first_clicks = min(clicks_pruned_before, last)
        click_start = day_bounds(first_clicks, zone)[0]
    else:
        first_clicks, click_start = first, start
    if first_clicks < last:
        _rebuild_clicks(session, shop_id, first_clicks, last, zone, click_start, end)
    _rebuild_orders(session, shop_id, first, last, zone, start, end)


def _rebuild_clicks(
    session: Session,
    shop_id: int,
    first: date,
    last: date,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
) -> None:
    bump_sketch_generation(session.connection(), [shop_id])
    session.execute(
        delete(ClickDay).where(
            ClickDay.shop_id == shop_id, ClickDay.day >= first, ClickDay.day < last
        )
    )
    cells: dict[tuple[date, int], tuple[int, list[int], dict[int, int]]] = {}
    rows = session.execute(
        select(Click.occurred_at, Click.link_id, Click.creator_id, Click.visitor_hash)
        .where(Click.shop_id == shop_id, Click.occurred_at >= start, Click.occurred_at < end)
        .execution_options(yield_per=10_000)
    )
    for occurred_at, link_id, creator_id, visitor in rows:
        key = (occurred_at.astimezone(zone).date(), link_id)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = (creator_id, [0], {})
        cell[1][0] += 1
        if visitor:
            index, rank = hll.register(visitor)
            if rank > cell[2].get(index, 0):
                cell[2][index] = rank
    if cells:
        session.execute(
            insert(ClickDay),
            [
                {
                    "shop_id": shop_id,
                    "day": day,
                    "link_id": link_id,
                    "creator_id": creator_id,
                    "clicks": count[0],
                    "visitors_sketch": hll.encode(registers),
                }
                for (day, link_id), (creator_id, count, registers) in sorted(cells.items())
            ],
        )


def _rebuild_orders(
    session: Session,
    shop_id: int,
    first: date,
    last: date,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
) -> None:
    session.execute(
        delete(OrderDay).where(
            OrderDay.shop_id == shop_id, OrderDay.day >= first, OrderDay.day < last
        )
    )
    totals: dict[CellKey, list[int]] = {}
    connection = session.connection()
    upsert = upsert_contribution(connection.dialect.name)
    for page in _order_pages(session, shop_id, start, end):
        ids = [row[0] for row in page]
        lines: dict[int, list[cells_of.LedgerLine]] = {}
        for line in connection.execute(LEDGER_LINES.where(LedgerEntry.order_id.in_(ids))):
            lines.setdefault(int(line[0]), []).append(ledger_line(line))
        contributions = []
        for row in page:
            cells = cells_of.order_cells(order_state(row[1:11]), lines.get(row[0], []), zone)
            contributions.append(
                {
                    "order_id": row[0],
                    "shop_id": shop_id,
                    "cells": cells_of.to_json(cells),
                    "customer_key": customer_key(row[11], row[12]),  # type: ignore[arg-type]
                }
            )
            for key, vector in cells.items():
                _accumulate(totals, key, vector)
        execute_rows(connection, upsert, contributions)
    # Entries about no order count on the day they were posted.
    for line in connection.execute(
        LEDGER_LINES.add_columns(LedgerEntry.created_at).where(
            LedgerEntry.shop_id == shop_id,
            LedgerEntry.order_id.is_(None),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
    ):
        entry = ledger_line(line)
        key = (
            line[5].astimezone(zone).date(),
            entry.creator_id,
            entry.campaign_id or cells_of.NONE,
        )
        _accumulate(totals, key, cells_of.spend_vector(entry.kind, entry.amount_minor))
    add_order_cells(
        connection, shop_id, {key: tuple(vector) for key, vector in totals.items() if any(vector)}
    )
    _rebuild_cohorts(connection, shop_id, first, last, zone, start, end)


def _rebuild_cohorts(
    connection: Connection,
    shop_id: int,
    first: date,
    last: date,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
) -> None:
    """The cohort cells of these days: every customer with a credited paid order placed in
    them is recomputed; those whose first such order is in these days are this chunk's."""
    in_days = (CohortDay.shop_id == shop_id, CohortDay.day >= first, CohortDay.day < last)
    connection.execute(delete(CohortDay).where(*in_days))
    connection.execute(
        delete(CustomerCohort).where(
            CustomerCohort.shop_id == shop_id,
            CustomerCohort.day >= first,
            CustomerCohort.day < last,
        )
    )
    candidates = sorted(
        {
            key
            for ref, email in connection.execute(
                select(Order.customer_ref, Order.customer_email_hash)
                .join(Attribution, Attribution.order_id == Order.id)
                .where(
                    Order.shop_id == shop_id,
                    Order.placed_at >= start,
                    Order.placed_at < end,
                    Attribution.creator_id.is_not(None),
                )
                .distinct()
            )
            if (key := customer_key(ref, email)) is not None
        }
    )
    totals: dict[Any, list[int]] = {}
    for position in range(0, len(candidates), CUSTOMER_PAGE):
        page = candidates[position : position + CUSTOMER_PAGE]
        cohorts = cohorts_of(connection, shop_id, page, zone)
        mine = {key: cell for key, cell in cohorts.items() if cell and first <= cell[0][0] < last}
        if not mine:
            continue
        execute_rows(
            connection,
            upsert_customers(connection.dialect.name),
            [customer_row(shop_id, key, cell) for key, cell in mine.items()],
        )
        for cell_key, vector in mine.values():
            current = totals.setdefault(cell_key, [0, 0, 0, 0])
            for index, value in enumerate(vector):
                current[index] += value
    write_cohort_cells(connection, shop_id, totals)


def _accumulate(totals: dict[CellKey, list[int]], key: CellKey, vector: object) -> None:
    current = totals.setdefault(key, [0] * cells_of.WIDTH)
    for position, value in enumerate(vector):  # type: ignore[call-overload]
        current[position] += value


def _order_pages(
    session: Session, shop_id: int, start: object, end: object
) -> Iterator[list[tuple[object, ...]]]:
    refunded = (
        select(func.coalesce(func.sum(Refund.item_amount_minor), 0))
        .where(Refund.shop_id == Order.shop_id, Refund.platform_order_id == Order.platform_order_id)
        .scalar_subquery()
    )
    after = 0
    while True:
        page = [
            tuple(row)
            for row in session.execute(
                select(
                    Order.id,
                    Order.placed_at,
                    Order.status,
                    Order.is_test,
                    Order.net_item_revenue_minor,
                    Order.is_first_order,
                    refunded,
                    Attribution.creator_id,
                    Attribution.campaign_id,
                    Attribution.self_referral,
                    Attribution.method,
                    Order.customer_ref,
                    Order.customer_email_hash,
                )
                .outerjoin(Attribution, Attribution.order_id == Order.id)
                .where(
                    Order.shop_id == shop_id,
                    Order.placed_at >= start,
                    Order.placed_at < end,
                    Order.id > after,
                )
                .order_by(Order.id)
                .limit(ORDER_PAGE)
            )
        ]
        if not page:
            return
        yield page
        after = int(page[-1][0])  # type: ignore[call-overload]


def mark_clicks_pruned(session: Session, shop_id: int, before: date) -> None:
    """Record that raw clicks before `before` are gone (their cells must not be rebuilt)."""
    state = session.get(MetricState, shop_id) or _new_state(session, shop_id)
    if state.clicks_pruned_before is None or before > state.clicks_pruned_before:
        session.execute(
            update(MetricState)
            .where(MetricState.shop_id == shop_id)
            .values(clicks_pruned_before=before)
        )
