"""First-creator cohorts (the LTV figures) kept up to date like the other rollups.

A customer (the store's customer id, else their email hash, as the raw LTV query names them)
adds one cell to `metric_cohort_days`: the day, creator and campaign of their first paid order
credited to a creator, with what they bought afterwards. When any order of theirs changes,
`refresh_customers` recomputes the customer from all their orders and moves the cells by the
difference with what `metric_customer_cohorts` recorded. Two orders of one customer can be
applied by two workers at once, so each refresh holds a per-customer lock (PostgreSQL), taken
in key order just before commit (plugin.services.rollups.settle_orders): no two transactions
can wait on each other's customers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, text

from plugin.domain import metric_cells as cells_of
from plugin.domain.metric_cells import CohortCell, CustomerOrder
from plugin.models import Attribution, CohortDay, CustomerCohort, Order, Refund
from plugin.services.rollup_base import (
    Upserts,
    among,
    cell_rows,
    execute_rows,
    insert_rows,
    order_state,
)

EMAIL = "email:"


def customer_key(customer_ref: str | None, email_hash: str | None) -> str | None:
    """Who bought, as the raw LTV query names them: the customer id, else the email hash."""
    if customer_ref is not None:
        return customer_ref
    if email_hash is not None:
        return EMAIL + email_hash
    return None


_REFUNDED = (
    select(func.coalesce(func.sum(Refund.item_amount_minor), 0))
    .where(Refund.shop_id == Order.shop_id, Refund.platform_order_id == Order.platform_order_id)
    .scalar_subquery()
)


@lru_cache(maxsize=8)
def _orders_of(dialect: str, by_ref: bool, by_email: bool) -> Any:
    """The orders of a shop's customers named by `refs` (customer ids) and `emails` (email
    hashes of customers without one)."""
    conditions = []
    if by_ref:
        conditions.append(among(Order.customer_ref, "refs", dialect))
    if by_email:
        conditions.append(
            and_(Order.customer_ref.is_(None), among(Order.customer_email_hash, "emails", dialect))
        )
    return (
        select(
            Order.id,
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
            Order.customer_ref,
            Order.customer_email_hash,
        )
        .outerjoin(Attribution, Attribution.order_id == Order.id)
        .where(Order.shop_id == bindparam("shop_id"), or_(*conditions))
    )


def cohorts_of(
    connection: Connection, shop_id: int, keys: Sequence[str], zone: ZoneInfo
) -> dict[str, CohortCell | None]:
    """Each customer's cohort cell, computed from all their orders (one query)."""
    orders: dict[str, list[CustomerOrder]] = {key: [] for key in keys}
    refs = [key for key in keys if not key.startswith(EMAIL)]
    emails = [key[len(EMAIL) :] for key in keys if key.startswith(EMAIL)]
    if keys:
        statement = _orders_of(connection.dialect.name, bool(refs), bool(emails))
        values = {"shop_id": shop_id, "refs": refs, "emails": emails}
        for row in connection.execute(statement, values):
            key = customer_key(row[11], row[12])
            if key in orders:
                orders[key].append(CustomerOrder(int(row[0]), order_state(row[1:11])))
    return {key: cells_of.customer_cohort(found, zone) for key, found in orders.items()}


def _lock(connection: Connection, shop_id: int, keys: Sequence[str]) -> None:
    if connection.dialect.name != "postgresql":
        return
    lock_keys = sorted(
        int.from_bytes(
            hashlib.blake2b(f"customer:{shop_id}:{key}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        for key in keys
    )
    connection.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": lock_keys},
    )


def refresh_customers(
    connection: Connection, shop_id: int, zone: ZoneInfo, keys: Iterable[str], writes: Upserts
) -> None:
    """Move the cohort cells by what changed for these customers since last time: their rows
    and cells go to `writes`, for the caller to run with its own."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    _lock(connection, shop_id, wanted)
    new = cohorts_of(connection, shop_id, wanted, zone)
    old: dict[str, CohortCell] = {
        row[0]: ((row[1], int(row[2]), int(row[3])), (1, int(row[4] > 0), int(row[4]), int(row[5])))
        for row in connection.execute(
            select(
                CustomerCohort.customer_key,
                CustomerCohort.day,
                CustomerCohort.creator_id,
                CustomerCohort.campaign_id,
                CustomerCohort.repeat_orders,
                CustomerCohort.repeat_revenue_minor,
            ).where(
                CustomerCohort.shop_id == shop_id,
                among(CustomerCohort.customer_key, "wanted", connection.dialect.name),
            ),
            {"wanted": wanted},
        )
    }
    delta: dict[Any, list[int]] = {}
    changed = [key for key in wanted if new.get(key) != old.get(key)]
    for key in changed:
        for cell, sign in ((old.get(key), -1), (new.get(key), 1)):
            if cell is not None:
                current = delta.setdefault(cell[0], [0, 0, 0, 0])
                for position, value in enumerate(cell[1]):
                    current[position] += sign * value
    # A customer who still counts somewhere is upserted (most changes: one statement in all),
    # one who no longer counts anywhere is deleted.
    gone = [key for key in changed if new[key] is None]
    if gone:
        connection.execute(
            delete(CustomerCohort).where(
                CustomerCohort.shop_id == shop_id, CustomerCohort.customer_key.in_(gone)
            )
        )
    rows = [customer_row(shop_id, key, new[key]) for key in changed if new[key] is not None]
    writes.add(upsert_customers(connection.dialect.name), rows)
    writes.add(_upsert_cohort_days(connection.dialect.name), cohort_cell_rows(shop_id, delta))


@lru_cache(maxsize=4)
def upsert_customers(dialect: str) -> Any:
    statement = insert_rows(
        dialect, CustomerCohort.__table__, ("shop_id", "customer_key", *_CUSTOMER_CELL)
    )
    return statement.on_conflict_do_update(
        index_elements=["shop_id", "customer_key"],
        set_={name: statement.excluded[name] for name in _CUSTOMER_CELL},
    )


_CUSTOMER_CELL = ("day", "creator_id", "campaign_id", "repeat_orders", "repeat_revenue_minor")


def customer_row(shop_id: int, key: str, cell: CohortCell | None) -> dict[str, Any]:
    assert cell is not None
    (day, creator, campaign), (_one, _repeat, orders, revenue) = cell
    return {
        "shop_id": shop_id,
        "customer_key": key,
        "day": day,
        "creator_id": creator,
        "campaign_id": campaign,
        "repeat_orders": orders,
        "repeat_revenue_minor": revenue,
    }


def write_cohort_cells(connection: Connection, shop_id: int, delta: dict[Any, list[int]]) -> None:
    execute_rows(
        connection, _upsert_cohort_days(connection.dialect.name), cohort_cell_rows(shop_id, delta)
    )


def cohort_cell_rows(shop_id: int, delta: dict[Any, list[int]]) -> list[dict[str, Any]]:
    return cell_rows(shop_id, delta, cells_of.COHORT_MEASURES)


@lru_cache(maxsize=4)
def _upsert_cohort_days(dialect: str) -> Any:
    table = CohortDay.__table__
    key = ("shop_id", "day", "creator_id", "campaign_id")
    statement = insert_rows(dialect, table, (*key, *cells_of.COHORT_MEASURES))
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + statement.excluded[name] for name in cells_of.COHORT_MEASURES},
    )
