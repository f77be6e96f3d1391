"""Read models for the merchant dashboard and the creator page: a few queries per page, no loops
over all rows. Everything is filtered by shop_id; creator-scoped views also by creator_id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.models import (
    Attribution,
    Creator,
    DiscountCode,
    LedgerEntry,
    Order,
    Payout,
    ReferralLink,
)
from plugin.services.payouts import BatchSummary, CreatorBalance, batch_summaries, creator_balances

METHOD_LABELS = {
    "code": "Discount code",
    "click": "Link click",
    "landing": "Referral URL",
    "none": "Not attributed",
}


@dataclass(frozen=True)
class CreatorRow:
    creator: Creator
    codes: list[DiscountCode]
    links: list[ReferralLink]
    balance: CreatorBalance | None


@dataclass(frozen=True)
class AttributionRow:
    attribution: Attribution
    order: Order
    creator_handle: str | None
    commission_minor: int
    why: str
    checks: list[str]


@dataclass(frozen=True)
class PayoutRow:
    payout: Payout
    creator_handle: str
    recipient: str


@dataclass(frozen=True)
class BatchView:
    summary: BatchSummary
    payouts: list[PayoutRow] = field(default_factory=list)


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    running_minor: int
    order_number: str | None


def creator_rows(
    session: Session,
    shop_id: int,
    creator_id: int | None = None,
    *,
    creator_ids: Sequence[int] | None = None,
) -> list[CreatorRow]:
    """The shop's creators by handle with their codes, links and balances; only `creator_id`,
    or only `creator_ids` (in that order) when given."""
    if creator_ids is not None and not creator_ids:
        return []

    def only(column: Any) -> list[Any]:
        conditions = list(_only(column, creator_id))
        if creator_ids is not None:
            conditions.append(column.in_(creator_ids))
        return conditions

    creators = list(
        session.scalars(
            select(Creator)
            .where(Creator.shop_id == shop_id, *only(Creator.id))
            .order_by(Creator.handle)
        )
    )
    codes: dict[int, list[DiscountCode]] = defaultdict(list)
    for code in session.scalars(
        select(DiscountCode)
        .where(DiscountCode.shop_id == shop_id, *only(DiscountCode.creator_id))
        .order_by(DiscountCode.id)
    ):
        codes[code.creator_id].append(code)
    links: dict[int, list[ReferralLink]] = defaultdict(list)
    for link in session.scalars(
        select(ReferralLink)
        .where(ReferralLink.shop_id == shop_id, *only(ReferralLink.creator_id))
        .order_by(ReferralLink.id)
    ):
        links[link.creator_id].append(link)
    balances = creator_balances(session, shop_id, creator_id=creator_id)
    if creator_ids is not None:
        position = {cid: n for n, cid in enumerate(creator_ids)}
        creators.sort(key=lambda creator: position[creator.id])
    return [
        CreatorRow(c, codes.get(c.id, []), links.get(c.id, []), balances.get(c.id))
        for c in creators
    ]


def top_creator_ids(performances: Iterable[Any], limit: int) -> list[int]:
    """The `limit` creators with the most revenue over the period, then clicks, then handle
    (rows of plugin.services.metrics.creator_metrics): the dashboard's short list."""
    ranked = sorted(
        performances,
        key=lambda row: (-row.performance.revenue_minor, -row.performance.clicks, row.handle),
    )
    return [row.creator_id for row in ranked[:limit]]


def attribution_rows(
    session: Session, shop_id: int, *, creator_id: int | None = None, limit: int = 25
) -> list[AttributionRow]:
    rows = session.execute(
        select(Attribution, Order, Creator.handle)
        .join(Order, Order.id == Attribution.order_id)
        .outerjoin(Creator, Creator.id == Attribution.creator_id)
        .where(Attribution.shop_id == shop_id, *_only(Attribution.creator_id, creator_id))
        .order_by(Order.placed_at.desc(), Attribution.id.desc())
        .limit(limit)
    ).all()
    order_ids = [order.id for _, order, _ in rows]
    commission_query = (
        select(LedgerEntry.order_id, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.shop_id == shop_id, LedgerEntry.order_id.in_(order_ids))
        .group_by(LedgerEntry.order_id)
    )
    commissions = {
        order_id: int(total or 0) for order_id, total in session.execute(commission_query)
    }
    return [
        AttributionRow(
            attribution,
            order,
            handle,
            commissions.get(order.id, 0),
            *explain(attribution.method, attribution.evidence, attribution.self_referral),
        )
        for attribution, order, handle in rows
    ]


