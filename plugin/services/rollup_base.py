"""What every rollup writer shares: shop-local days, the per-shop rollup lock, dialect upserts,
rows read back as the domain's order and ledger inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    any_,
    bindparam,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from plugin.domain.metric_cells import LedgerLine, OrderState


def before_outermost_commit(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Registers `hook` to run just before any session's outermost transaction commits.

    SQLAlchemy fires `before_commit` for a savepoint's commit too, and the webhook drain runs
    every event in a savepoint of its own: a rollup written there is written once per event
    instead of once per batch (the drain took 1.8-4x as long per event, benchmarks.attribution).
    """

    @event.listens_for(Session, "before_commit")
    def _outermost_only(session: Session) -> None:
        if not session.in_nested_transaction():
            hook(session)

    return hook


@lru_cache(maxsize=512)
def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a shop-local day, in UTC."""
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# Advisory locks in PostgreSQL's two-int key space (apart from the one-bigint keys of the order
# and customer locks): (this namespace, shop id).
LOCK_NAMESPACE = 0x544D52  # "TMR"


_SHARED_LOCKS = "tastemaker.rollups.shared_locks"


def lock_shops_shared(connection: Connection, shop_ids: Iterable[int]) -> None:
    """Writers of a shop's rollups share this lock; a rebuild chunk holds it exclusively.

    Asked for once per (sub)transaction and shop: the order settle and the balance notes both
    ask just before the same commit. Remembered per savepoint, since rolling one back releases
    the locks taken in it."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's single writer already serialises a rebuild with everything else
    transaction = connection.get_nested_transaction() or connection.get_transaction()
    held: tuple[object, set[int]] | None = connection.info.get(_SHARED_LOCKS)
    if held is None or held[0] is not transaction:
        held = connection.info[_SHARED_LOCKS] = (transaction, set())
    for shop_id in sorted(set(shop_ids) - held[1]):
        connection.execute(
            text("SELECT pg_advisory_xact_lock_shared(:namespace, :shop)"),
            {"namespace": LOCK_NAMESPACE, "shop": shop_id},
        )
        held[1].add(shop_id)


def lock_shop_exclusive(connection: Connection, shop_id: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :shop)"),
            {"namespace": LOCK_NAMESPACE, "shop": shop_id},
        )


def among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column IN (the values bound as name)`. On PostgreSQL the values go as one array (`=
    ANY`), so the statement's text is the same whatever their number: SQLAlchemy and psycopg
    convert it once, and PostgreSQL parses it once a connection (psycopg prepares a statement
    from its fifth run). An expanding IN makes a bind parameter per value and a new text per
    count, converted and parsed again each time: most of the settle's Python was that."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def dialect_insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@lru_cache(maxsize=32)
def insert_rows(dialect: str, table: Table, names: tuple[str, ...]) -> Any:
    """An INSERT of any number of rows in one execution (`execute_rows`), for an upsert's
    ON CONFLICT clause to be added to.

    psycopg runs a plain executemany as one statement per row (pipelined, but each parsed,
    planned and executed on its own): a settle's ~140 cell, contribution and customer rows were
    ~140 executions. On PostgreSQL the rows come as one array per column instead, unpacked by
    unnest() in the statement, whose text stays the same for any number of rows (SQLAlchemy
    compiles it once). Rows go in in array order, so the callers' sorted rows still lock their
    cells in key order. Other dialects (SQLite: in process) keep executemany.
    """
    statement = dialect_insert(dialect)(table)
    if dialect != "postgresql":
        return statement
    columns = select(
        *(
            func.unnest(bindparam(name, type_=ARRAY(table.c[name].type))).label(name)
            for name in names
        )
    )
    return statement.from_select(list(names), columns)


def execute_rows(connection: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run an `insert_rows` statement for `rows` (each with exactly its column names)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(statement, _columns(rows))
    else:
        connection.execute(statement, list(rows))


def _columns(rows: Sequence[dict[str, Any]], prefix: str = "") -> dict[str, list[Any]]:
    return {prefix + name: [row[name] for row in rows] for name in rows[0]}


class Upserts:
    """`insert_rows` upserts into different tables, gathered to be written together.

    On PostgreSQL they go as one statement (the first ones as data-modifying WITH clauses of
    the last): a batch's settle writes four rollup tables and its balance notes two, and each
    statement less is a round trip, a parse and an executor start less. The rows a part writes
    are no input to another, so their order inside the statement does not matter; each part
    still locks its rows in their sorted order. Elsewhere they run one after the other.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[Any, Sequence[dict[str, Any]]]] = []

    def add(self, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._parts.append((statement, rows))

    def run(self, connection: Connection) -> None:
        parts, self._parts = self._parts, []
        if connection.dialect.name != "postgresql" or len(parts) < 2:
            for statement, rows in parts:
                execute_rows(connection, statement, rows)
            return
        values: dict[str, list[Any]] = {}
        for position, (_statement, rows) in enumerate(parts):
            values.update(_columns(rows, f"w{position}_"))
        connection.execute(_together(tuple(statement for statement, _rows in parts)), values)


@lru_cache(maxsize=32)
def _together(statements: tuple[Any, ...]) -> Any:
    """One statement running `statements` (PostgreSQL upserts into distinct tables), their
    parameters renamed w<position>_<name>."""
    tables = [statement.table for statement in statements]
    if len(set(tables)) != len(tables):
        # One statement must not change a row twice: its parts could not see each other's rows.
        raise ValueError("upserts written together must go to distinct tables")

    def renamed(position: int, statement: Any) -> Any:
        def prefix(bind: Any) -> None:
            bind.key = f"w{position}_{bind.key}"

        return visitors.cloned_traverse(statement, {}, {"bindparam": prefix})

    *first, last = (renamed(position, statement) for position, statement in enumerate(statements))
    clauses = [
        statement.returning(literal_column("1")).cte(f"rollup_write_{position}")
        for position, statement in enumerate(first)
    ]
    return last.add_cte(*clauses)


def cell_rows(
    shop_id: int, cells: Mapping[Any, Sequence[int]], measures: Sequence[str]
) -> list[dict[str, Any]]:
    """Upsert rows for a shop's (day, creator, campaign) cells and their measures, in key order
    (the order they lock in); a cell that moves nothing is left out."""
    return [
        {
            "shop_id": shop_id,
            "day": day,
            "creator_id": creator,
            "campaign_id": campaign,
            **dict(zip(measures, vector, strict=True)),
        }
        for (day, creator, campaign), vector in sorted(cells.items())
        if any(vector)
    ]


def order_state(row: Sequence[Any]) -> OrderState:
    """An OrderState from (placed_at, status, is_test, net, is_first, refunded, creator,
    campaign, self_referral, method)."""
    return OrderState(
        placed_at=row[0],
        status=row[1],
        is_test=bool(row[2]),
        net_item_revenue_minor=int(row[3]),
        is_first_order=row[4],
        refunded_minor=int(row[5] or 0),
        creator_id=row[6],
        campaign_id=row[7],
        self_referral=bool(row[8]),
        method=row[9],
    )


def ledger_line(row: Sequence[Any]) -> LedgerLine:
    """A LedgerLine from (order_id, creator, campaign, kind, amount)."""
    return LedgerLine(int(row[1]), row[2], str(row[3]), int(row[4]))
