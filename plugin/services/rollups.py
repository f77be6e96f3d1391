"""Keeping the daily metric rollups (plugin.models.metrics) up to date, in the writers' own
transactions.

- Clicks: the flush calls `add_click_batch` once per batch with the rows it inserted: one
  upsert adds the clicks per (shop, local day, link) cell and returns each cell's visitor
  sketch (the upsert holds the row lock until commit, so concurrent flushes cannot lose each
  other's registers); only the sketches that gained a register are written back.
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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    cast,
    event,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.domain import metric_cells as cells_of
from plugin.domain.metric_cells import Cells, LedgerLine, OrderState
from plugin.models import (
    Agreement,
    Attribution,
    Click,
    ClickDay,
    LedgerEntry,
    MetricState,
    Order,
    OrderContribution,
    OrderDay,
    ReferralLink,
    Refund,
    Shop,
)
from plugin.services.rollup_cohorts import customer_key, refresh_customers


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


def lock_shops_shared(connection: Connection, shop_ids: Iterable[int]) -> None:
    """Writers of a shop's rollups share this lock; a rebuild chunk holds it exclusively."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's single writer already serialises a rebuild with everything else
    for shop_id in sorted(set(shop_ids)):
        connection.execute(
            text("SELECT pg_advisory_xact_lock_shared(:namespace, :shop)"),
            {"namespace": LOCK_NAMESPACE, "shop": shop_id},
        )


def lock_shop_exclusive(connection: Connection, shop_id: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :shop)"),
            {"namespace": LOCK_NAMESPACE, "shop": shop_id},
        )


# --- clicks ---------------------------------------------------------------------------------

# Clicks still reach yesterday's cells (a spool flushed just after midnight); older days are
# settled, and plugin.services.visitor_blocks merges them ahead of the reads.
SETTLE_DAYS = 2


def settled_before(now: datetime, zone: ZoneInfo) -> date:
    """Shop-local days before this one are settled."""
    return now.astimezone(zone).date() - timedelta(days=SETTLE_DAYS - 1)


def bump_sketch_generation(connection: Connection, shop_ids: Iterable[int]) -> None:
    """Settled click cells of these shops changed: the visitor blocks made from them no longer
    count (plugin.models.VisitorBlock)."""
    ids = sorted(set(shop_ids))
    if ids:
        # An upsert, not an update: a compaction reading the generation while this transaction
        # is open must find a row this transaction holds, or it would not see the bump.
        connection.execute(_bump_generation(connection.dialect.name), [{"shop_id": i} for i in ids])


def ensure_metric_state(connection: Connection, shop_id: int) -> None:
    """The shop's MetricState row, created if missing (safe against a concurrent creator)."""
    connection.execute(
        _dialect_insert(connection.dialect.name)(MetricState.__table__)
        .values(shop_id=shop_id, sketch_generation=0)
        .on_conflict_do_nothing(index_elements=["shop_id"])
    )


@lru_cache(maxsize=4)
def _bump_generation(dialect: str) -> Any:
    table = MetricState.__table__
    statement = _dialect_insert(dialect)(table).values(sketch_generation=0)
    return statement.on_conflict_do_update(
        index_elements=["shop_id"],
        set_={"sketch_generation": table.c.sketch_generation + 1},
    )


@dataclass
class _ClickCell:
    creator_id: int
    clicks: int = 0
    registers: dict[int, int] = field(default_factory=dict)


def _link_owners(connection: Connection, link_ids: set[int]) -> dict[int, tuple[int, int, str]]:
    """link id -> (shop id, creator id, shop timezone), read from the rows themselves (one
    small indexed query per batch; a cache would go stale when a shop changes timezone). On
    PostgreSQL the same statement takes the shops' shared rollup lock."""
    statement = (
        select(ReferralLink.id, ReferralLink.shop_id, ReferralLink.creator_id, Shop.timezone)
        .join(Shop, Shop.id == ReferralLink.shop_id)
        .where(ReferralLink.id.in_(sorted(link_ids)))
    )
    if connection.dialect.name == "postgresql":
        statement = statement.add_columns(
            func.pg_advisory_xact_lock_shared(LOCK_NAMESPACE, cast(ReferralLink.shop_id, Integer))
        )
    return {row[0]: (row[1], row[2], row[3] or "UTC") for row in connection.execute(statement)}


