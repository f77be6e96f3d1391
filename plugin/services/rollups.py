"""Keeping the daily metric rollups (plugin.models.metrics) up to date, in the writers' own
transactions.

- Clicks (plugin.services.click_rollups, re-exported here as the flush's hook): the flush
  calls `add_click_batch` once per batch with the rows it inserted; one upsert adds the clicks
  per (shop, local day, link) cell and, on PostgreSQL, appends the batch's visitor entries to
  the cell's sketch (concurrent flushes append under the row lock, so none loses another's).
- Orders: `refresh_order` runs after every change to an order (payload, refund, deletion,
  settlement). It recomputes the order's whole contribution (plugin.domain.metric_cells) from
  its stored state and moves the cells by the difference with the contribution recorded last
  time. State-driven, so late, replayed and reordered events end in the same cells; every
  change to one order is already serialised by the order lock.
- Ledger entries not about an order (flat fees, adjustments, sprint bonuses) add to their day
  when posted (`add_ledger_entry`).
- Every writer takes a shared per-shop advisory lock (PostgreSQL); `tastemaker metrics rebuild`
  takes it exclusively for each chunk it rewrites, so traffic and a rebuild never interleave on
  the same cells.

A change of the shop's timezone moves day boundaries: run `tastemaker metrics rebuild --shop`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Row,
    event,
    func,
    select,
)
from sqlalchemy.orm import Session, SessionTransaction

from plugin.domain import metric_cells as cells_of
from plugin.domain.metric_cells import Cells, LedgerLine
from plugin.models import (
    Agreement,
    Attribution,
    LedgerEntry,
    Order,
    OrderContribution,
    OrderDay,
    Refund,
    Shop,
)
from plugin.services.click_rollups import NORMALIZE_ABOVE as NORMALIZE_ABOVE
from plugin.services.click_rollups import add_click_batch as add_click_batch
from plugin.services.click_rollups import bump_sketch_generation as bump_sketch_generation
from plugin.services.click_rollups import ensure_metric_state as ensure_metric_state
from plugin.services.click_rollups import recompute_click_cells as recompute_click_cells
from plugin.services.click_rollups import settled_before as settled_before
from plugin.services.rollup_base import LOCK_NAMESPACE as LOCK_NAMESPACE
from plugin.services.rollup_base import (
    Upserts,
    among,
    before_outermost_commit,
    cell_rows,
    execute_rows,
    insert_rows,
)
from plugin.services.rollup_base import day_bounds as day_bounds
from plugin.services.rollup_base import ledger_line as ledger_line
from plugin.services.rollup_base import lock_shop_exclusive as lock_shop_exclusive
from plugin.services.rollup_base import lock_shops_shared as lock_shops_shared
from plugin.services.rollup_base import order_state as order_state
from plugin.services.rollup_base import zone_named as zone_named
from plugin.services.rollup_cohorts import customer_key, refresh_customers

# --- orders and the ledger -----------------------------------------------------------------

_REFUNDED = (
    select(func.coalesce(func.sum(Refund.item_amount_minor), 0))
    .where(Refund.shop_id == Order.shop_id, Refund.platform_order_id == Order.platform_order_id)
    .scalar_subquery()
)
_ORDER_STATE = (
    select(
        Order.placed_at,
        Order.status,
        Order.is_test,
        Order.net_item_revenue_minor,
        Order.is_first_order,
        _REFUNDED,
        Attribution.creator_id,
        Attribution.campaign_id,
        Attribution.self_referral,
        Attribution.method,
        OrderContribution.cells,
        Order.customer_ref,
        Order.customer_email_hash,
        OrderContribution.customer_key,
        Order.id,
    )
    .select_from(Order)
    .outerjoin(Attribution, Attribution.order_id == Order.id)
    .outerjoin(OrderContribution, OrderContribution.order_id == Order.id)
)
# A ledger line as the domain counts it: creator, campaign (the agreement's, else the order's
# attribution's), kind, amount.
_LINE_COLUMNS = (
    LedgerEntry.creator_id,
    func.coalesce(Agreement.campaign_id, Attribution.campaign_id),
    LedgerEntry.kind,
    LedgerEntry.amount_minor,
)


# The orders' state and their ledger lines in one read (a row per line, or one with no line):
# the settle runs once per batch, and each statement less is a round trip, a parse and a plan
# less on PostgreSQL.
@lru_cache(maxsize=4)
def _state_with_lines(dialect: str) -> Any:
    return (
        _ORDER_STATE.add_columns(*_LINE_COLUMNS)
        .outerjoin(LedgerEntry, LedgerEntry.order_id == Order.id)
        .outerjoin(Agreement, Agreement.id == LedgerEntry.agreement_id)
        .where(among(Order.id, "order_ids", dialect))
    )


_LINE = 15  # where a row's ledger line starts
LEDGER_LINES = (
    select(LedgerEntry.order_id, *_LINE_COLUMNS)
    .outerjoin(Agreement, Agreement.id == LedgerEntry.agreement_id)
    .outerjoin(Attribution, Attribution.order_id == LedgerEntry.order_id)
)


PENDING = "tastemaker.rollups.pending_orders"


def refresh_order(session: Session, shop: Shop, order_id: int) -> None:
    """Bring the order's rollups up to date before this transaction commits.

    Only marks the order: `settle_orders` runs once per transaction, just before its outermost
    commit (or before a metrics read in the same session), for every order marked, with a
    handful of statements in all. A worker draining 50 events in one transaction, each in a
    savepoint of its own, thus pays for its rollups once, not 50 times
    (`before_outermost_commit`). Since the refresh recomputes from the state at commit, an
    event whose savepoint rolled back leaves nothing behind, and an order marked in it is merely
    recomputed.
    """
    session.info.setdefault(PENDING, {})[order_id] = (shop.id, shop.timezone)


@before_outermost_commit
def _settle_before_commit(session: Session) -> None:
    settle_orders(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_when_it_ends(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: committed (so settled) or rolled back
        session.info.pop(PENDING, None)


def settle_orders(session: Session) -> None:
    """Move the rollups by what changed in each marked order's contribution since last time,
    and refresh the cohorts of the customers they count (and counted) for.

    Inside a savepoint (a metrics read before the commit) the marks are kept: should the
    savepoint roll back, its rollup writes go with it and the outermost commit settles again
    (an order settled already and unchanged since moves nothing)."""
    nested = session.in_nested_transaction()
    pending: dict[int, tuple[int, str | None]] | None = (
        dict(session.info.get(PENDING, {})) if nested else session.info.pop(PENDING, None)
    )
    if not pending:
        return
    session.flush()
    connection = session.connection()
    by_shop: dict[tuple[int, str | None], list[int]] = {}
    for order_id, shop in sorted(pending.items()):
        by_shop.setdefault(shop, []).append(order_id)
    for (shop_id, timezone), order_ids in by_shop.items():
        _settle_shop_orders(connection, shop_id, zone_named(timezone), order_ids)


def _settle_shop_orders(
    connection: Connection, shop_id: int, zone: ZoneInfo, order_ids: list[int]
) -> None:
    lock_shops_shared(connection, [shop_id])
    states: dict[int, Row[Any]] = {}
    lines: dict[int, list[LedgerLine]] = {}
    state = _state_with_lines(connection.dialect.name)
    for row in connection.execute(state, {"order_ids": order_ids}):
        order_id = int(row[14])
        states.setdefault(order_id, row)
        if row[_LINE + 2] is not None:  # the entry's kind: there is a line
            lines.setdefault(order_id, []).append(ledger_line((order_id, *row[_LINE:])))
    total: dict[Any, list[int]] = {}
    contributions = []
    customers: set[str] = set()
    for order_id, found in states.items():
        new = cells_of.order_cells(order_state(found), lines.get(order_id, []), zone)
        delta = cells_of.difference(new, cells_of.from_json(found[10]))
        customer, customer_before = customer_key(found[11], found[12]), found[13]
        if not delta and found[10] is not None and customer == customer_before:
            continue
        for key, vector in delta.items():
            current = total.setdefault(key, [0] * cells_of.WIDTH)
            for position, value in enumerate(vector):
                current[position] += value
        contributions.append(
            {
                "order_id": order_id,
                "shop_id": shop_id,
                "cells": cells_of.to_json(new),
                "customer_key": customer,
            }
        )
        customers |= {key for key in (customer, customer_before) if key is not None}
    # Every write at the end, in one statement: the shop's day cells, which every concurrent
    # writer of the shop updates, are then locked only from here to the commit, not while this
    # settle reads its customers' orders.
    dialect = connection.dialect.name
    writes = Upserts()
    writes.add(upsert_contribution(dialect), contributions)
    refresh_customers(connection, shop_id, zone, customers, writes)
    writes.add(_upsert_order_days(dialect), cell_rows(shop_id, total, cells_of.MEASURES))
    writes.run(connection)


def add_ledger_entry(session: Session, shop_id: int, values: Mapping[str, Any]) -> None:
    """A newly posted entry that is not about an order: its own day, creator and campaign."""
    connection = session.connection()
    lock_shops_shared(connection, [shop_id])
    campaign = (
        select(Agreement.campaign_id)
        .where(Agreement.id == values.get("agreement_id"))
        .scalar_subquery()
    )
    timezone, campaign_id = connection.execute(
        select(Shop.timezone, campaign).where(Shop.id == shop_id)
    ).one()
    day = values["created_at"].astimezone(zone_named(timezone)).date()
    key = (day, int(values["creator_id"]), int(campaign_id or cells_of.NONE))
    vector = tuple(cells_of.spend_vector(values["kind"], int(values["amount_minor"])))
    add_order_cells(connection, shop_id, {key: vector})


def add_order_cells(connection: Connection, shop_id: int, delta: Cells) -> None:
    rows = cell_rows(shop_id, delta, cells_of.MEASURES)
    execute_rows(connection, _upsert_order_days(connection.dialect.name), rows)


@lru_cache(maxsize=4)
def _upsert_order_days(dialect: str) -> Any:
    table = OrderDay.__table__
    statement = insert_rows(
        dialect, table, ("shop_id", "day", "creator_id", "campaign_id", *cells_of.MEASURES)
    )
    return statement.on_conflict_do_update(
        index_elements=["shop_id", "day", "creator_id", "campaign_id"],
        set_={name: table.c[name] + statement.excluded[name] for name in cells_of.MEASURES},
    )


@lru_cache(maxsize=4)
def upsert_contribution(dialect: str) -> Any:
    statement = insert_rows(
        dialect, OrderContribution.__table__, ("order_id", "shop_id", "cells", "customer_key")
    )
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={"cells": statement.excluded.cells, "customer_key": statement.excluded.customer_key},
    )
