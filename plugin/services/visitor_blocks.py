"""Visitor blocks: settled click cells merged ahead of the reads that span many days.

A period's unique visitors are the merge of one HyperLogLog sketch per link and day: at a busy
shop a year is tens of thousands of cells, too many rows to read per request. Once days are
settled (plugin.services.rollups.settled_before), `compact_shop` merges them into blocks of
8 and 64 days aligned on the day number, per link and for the whole shop (link 0), and single
days for the whole shop (the daily series). `cover` splits a period into the largest valid
blocks it contains and the days left to read from the cells, so a 365-day period reads a few
dozen rows per link instead of one per day, and its whole-shop figures a few dozen in all.

Blocks are an exact cache: every block carries the shop's `MetricState.sketch_generation`, and
whatever changes settled cells bumps it (a click arriving for a settled day, a redaction, a
rebuild), after which the old blocks are ignored until the next compaction (the daily job, and
the end of `tastemaker metrics rebuild`). The compaction reads the generation before the
cells, so a change committed while it runs leaves its blocks stale, never wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.models import ClickDay, MetricState, Shop, VisitorBlock
from plugin.services import rollups
from plugin.services.rollups import zone_named

LINK_SPANS = (64, 8)
SHOP_SPANS = (64, 8, 1)
SHOP_WIDE = 0
COMPACT_NAMESPACE = 0x544D42  # "TMB": one compaction per shop at a time

Transaction = Callable[[], AbstractContextManager[Session]]
DayRange = tuple[date, date]  # [first, last)
Block = tuple[int, date]  # (span, first day)


def settled_before(now: datetime, zone_name: str | None) -> date:
    """Days before this one (shop-local) are settled: blocks may hold them."""
    return rollups.settled_before(now, zone_named(zone_name))


def registers(sketches: Iterable[bytes]) -> np.ndarray:
    """The merged registers (one uint8 per register) of sketches."""
    dense = np.zeros(hll.REGISTERS, dtype=np.uint8)
    sparse: list[bytes] = []
    for sketch in sketches:
        head, entries = _split(sketch)
        if head is not None:
            np.maximum(dense, head, out=dense)
        if entries:
            sparse.append(entries)
    if sparse:
        packed = np.frombuffer(b"".join(sparse), dtype="<u4")
        np.maximum.at(dense, packed >> 8, (packed & 0xFF).astype(np.uint8))
    return dense


def _split(sketch: bytes) -> tuple[np.ndarray | None, bytes]:
    """(dense registers or None, the sparse entries) of an encoded sketch (plugin.domain.hll)."""
    if sketch[:1] == hll.DENSE:
        end = 1 + hll.REGISTERS
        return np.frombuffer(sketch, dtype=np.uint8, count=hll.REGISTERS, offset=1), sketch[end:]
    return None, sketch[1:]


def estimates(sketches: Iterable[tuple[Any, bytes]]) -> dict[Any, int]:
    """Unique visitors per group of (group, sketch) pairs, merged in one numpy pass over all
    groups (a per-creator answer has hundreds of groups)."""
    groups, merged = merge_groups(sketches)
    # One bincount per group's row: measured faster than any single pass over all groups
    # (np.nonzero plus a combined bincount, or a uint16 group key), which all copy more.
    return {
        group: hll.estimate(np.bincount(merged[row], minlength=hll.MAX_RANK + 1).tolist())
        for group, row in groups.items()
    }


def merge_groups(sketches: Iterable[tuple[Any, bytes]]) -> tuple[dict[Any, int], np.ndarray]:
    """({group: row}, registers with one row per group) of (group, sketch) pairs."""
    groups: dict[Any, int] = {}
    sparse: list[bytes] = []
    owners: list[int] = []
    sizes: list[int] = []
    dense: list[tuple[int, np.ndarray]] = []
    for group, sketch in sketches:
        row = groups.setdefault(group, len(groups))
        head, entries = _split(sketch)
        if head is not None:
            dense.append((row, head))
        if entries:
            sparse.append(entries)
            owners.append(row)
            sizes.append(len(entries) // 4)
    merged = np.zeros((len(groups), hll.REGISTERS), dtype=np.uint8)
    for row, head in dense:
        np.maximum(merged[row], head, out=merged[row])
    if sparse:
        packed = np.frombuffer(b"".join(sparse), dtype="<u4")
        flat = np.repeat(np.asarray(owners, dtype=np.int64) * hll.REGISTERS, sizes) + (packed >> 8)
        np.maximum.at(merged.reshape(-1), flat, (packed & 0xFF).astype(np.uint8))
    return groups, merged


def estimate(dense: np.ndarray) -> int:
    return hll.estimate(np.bincount(dense, minlength=hll.MAX_RANK + 1).tolist())


def encode(dense: np.ndarray) -> bytes:
    """The sketch encoding of plugin.domain.hll, from merged registers."""
    present = np.flatnonzero(dense)
    if len(present) > hll.DENSE_ABOVE:
        return hll.DENSE + dense.tobytes()
    if not len(present):
        return b""
    packed = (present.astype("<u4") << 8) | dense[present].astype("<u4")
    return hll.SPARSE + packed.astype("<u4").tobytes()


def valid_blocks(shop_id: int) -> Any:
    """The condition that a VisitorBlock row of the shop is of its current generation."""
    generation = (
        select(MetricState.sketch_generation)
        .where(MetricState.shop_id == shop_id)
        .scalar_subquery()
    )
    return and_(VisitorBlock.shop_id == shop_id, VisitorBlock.generation == generation)


def cover(
    session: Session, shop_id: int, first: date, last: date, spans: Sequence[int]
) -> tuple[list[Block], list[DayRange]]:
    """The valid blocks of these spans (largest first) that tile [first, last), and the day
    ranges no block covers."""
    available: set[Block] = set()
    if spans:
        available = {
            (int(span), day)
            for span, day in session.execute(
                select(VisitorBlock.span, VisitorBlock.first_day).where(
                    valid_blocks(shop_id),
                    VisitorBlock.link_id == SHOP_WIDE,
                    VisitorBlock.span.in_(spans),
                    VisitorBlock.first_day >= first,
                    VisitorBlock.first_day < last,
                )
            )
        }
    blocks: list[Block] = []
    uncovered: list[DayRange] = []
    day = first
    while day < last:
        for span in spans:
            if (span, day) in available and day + timedelta(days=span) <= last:
                blocks.append((span, day))
                day += timedelta(days=span)
                break
        else:
            following = day + timedelta(days=1)
            if uncovered and uncovered[-1][1] == day:
                uncovered[-1] = (uncovered[-1][0], following)
            else:
                uncovered.append((day, following))
            day = following
    return blocks, uncovered


def blocks_filter(blocks: Sequence[Block]) -> Any:
    return or_(
        *(and_(VisitorBlock.span == span, VisitorBlock.first_day == day) for span, day in blocks)
    )


def days_filter(ranges: Sequence[DayRange]) -> Any:
    return or_(*(and_(ClickDay.day >= low, ClickDay.day < high) for low, high in ranges))


# --- compaction ---------------------------------------------------------------------------


def compact(transaction: Transaction, shop_id: int, now: datetime) -> int:
    """Make the shop's missing blocks (the daily job, and the end of a rebuild)."""
    with transaction() as session:
        # Committed before the compaction reads the generation, so that a late click's bump
        # always lands on a row the compaction then sees (rollups.bump_sketch_generation).
        if session.get(Shop, shop_id) is None:
            return 0
        rollups.ensure_metric_state(session.connection(), shop_id)
    with transaction() as session:
        return compact_shop(session, shop_id, now)