# PostgreSQL appends the batch's sparse entries to the cell's sketch in the upsert itself (a
# sketch may carry duplicate and unsorted entries after its head: plugin.domain.hll), so a flush
# is one statement and never reads a sketch back; a cell grown past NORMALIZE_ABOVE is rewritten
# in canonical form by the flush that grew it, under the row lock its upsert holds.
_PG_APPEND_SKETCH = (
    " ON CONFLICT (shop_id, day, link_id)"
    " DO UPDATE SET clicks = metric_click_days.clicks + excluded.clicks,"
    " visitors_sketch = CASE"
    " WHEN length(excluded.visitors_sketch) <= 1 THEN metric_click_days.visitors_sketch"
    " WHEN length(metric_click_days.visitors_sketch) <= 1 THEN excluded.visitors_sketch"
    " ELSE metric_click_days.visitors_sketch || substring(excluded.visitors_sketch FROM 2) END"
    " RETURNING shop_id, day, link_id, length(visitors_sketch)"
)
_PG_CLICK_UPSERT = text(
    "INSERT INTO metric_click_days (shop_id, day, link_id, creator_id, clicks, visitors_sketch)"  # noqa: S608
    " SELECT * FROM unnest(CAST(:shop_id AS bigint[]), CAST(:day AS date[]),"
    " CAST(:link_id AS bigint[]), CAST(:creator_id AS bigint[]), CAST(:clicks AS bigint[]),"
    " CAST(:sketch AS bytea[]))" + _PG_APPEND_SKETCH
)
NORMALIZE_ABOVE = 2 * hll.REGISTERS
_PG_OVERSIZED = text(
    "SELECT m.shop_id, m.day, m.link_id, m.visitors_sketch FROM metric_click_days AS m"
    " JOIN unnest(CAST(:shop_id AS bigint[]), CAST(:day AS date[]), CAST(:link_id AS bigint[]))"
    " AS v(shop_id, day, link_id)"
    " ON m.shop_id = v.shop_id AND m.day = v.day AND m.link_id = v.link_id"
)
_SQLITE_CLICK_UPSERT = text(
    "INSERT INTO metric_click_days (shop_id, day, link_id, creator_id, clicks, visitors_sketch)"
    " VALUES (:shop_id, :day, :link_id, :creator_id, :clicks, :sketch)"
    " ON CONFLICT (shop_id, day, link_id)"
    " DO UPDATE SET clicks = metric_click_days.clicks + excluded.clicks"
    " RETURNING shop_id, day, link_id, visitors_sketch"
)
_SET_SKETCH = text(
    "UPDATE metric_click_days SET visitors_sketch = :sketch"
    " WHERE shop_id = :shop_id AND day = :day AND link_id = :link_id"
)
_PG_SET_SKETCHES = text(
    "UPDATE metric_click_days AS m SET visitors_sketch = v.sketch"
    " FROM unnest(CAST(:shop_id AS bigint[]), CAST(:day AS date[]), CAST(:link_id AS bigint[]),"
    " CAST(:sketch AS bytea[])) AS v(shop_id, day, link_id, sketch)"
    " WHERE m.shop_id = v.shop_id AND m.day = v.day AND m.link_id = v.link_id"
)


# link id -> (shop id, creator id, shop timezone) of the links this process has flushed clicks
# for. Only a hint: the PostgreSQL upsert checks each against the rows (a shop may change its
# timezone) and the cells it could not confirm go the slow way, which refreshes the hint.
_OWNERS: dict[int, tuple[int, int, str]] = {}
_OWNERS_MAX = 50_000

