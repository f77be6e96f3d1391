"""Rollup upserts written together (plugin.services.rollup_base.Upserts): on PostgreSQL one
statement for all of them, on both databases the same rows as writing them one by one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from plugin.domain.metric_cells import MEASURES
from plugin.models import BalanceReleaseDay, BalanceTotal, OrderDay
from plugin.services.balance_rollups import _upsert as balance_upsert
from plugin.services.rollup_base import Upserts, cell_rows
from plugin.services.rollups import _upsert_order_days
from tests.engine.factories import make_creator, make_shop

WIDTH = len(MEASURES)


@contextmanager
def _statements(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", note)


def test_upserts_into_three_tables_write_what_each_would_alone(session: Session) -> None:
    shop = make_shop(session)
    alice, bob = make_creator(session, shop, "alice"), make_creator(session, shop, "bob")
    connection = session.connection()
    dialect = connection.dialect.name
    day = date(2026, 6, 1)
    cells = {(day, alice.id, 0): (1,) * WIDTH, (day, bob.id, 0): (2,) * WIDTH}
    for _ in range(2):  # the second time every row exists: the upserts add to them
        writes = Upserts()
        writes.add(
            balance_upsert(dialect, BalanceTotal.__table__),
            [
                {"shop_id": shop.id, "creator_id": c.id, "currency": "USD", "unclaimed_minor": 500,
                 "in_payout_minor": 0, "paid_minor": 7}
                for c in (alice, bob)
            ],
        )  # fmt: skip
        writes.add(balance_upsert(dialect, BalanceReleaseDay.__table__), [])  # nothing: skipped
        writes.add(
            balance_upsert(dialect, BalanceReleaseDay.__table__),
            [{"shop_id": shop.id, "day": day, "creator_id": bob.id, "currency": "USD",
              "unclaimed_minor": 300}],
        )  # fmt: skip
        writes.add(_upsert_order_days(dialect), cell_rows(shop.id, cells, MEASURES))
        with _statements(connection) as seen:
            writes.run(connection)
            writes.run(connection)  # nothing is left to write twice
        assert len(seen) == (1 if dialect == "postgresql" else 3)

    totals = session.execute(
        select(BalanceTotal.creator_id, BalanceTotal.unclaimed_minor, BalanceTotal.paid_minor)
        .where(BalanceTotal.shop_id == shop.id)
        .order_by(BalanceTotal.creator_id)
    ).all()
    assert [tuple(row) for row in totals] == [(alice.id, 1000, 14), (bob.id, 1000, 14)]
    assert (
        session.scalar(
            select(BalanceReleaseDay.unclaimed_minor).where(BalanceReleaseDay.shop_id == shop.id)
        )
        == 600
    )
    orders = session.execute(
        select(OrderDay.creator_id, OrderDay.orders, OrderDay.adjustment_minor)
        .where(OrderDay.shop_id == shop.id)
        .order_by(OrderDay.creator_id)
    ).all()
    assert [tuple(row) for row in orders] == [(alice.id, 2, 2), (bob.id, 4, 4)]


def test_one_statement_never_writes_a_table_twice(session: Session) -> None:
    """Parts of one statement cannot see each other's rows: two upserts of the same cell would
    fail or lose one (PostgreSQL). Writing them together is refused before anything runs."""
    shop = make_shop(session)
    alice = make_creator(session, shop, "alice")
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("elsewhere the parts run one after the other")
    upsert = _upsert_order_days(connection.dialect.name)
    rows = cell_rows(shop.id, {(date(2026, 6, 1), alice.id, 0): (1,) * WIDTH}, MEASURES)
    writes = Upserts()
    writes.add(upsert, rows)
    writes.add(upsert, rows)
    with pytest.raises(ValueError, match="distinct tables"):
        writes.run(connection)
