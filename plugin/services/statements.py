"""The creator's fair-pay statement, built from the same ledger rows the merchant's dashboard
sums: each entry with its reason in plain words, the rate and why, where the money is (held until
a date, available, in a payout, paid), payouts with their references, and a running balance of
what the shop owes the creator (earned minus paid). Grouped by calendar month (shop timezone).

The creator page, its CSV and printable statement, and the merchant's view of a creator's
statement all render this one read model, so their numbers cannot differ.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain import statement as words
from plugin.models import Agreement, Attribution, Creator, LedgerEntry, Order, Payout, Refund, Shop
from plugin.services.notifications import PAYOUT_METHOD_LABELS
from plugin.services.overview import explain

MAX_ENTRIES = 5000


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str
    label: str
    order_number: str | None
    what: str
    why: str
    rate_bps: int | None
    base_minor: int | None
    amount_minor: int
    currency: str
    # held | available | in_payout | paid (entries); payout (a payment to the creator)
    status: str
    release_at: datetime | None
    payout_reference: str | None
    balance_minor: int


@dataclass
class Period:
    key: str
    label: str
    opening_minor: int
    closing_minor: int = 0
    earned_minor: int = 0
    reversed_minor: int = 0
    fees_and_adjustments_minor: int = 0
    paid_minor: int = 0
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Totals:
    held_minor: int
    available_minor: int
    in_payout_minor: int
    paid_minor: int

    @property
    def owed_minor(self) -> int:
        return self.held_minor + self.available_minor + self.in_payout_minor


@dataclass(frozen=True)
class Statement:
    currency: str
    periods: list[Period]  # newest first
    totals: Totals
    next_release: datetime | None

    def period(self, key: str | None) -> Period | None:
        return next((p for p in self.periods if p.key == key), None)


def shop_tz(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def build(session: Session, shop: Shop, creator: Creator, now: datetime) -> Statement:
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.shop_id == shop.id, LedgerEntry.creator_id == creator.id)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
            .limit(MAX_ENTRIES)
        )
    )
    payouts = {
        p.id: p
        for p in session.scalars(
            select(Payout).where(Payout.shop_id == shop.id, Payout.creator_id == creator.id)
        )
    }
    context = _Context.load(session, shop, entries)
    method = PAYOUT_METHOD_LABELS.get(creator.payout_method, "")
    raw: list[tuple[datetime, int, Line]] = []
    sums: dict[str, int] = defaultdict(int)
    for entry in entries:
        status, reference = _where(entry, payouts, now)
        sums[status] += entry.amount_minor
        described, order_number = context.describe(entry)
        raw.append(
            (
                entry.created_at,
                entry.id,
                Line(
                    at=entry.created_at,
                    kind=entry.kind,
                    label=words.KIND_LABELS.get(entry.kind, entry.kind),
                    order_number=order_number,
                    what=described.what,
                    why=described.why,
                    rate_bps=entry.rate_bps,
                    base_minor=entry.base_minor,
                    amount_minor=entry.amount_minor,
                    currency=entry.currency,
                    status=status,
                    release_at=entry.available_at if status == "held" else None,
                    payout_reference=reference,
                    balance_minor=0,
                ),
            )
        )
    for payout in payouts.values():
        if payout.status != "paid" or payout.paid_at is None:
            continue
        reference = payout.reference
        described = words.describe_payout(reference, method, payout.paid_at)
        line = Line(
            at=payout.paid_at,
            kind="payout",
            label=words.KIND_LABELS["payout"],
            order_number=None,
            what=described.what,
            why=described.why,
            rate_bps=None,
            base_minor=None,
            amount_minor=-payout.amount_minor,
            currency=payout.currency,
            status="payout",
            release_at=None,
            payout_reference=reference,
            balance_minor=0,
        )
        raw.append((payout.paid_at, 1 << 62, line))
    raw.sort(key=lambda item: (item[0], item[1]))
    periods = _periods([line for _, _, line in raw], shop)
    held = [e.available_at for e in entries if e.payout_id is None and e.available_at > now]
    return Statement(
        currency=shop.currency,
        periods=list(reversed(periods)),
        totals=Totals(sums["held"], sums["available"], sums["in_payout"], sums["paid"]),
        next_release=min(held) if held else None,
    )


def _where(entry: LedgerEntry, payouts: dict[int, Payout], now: datetime) -> tuple[str, str | None]:
    if entry.payout_id is not None and entry.payout_id in payouts:
        payout = payouts[entry.payout_id]
        reference = payout.reference
        return ("paid" if payout.status == "paid" else "in_payout"), reference
    return ("held" if entry.available_at > now else "available"), None


def _periods(lines: list[Line], shop: Shop) -> list[Period]:
    tz = shop_tz(shop)
    periods: list[Period] = []
    balance = 0
    for line in lines:
        key = words.period_key(line.at, tz)
        if not periods or periods[-1].key != key:
            periods.append(Period(key, words.period_label(key), opening_minor=balance))
        period = periods[-1]
        balance += line.amount_minor
        period.lines.append(_with_balance(line, balance))
        if line.kind in ("commission", "bonus"):
            period.earned_minor += line.amount_minor
        elif line.kind == "reversal":
            period.reversed_minor += line.amount_minor
        elif line.kind == "payout":
            period.paid_minor += -line.amount_minor
        else:
            period.fees_and_adjustments_minor += line.amount_minor
        period.closing_minor = balance
    return periods


def _with_balance(line: Line, balance: int) -> Line:
    from dataclasses import replace

    return replace(line, balance_minor=balance)


@dataclass
class _Context:
    orders: dict[int, Order]
    attributions: dict[int, Attribution]
    refunds: dict[str, Refund]
    agreements: dict[int, Agreement]

    @classmethod
    def load(cls, session: Session, shop: Shop, entries: list[LedgerEntry]) -> _Context:
        order_ids = {e.order_id for e in entries if e.order_id is not None}
        agreement_ids = {e.agreement_id for e in entries if e.agreement_id is not None}
        orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(order_ids)))}
        attributions = {
            a.order_id: a
            for a in session.scalars(select(Attribution).where(Attribution.order_id.in_(order_ids)))
        }
        platform_ids = {o.platform_order_id for o in orders.values()}
        refunds = {
            f"reversal:{r.platform_order_id}:refund:{r.platform_refund_id}": r
            for r in session.scalars(
                select(Refund).where(
                    Refund.shop_id == shop.id, Refund.platform_order_id.in_(platform_ids)
                )
            )
        }
        agreements = {
            a.id: a
            for a in session.scalars(select(Agreement).where(Agreement.id.in_(agreement_ids)))
        }
        return cls(orders, attributions, refunds, agreements)

    def describe(self, entry: LedgerEntry) -> tuple[words.Described, str | None]:
        order = self.orders.get(entry.order_id) if entry.order_id is not None else None
        number = (order.order_number or str(order.platform_order_id)) if order else None
        label = number or "(removed)"
        if entry.kind == "commission":
            attribution = self.attributions.get(entry.order_id or 0)
            why = (
                explain(attribution.method, attribution.evidence, attribution.self_referral)[0]
                if attribution
                else "The order was credited to you"
            )
            return words.describe_commission(
                label, entry.base_minor, entry.rate_bps, entry.currency, why
            ), number
        if entry.kind == "bonus":
            agreement = self.agreements.get(entry.agreement_id or 0)
            tiers = agreement.bonus_tiers if agreement else []
            return words.describe_bonus(
                label, entry.base_minor, entry.rate_bps, entry.currency, tiers
            ), number
        if entry.kind == "reversal":
            refund = self.refunds.get(entry.idempotency_key)
            return words.describe_reversal(
                label,
                entry.reason,
                refund.item_amount_minor if refund else None,
                refund.total_amount_minor if refund else None,
                refund.refunded_at if refund else None,
                entry.currency,
            ), number
        if entry.kind == "adjustment" and entry.order_id is not None:
            # A refund's reversal given back: the whole earning was reversed in one entry.
            return words.describe_given_back(label), number
        return words.describe_other(entry.kind, entry.reason), number