_PG_CLICK_UPSERT_CHECKED = text(
    "WITH v AS MATERIALIZED (SELECT v.* FROM unnest(CAST(:shop_id AS bigint[]),"  # noqa: S608
    " CAST(:day AS date[]), CAST(:link_id AS bigint[]), CAST(:creator_id AS bigint[]),"
    " CAST(:clicks AS bigint[]), CAST(:sketch AS bytea[]), CAST(:timezone AS text[]))"
    " AS v(shop_id, day, link_id, creator_id, clicks, sketch, timezone)"
    " JOIN referral_links AS l ON l.id = v.link_id AND l.shop_id = v.shop_id"
    " AND l.creator_id = v.creator_id"
    " JOIN shops AS s ON s.id = v.shop_id AND coalesce(s.timezone, 'UTC') = v.timezone),"
    # The shops' shared rollup lock, taken before any cell is touched (lock_shops_shared).
    " locked AS MATERIALIZED (SELECT shop_id,"
    " CAST(pg_advisory_xact_lock_shared(:namespace, CAST(shop_id AS integer)) AS text) AS done"
    " FROM (SELECT DISTINCT shop_id FROM v ORDER BY shop_id) AS shops_of_batch)"
    " INSERT INTO metric_click_days (shop_id, day, link_id, creator_id, clicks, visitors_sketch)"
    " SELECT v.shop_id, v.day, v.link_id, v.creator_id, v.clicks, v.sketch"
    " FROM v JOIN locked ON locked.shop_id = v.shop_id"
    " ORDER BY v.shop_id, v.day, v.link_id" + _PG_APPEND_SKETCH
)


def add_click_batch(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add newly stored clicks (each with link_id, occurred_at, visitor_hash) to their cells.

    On PostgreSQL, clicks of links seen before take one statement: their owners come from
    `_OWNERS` and the upsert itself checks them and takes the shop's lock; the others (and any
    the check rejected) read their owners first."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        hinted = [row for row in rows if int(row["link_id"]) in _OWNERS]
        if hinted:
            rows = [row for row in rows if int(row["link_id"]) not in _OWNERS]
            rows += _add_hinted_clicks(connection, hinted)
    if not rows:
        return
    owners = _link_owners(connection, {int(row["link_id"]) for row in rows})
    if len(_OWNERS) + len(owners) > _OWNERS_MAX:
        _OWNERS.clear()
    _OWNERS.update(owners)
    cells = _click_cells(connection, rows, owners)
    keys = sorted(cells)  # one lock order for every flush: no deadlock between two of them
    if connection.dialect.name == "postgresql":
        _add_click_cells_postgresql(connection, keys, cells)
    elif keys:
        _add_click_cells_sqlite(connection, keys, cells)