def explain(method: str, evidence: dict[str, Any], self_referral: bool) -> tuple[str, list[str]]:
    """A one-line reason and the checks behind it, from the attribution's evidence."""
    candidates = [c for c in evidence.get("candidates", []) if isinstance(c, dict)]
    chosen = next((c for c in candidates if c.get("verdict") == "chosen"), None)
    value = f" {chosen.get('value')}" if chosen and chosen.get("value") else ""
    reasons = {
        "code": f"Discount code{value} was used at checkout",
        "click": "The order carried the click id of a referral link visit",
        "landing": f"The customer landed from a referral URL ({value.strip() or 'referral'})",
        "none": "No creator code, click or referral URL matched",
    }
    why = reasons.get(method, str(evidence.get("summary") or METHOD_LABELS.get(method, method)))
    if self_referral:
        why += " — self-referral, so no commission"
    checks = []
    for candidate in candidates:
        line = f"{candidate.get('source', 'check')} {candidate.get('value', '')}".strip()
        verdict = candidate.get("verdict")
        if verdict:
            line += f": {verdict}"
        if candidate.get("reason"):
            line += f" ({candidate['reason']})"
        checks.append(line)
    return why, checks


def batch_views(session: Session, shop_id: int, limit: int = 6) -> list[BatchView]:
    summaries = batch_summaries(session, shop_id, limit=limit)
    keys = [summary.batch_key for summary in summaries]
    grouped: dict[str, list[PayoutRow]] = defaultdict(list)
    for payout, creator in session.execute(
        select(Payout, Creator)
        .join(Creator, Creator.id == Payout.creator_id)
        .where(Payout.shop_id == shop_id, Payout.batch_key.in_(keys))
        .order_by(Payout.id)
    ):
        recipient = creator.payout_email or creator.email or "no payout email"
        grouped[payout.batch_key].append(PayoutRow(payout, creator.handle, recipient))
    return [BatchView(summary, grouped.get(summary.batch_key, [])) for summary in summaries]


def creator_payouts(session: Session, shop_id: int, creator_id: int) -> list[Payout]:
    return list(
        session.scalars(
            select(Payout)
            .where(Payout.shop_id == shop_id, Payout.creator_id == creator_id)
            .order_by(Payout.created_at.desc(), Payout.id.desc())
        )
    )


def statement(
    session: Session, shop_id: int, creator_id: int, limit: int = 500
) -> list[StatementLine]:
    """The creator's ledger, oldest first, with a running total (newest `limit` lines)."""
    rows = session.execute(
        select(LedgerEntry, Order.order_number)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.shop_id == shop_id, LedgerEntry.creator_id == creator_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(limit)
    ).all()
    earlier = _total_before(session, shop_id, creator_id, rows[-1][0]) if len(rows) == limit else 0
    lines: list[StatementLine] = []
    running = earlier
    for entry, number in reversed(rows):
        running += entry.amount_minor
        lines.append(StatementLine(entry, running, number))
    return lines


def _total_before(session: Session, shop_id: int, creator_id: int, first: LedgerEntry) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.shop_id == shop_id,
            LedgerEntry.creator_id == creator_id,
            (LedgerEntry.created_at < first.created_at)
            | ((LedgerEntry.created_at == first.created_at) & (LedgerEntry.id < first.id)),
        )
    )
    return int(total or 0)


def recent_ledger(session: Session, shop_id: int, limit: int = 15) -> list[tuple[LedgerEntry, str]]:
    return [
        (entry, handle)
        for entry, handle in session.execute(
            select(LedgerEntry, Creator.handle)
            .join(Creator, Creator.id == LedgerEntry.creator_id)
            .where(LedgerEntry.shop_id == shop_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .limit(limit)
        )
    ]


def held_until(entries: list[StatementLine], now: datetime) -> datetime | None:
    """When the next held amount becomes available, for the creator page's hint."""
    upcoming = [
        line.entry.available_at
        for line in entries
        if line.entry.payout_id is None and line.entry.available_at > now
    ]
    return min(upcoming) if upcoming else None


def _only(column: Any, value: int | None) -> tuple[Any, ...]:
    return (column == value,) if value is not None else ()