def compact_shop(session: Session, shop_id: int, now: datetime) -> int:
    """Make the missing blocks of the shop's settled days; the number of blocks made."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :shop)"),
            {"namespace": COMPACT_NAMESPACE, "shop": shop_id},
        )
    found = session.execute(
        select(MetricState.sketch_generation, Shop.timezone)
        .join(Shop, Shop.id == MetricState.shop_id)
        .where(MetricState.shop_id == shop_id)
    ).first()
    if found is None:
        return 0
    generation, zone_name = int(found[0] or 0), found[1]
    session.execute(
        delete(VisitorBlock).where(
            VisitorBlock.shop_id == shop_id, VisitorBlock.generation != generation
        )
    )
    horizon = settled_before(now, zone_name)
    first_cell = session.scalar(select(func.min(ClickDay.day)).where(ClickDay.shop_id == shop_id))
    if first_cell is None:
        return 0
    have = {
        (int(span), day)
        for span, day in session.execute(
            select(VisitorBlock.span, VisitorBlock.first_day).where(
                VisitorBlock.shop_id == shop_id, VisitorBlock.link_id == SHOP_WIDE
            )
        )
    }
    made = 0
    window = aligned(first_cell, LINK_SPANS[0])
    while window < horizon:
        end = min(window + timedelta(days=LINK_SPANS[0]), horizon)
        wanted = [
            (span, day)
            for span in SHOP_SPANS
            for day in _starts(window, end, span)
            if (span, day) not in have
        ]
        if wanted:
            made += _compact_window(session, shop_id, generation, window, end, wanted)
        window += timedelta(days=LINK_SPANS[0])
    return made


def aligned(day: date, span: int) -> date:
    """The first day of the span-day block holding `day`."""
    return date.fromordinal(day.toordinal() - day.toordinal() % span)


def _starts(first: date, last: date, span: int) -> list[date]:
    """Starts of the span-day blocks lying wholly within [first, last); first is aligned."""
    starts = []
    day = first
    while day + timedelta(days=span) <= last:
        starts.append(day)
        day += timedelta(days=span)
    return starts


def _compact_window(
    session: Session, shop_id: int, generation: int, first: date, last: date, wanted: list[Block]
) -> int:
    cells = session.execute(
        select(ClickDay.day, ClickDay.link_id, ClickDay.creator_id, ClickDay.clicks)
        .add_columns(ClickDay.visitors_sketch)
        .where(ClickDay.shop_id == shop_id, ClickDay.day >= first, ClickDay.day < last)
    ).all()
    by_day: dict[date, list[Any]] = defaultdict(list)
    for cell in cells:
        by_day[cell[0]].append(cell)
    rows = []
    for span, start in wanted:
        days = [start + timedelta(days=offset) for offset in range(span)]
        inside = [cell for day in days for cell in by_day.get(day, ())]
        by_link: dict[int, list[Any]] = defaultdict(list)
        for cell in inside:
            by_link[int(cell[1])].append(cell)
        merged = [np.zeros(hll.REGISTERS, dtype=np.uint8)]
        if span > 1:  # single days are kept for the whole shop only
            for link_id, link_cells in sorted(by_link.items()):
                dense = registers(cell[4] for cell in link_cells)
                merged.append(dense)
                rows.append(
                    _block(shop_id, span, start, link_id, int(link_cells[0][2]), generation)
                    | {
                        "clicks": sum(int(cell[3]) for cell in link_cells),
                        "visitors_sketch": encode(dense),
                    }
                )
        else:
            merged.append(registers(cell[4] for cell in inside))
        rows.append(
            _block(shop_id, span, start, SHOP_WIDE, 0, generation)
            | {
                "clicks": sum(int(cell[3]) for cell in inside),
                "visitors_sketch": encode(np.maximum.reduce(merged)),
            }
        )
    if rows:
        session.execute(insert(VisitorBlock), rows)
    return len(wanted)


def _block(
    shop_id: int, span: int, first_day: date, link_id: int, creator_id: int, generation: int
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "span": span,
        "first_day": first_day,
        "link_id": link_id,
        "creator_id": creator_id,
        "generation": generation,
    }
