"""Keeping the click cells (plugin.models.ClickDay) up to date in the click flush's own
transaction, and recounting them after a redaction (see plugin.services.rollups for the whole
picture).

The flush calls `add_click_batch` once per batch with the rows it inserted. On PostgreSQL one
upsert adds the clicks per (shop, local day, link) cell and appends the batch's visitor entries
to the cell's sketch (never read back); for links this process has flushed before, the same
statement checks their owners and takes the shops' shared rollup lock. A batch reaching settled
days bumps the shop's visitor-block generation (plugin.services.visitor_blocks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, cast, func, select, text
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.models import Click, ClickDay, MetricState, ReferralLink, Shop
from plugin.services.rollup_base import (
    LOCK_NAMESPACE,
    day_bounds,
    dialect_insert,
    lock_shops_shared,
    zone_named,
)

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
        dialect_insert(connection.dialect.name)(MetricState.__table__)
        .values(shop_id=shop_id, sketch_generation=0)
        .on_conflict_do_nothing(index_elements=["shop_id"])
    )


@lru_cache(maxsize=4)
def _bump_generation(dialect: str) -> Any:
    table = MetricState.__table__
    statement = dialect_insert(dialect)(table).values(sketch_generation=0)
    return statement.on_conflict_do_update(
        index_elements=["shop_id"],
        set_={"sketch_generation": table.c.sketch_generation + 1},
    )


# Newly stored clicks as the flush hands them over, grouped per link and POSIX second: (link id,
# the second, how many, their visitor hashes). PostgreSQL groups a batch in the INSERT's own
# statement (plugin.services.click_flush), so Python handles a few groups per link, not every
# click; a day never changes inside a second, so a group always falls in one cell.
ClickGroup = tuple[int, float, int, Sequence[str]]


def group_clicks(clicks: Iterable[tuple[int, float, str]]) -> list[ClickGroup]:
    """(link id, POSIX time, visitor hash) per click, grouped as `add_click_batch` takes them."""
    groups: dict[tuple[int, int], tuple[list[int], list[str]]] = {}
    for link_id, moment, visitor in clicks:
        count, visitors = groups.setdefault((link_id, math.floor(moment)), ([0], []))
        count[0] += 1
        visitors.append(visitor)
    return [
        (link, second, count[0], visitors) for (link, second), (count, visitors) in groups.items()
    ]


class _LocalDays:
    """The shop-local day of each POSIX second, converted once per second seen: a flush batch
    spans a few seconds, so a batch of thousands of clicks costs a handful of zone conversions.
    Exact: UTC offsets are whole seconds, so a day never changes inside a second."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._days: dict[int, date] = {}

    def of(self, moment: float) -> date:
        second = math.floor(moment)
        day = self._days.get(second)
        if day is None:
            day = self._days[second] = datetime.fromtimestamp(second, self.zone).date()
        return day


@dataclass
class _ClickCell:
    creator_id: int
    clicks: int = 0
    visitors: list[str] = field(default_factory=list)  # hashed into the sketch in one go


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


def add_click_batch(connection: Connection, rows: Sequence[ClickGroup]) -> None:
    """Add newly stored clicks (`ClickGroup`s) to their cells, per (shop, local day, link).

    On PostgreSQL, clicks of links seen before take one statement: their owners come from
    `_OWNERS` and the upsert itself checks them and takes the shop's lock; the others (and any
    the check rejected) read their owners first."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        hinted = [row for row in rows if row[0] in _OWNERS]
        if hinted:
            rows = [row for row in rows if row[0] not in _OWNERS]
            rows += _add_hinted_clicks(connection, hinted)
    if not rows:
        return
    owners = _link_owners(connection, {row[0] for row in rows})
    if len(_OWNERS) + len(owners) > _OWNERS_MAX:
        _OWNERS.clear()
    _OWNERS.update(owners)
    cells = _click_cells(rows, owners)
    keys = sorted(cells)  # one lock order for every flush: no deadlock between two of them
    if connection.dialect.name == "postgresql":
        _add_click_cells_postgresql(connection, keys, cells)
    elif keys:
        _add_click_cells_sqlite(connection, keys, cells)
    _bump_settled(connection, keys, {shop: zone for shop, _creator, zone in owners.values()})


def _add_hinted_clicks(connection: Connection, rows: Sequence[ClickGroup]) -> list[ClickGroup]:
    """Upsert the cells of clicks whose owners `_OWNERS` knows; the rows of cells the upsert
    could not confirm (and their links' hints dropped) are returned."""
    hints = {row[0]: _OWNERS[row[0]] for row in rows}
    cells = _click_cells(rows, hints)
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
    _bump_settled(connection, sorted(written), timezones)
    return [row for row in rows if row[0] in rejected]


def _click_cells(
    rows: Sequence[ClickGroup], owners: Mapping[int, tuple[int, int, str]]
) -> dict[tuple[int, date, int], _ClickCell]:
    """The batch's clicks per (shop, shop-local day, link) cell."""
    cells: dict[tuple[int, date, int], _ClickCell] = {}
    days: dict[str, _LocalDays] = {}
    for link_id, moment, clicks, visitors in rows:
        owner = owners.get(link_id)
        if owner is None:
            continue  # the link is gone, and its clicks with it
        shop_id, creator_id, timezone = owner
        local = days.get(timezone) or days.setdefault(timezone, _LocalDays(zone_named(timezone)))
        key = (shop_id, local.of(moment), link_id)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _ClickCell(creator_id)
        cell.clicks += clicks
        cell.visitors.extend(visitors)  # the empty hash (no visitor) is skipped when hashed
    return cells


def _bump_settled(
    connection: Connection, keys: Sequence[tuple[int, date, int]], timezones: Mapping[int, str]
) -> None:
    """A batch that reached settled days bumps its shop's visitor-block generation. Called once
    the shop's rollup lock is held (the upsert or the owners' query took it): bumping first
    would hold the MetricState row a rebuild chunk (holding the lock) waits for, a deadlock."""
    now = datetime.now(UTC)
    settled = {shop: settled_before(now, zone_named(name)) for shop, name in timezones.items()}
    bump_sketch_generation(connection, {shop for shop, day, _ in keys if day < settled[shop]})


def _cell_columns(
    keys: list[tuple[int, date, int]], cells: dict[tuple[int, date, int], _ClickCell]
) -> dict[str, list[Any]]:
    return {
        "shop_id": [k[0] for k in keys],
        "day": [k[1] for k in keys],
        "link_id": [k[2] for k in keys],
        "creator_id": [cells[k].creator_id for k in keys],
        "clicks": [cells[k].clicks for k in keys],
        "sketch": [hll.sparse_of(cells[k].visitors) for k in keys],
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
        batch = hll.registers_of(cells[k].visitors)
        returned = connection.execute(
            _SQLITE_CLICK_UPSERT,
            {
                "shop_id": k[0],
                "day": k[1],
                "link_id": k[2],
                "creator_id": cells[k].creator_id,
                "clicks": cells[k].clicks,
                "sketch": hll.encode(batch),
            },
        ).one()
        registers = hll.decode(returned[3])
        if hll.merge(registers, batch):
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