def _add_hinted_clicks(
    connection: Connection, rows: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Upsert the cells of clicks whose owners `_OWNERS` knows; the rows of cells the upsert
    could not confirm (and their links' hints dropped) are returned."""
    hints = {int(row["link_id"]): _OWNERS[int(row["link_id"])] for row in rows}
    cells = _click_cells(connection, rows, hints)
    keys = sorted(cells)
    timezones = {shop: timezone for shop, _creator, timezone in hints.values()}
    grown = connection.execute(
        _PG_CLICK_UPSERT_CHECKED,
        {
            "namespace": LOCK_NAMESPACE,
            "timezone": [timezones[k[0]] for k in keys],
            **_cell_columns(keys, cells),
        },
    ).all()
    written = {(row[0], row[1], row[2]) for row in grown}
    rejected = {link for shop, day, link in keys if (shop, day, link) not in written}
    for link in rejected:
        _OWNERS.pop(link, None)
    _normalize_oversized(connection, grown)
    return [row for row in rows if int(row["link_id"]) in rejected]


def _click_cells(
    connection: Connection,
    rows: Sequence[Mapping[str, Any]],
    owners: Mapping[int, tuple[int, int, str]],
) -> dict[tuple[int, date, int], _ClickCell]:
    """The batch's clicks per (shop, shop-local day, link) cell; a batch reaching settled days
    bumps the shop's visitor-block generation."""
    cells: dict[tuple[int, date, int], _ClickCell] = {}
    timezones: dict[int, str] = {}
    for row in rows:
        owner = owners.get(int(row["link_id"]))
        if owner is None:
            continue  # the link is gone, and its clicks with it
        shop_id, creator_id, timezone = owner
        timezones[shop_id] = timezone
        day = row["occurred_at"].astimezone(zone_named(timezone)).date()
        key = (shop_id, day, int(row["link_id"]))
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _ClickCell(creator_id)
        cell.clicks += 1
        if row["visitor_hash"]:
            index, rank = hll.register(row["visitor_hash"])
            if rank > cell.registers.get(index, 0):
                cell.registers[index] = rank
    now = datetime.now(UTC)
    settled = {shop: settled_before(now, zone_named(name)) for shop, name in timezones.items()}
    bump_sketch_generation(connection, {shop for shop, day, _ in cells if day < settled[shop]})
    return cells


def _cell_columns(
    keys: list[tuple[int, date, int]], cells: dict[tuple[int, date, int], _ClickCell]
) -> dict[str, list[Any]]:
    return {
        "shop_id": [k[0] for k in keys],
        "day": [k[1] for k in keys],
        "link_id": [k[2] for k in keys],
        "creator_id": [cells[k].creator_id for k in keys],
        "clicks": [cells[k].clicks for k in keys],
        "sketch": [hll.encode_sparse(cells[k].registers) for k in keys],
    }


def _add_click_cells_postgresql(
    connection: Connection,
    keys: list[tuple[int, date, int]],
    cells: dict[tuple[int, date, int], _ClickCell],
) -> None:
    if keys:
        grown = connection.execute(_PG_CLICK_UPSERT, _cell_columns(keys, cells)).all()
        _normalize_oversized(connection, grown)


def _normalize_oversized(connection: Connection, grown: Sequence[Any]) -> None:
    """Rewrite canonical the sketches of (shop, day, link, sketch length) cells past
    NORMALIZE_ABOVE (their rows are locked by this transaction's upsert)."""
    oversized = [row[:3] for row in grown if row[3] > NORMALIZE_ABOVE]
    if not oversized:
        return
    names = ("shop_id", "day", "link_id")
    found = connection.execute(
        _PG_OVERSIZED, {name: [row[n] for row in oversized] for n, name in enumerate(names)}
    ).all()
    canonical = [
        {"shop_id": shop_id, "day": day, "link_id": link_id, "sketch": hll.normalize(sketch)}
        for shop_id, day, link_id, sketch in found
    ]
    connection.execute(
        _PG_SET_SKETCHES, {name: [row[name] for row in canonical] for name in canonical[0]}
    )


def _add_click_cells_sqlite(
    connection: Connection,
    keys: list[tuple[int, date, int]],
    cells: dict[tuple[int, date, int], _ClickCell],
) -> None:
    """SQLite cannot append to a blob: the sketch is read back, merged and written."""
    for k in keys:
        returned = connection.execute(
            _SQLITE_CLICK_UPSERT,
            {
                "shop_id": k[0],
                "day": k[1],
                "link_id": k[2],
                "creator_id": cells[k].creator_id,
                "clicks": cells[k].clicks,
                "sketch": hll.encode(cells[k].registers),
            },
        ).one()
        registers = hll.decode(returned[3])
        if hll.merge(registers, cells[k].registers):
            connection.execute(
                _SET_SKETCH,
                {"shop_id": k[0], "day": k[1], "link_id": k[2], "sketch": hll.encode(registers)},
            )


def recompute_click_cells(
    session: Session, shop_id: int, clicks: Iterable[tuple[datetime, int]]
) -> None:
    """Recount the cells of these (occurred_at, link id) clicks from the raw clicks, e.g. after
    their visitor hashes were redacted (a HyperLogLog cannot forget a visitor)."""
    session.flush()
    connection = session.connection()
    lock_shops_shared(connection, [shop_id])
    zone = zone_named(session.scalar(select(Shop.timezone).where(Shop.id == shop_id)))
    keys = {(moment.astimezone(zone).date(), link_id) for moment, link_id in clicks}
    if keys:
        bump_sketch_generation(connection, [shop_id])
    for day, link_id in sorted(keys):
        # Lock the cell before reading the clicks: a flush that already added to it has
        # committed by then, and one that has not yet will add its clicks after us.
        locked = session.execute(
            select(ClickDay.clicks)
            .where(ClickDay.shop_id == shop_id, ClickDay.day == day, ClickDay.link_id == link_id)
            .with_for_update()
        ).first()
        if locked is None:
            continue
        start, end = day_bounds(day, zone)
        hashes = session.scalars(
            select(Click.visitor_hash).where(
                Click.shop_id == shop_id,
                Click.link_id == link_id,
                Click.occurred_at >= start,
                Click.occurred_at < end,
            )
        ).all()
        session.execute(
            ClickDay.__table__.update()
            .where(ClickDay.shop_id == shop_id, ClickDay.day == day, ClickDay.link_id == link_id)
            .values(clicks=len(hashes), visitors_sketch=hll.encode(hll.registers_of(hashes)))
        )


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
    .where(Order.id.in_(bindparam("order_ids", expanding=True)))
)
LEDGER_LINES = (
    select(
        LedgerEntry.order_id,
        LedgerEntry.creator_id,
        func.coalesce(Agreement.campaign_id, Attribution.campaign_id),
        LedgerEntry.kind,
        LedgerEntry.amount_minor,
    )
    .outerjoin(Agreement, Agreement.id == LedgerEntry.agreement_id)
    .outerjoin(Attribution, Attribution.order_id == LedgerEntry.order_id)
)


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


PENDING = "tastemaker.rollups.pending_orders"


def refresh_order(session: Session, shop: Shop, order_id: int) -> None:
    """Bring the order's rollups up to date before this transaction commits.

    Only marks the order: `settle_orders` runs once per transaction, just before it commits
    (or before a metrics read in the same session), for every order marked, with a handful of
    statements in all. A worker draining 50 events in one transaction thus pays for its
    rollups once, not 50 times; and since the refresh recomputes from the state at commit, an
    event whose savepoint rolled back leaves nothing behind.
    """
    session.info.setdefault(PENDING, {})[order_id] = (shop.id, shop.timezone)


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    settle_orders(session)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def settle_orders(session: Session) -> None:
    """Move the rollups by what changed in each marked order's contribution since last time,
    and refresh the cohorts of the customers they count (and counted) for."""
    pending: dict[int, tuple[int, str | None]] | None = session.info.pop(PENDING, None)
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
    lines: dict[int, list[LedgerLine]] = {}
    for line in connection.execute(LEDGER_LINES.where(LedgerEntry.order_id.in_(order_ids))):
        lines.setdefault(int(line[0]), []).append(ledger_line(line))
    total: dict[Any, list[int]] = {}
    contributions = []
    customers: set[str] = set()
    for found in connection.execute(_ORDER_STATE, {"order_ids": order_ids}):
        order_id = int(found[14])
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
    add_order_cells(
        connection, shop_id, {key: tuple(vector) for key, vector in total.items() if any(vector)}
    )
    if contributions:
        connection.execute(upsert_contribution(connection.dialect.name), contributions)
    refresh_customers(connection, shop_id, zone, customers)


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
    if not delta:
        return
    connection.execute(
        _upsert_order_days(connection.dialect.name),
        [
            {
                "shop_id": shop_id,
                "day": day,
                "creator_id": creator,
                "campaign_id": campaign,
                **dict(zip(cells_of.MEASURES, vector, strict=True)),
            }
            for (day, creator, campaign), vector in sorted(delta.items())
        ],
    )


def _dialect_insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@lru_cache(maxsize=4)
def _upsert_order_days(dialect: str) -> Any:
    table = OrderDay.__table__
    statement = _dialect_insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=["shop_id", "day", "creator_id", "campaign_id"],
        set_={name: table.c[name] + statement.excluded[name] for name in cells_of.MEASURES},
    )


@lru_cache(maxsize=4)
def upsert_contribution(dialect: str) -> Any:
    statement = _dialect_insert(dialect)(OrderContribution.__table__)
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={"cells": statement.excluded.cells, "customer_key": statement.excluded.customer_key},
    )
