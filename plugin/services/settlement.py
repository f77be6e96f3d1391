"""Settling an order in the ledger: its commission and bonus once paid, and their reversals.

State-driven and append-only: `settle_order` compares what the order's state calls for with the
entries already posted (by idempotency key, see `plugin.services.ledger`) and posts only what is
missing, so any arrival order of payloads and refunds ends in the same entries.

Rounding (`plugin.domain.commissions`): commission = rate x net item revenue, rounded half to
even once on the exact rational; each refund reverses its own share rounded down, and once the
order is cancelled, deleted or refunded in full one entry reverses the whole earning and the
refunds' reversals are given back, so the rows are a function of the facts, not of their order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.domain.commissions import (
    bonus_extra_rate_bps,
    commission_minor,
    month_bounds,
    refund_reversal,
    reverses_whole,
)
from plugin.models import Agreement, Attribution, LedgerEntry, Order, Refund, Shop, utcnow
from plugin.services.ledger import (
    bonus_key,
    commission_key,
    post_entry,
    refund_restored_key,
    refund_reversal_key,
    shop_timezone,
    whole_reversal_key,
)
from plugin.tenancy import Tenant


def settle_order(
    session: Session,
    shop: Shop,
    order: Order,
    attribution: Attribution | None,
    *,
    agreement: Agreement | None = None,
    now: datetime | None = None,
) -> None:
    """Bring the order's ledger entries up to date with everything known about the order.

    State-driven, so any arrival order of payloads and refunds ends in the same entries: the
    commission once the order is known paid, a reversal for every known refund, and the whole
    earning reversed (refund reversals given back) once it is cancelled, deleted or fully
    refunded. `agreement`, when the caller
    already holds the attribution's agreement, saves loading it again.
    """
    if attribution is None or attribution.self_referral or order.paid_at is None:
        return
    if attribution.creator_id is None or attribution.agreement_id is None:
        return
    moment = now or utcnow()
    tenant = Tenant(session, shop.id)
    entries = {
        e.idempotency_key: e for e in tenant.all(LedgerEntry, LedgerEntry.order_id == order.id)
    }
    earned = _earned(entries, order.platform_order_id)
    if earned is None:
        if agreement is None or agreement.id != attribution.agreement_id:
            agreement = Tenant(session, shop.id).get(Agreement, attribution.agreement_id)
        if agreement is None:
            return
        earning = _Earning(attribution.creator_id, agreement, order.paid_at)
        earned = _post_earnings(session, shop, order, earning)
        if earned is None:
            return
    # A reversal of an unclaimed commission waits with it; once paid out, it is due at once.
    reversal_available_at = moment if earned.claimed else max(moment, earned.available_at)
    refunds = tenant.all(Refund, Refund.platform_order_id == order.platform_order_id)
    # Each refund's reversal comes from that refund alone, so it is the same whichever other
    # refunds (or the cancellation) were seen first; a posted one is kept as posted.
    reversed_by_refund: dict[str, int] = {}
    for refund in refunds:
        key = refund_reversal_key(order.platform_order_id, refund.platform_refund_id)
        if key in entries:
            reversed_by_refund[key] = entries[key].amount_minor
            continue
        amount = -refund_reversal(
            earned_minor=earned.amount_minor,
            base_minor=earned.base_minor,
            item_amount_minor=refund.item_amount_minor,
        )
        _post_entry(
            session,
            shop,
            order,
            earned,
            key=key,
            amount=amount,
            available_at=reversal_available_at,
            reason=f"refund {refund.platform_refund_id}: {refund.item_amount_minor} of "
            f"{earned.base_minor} item revenue refunded",
        )
        if amount:
            reversed_by_refund[key] = amount
    ended = order.cancelled_at is not None or order.deleted_at is not None
    if not reverses_whole(
        base_minor=earned.base_minor,
        refunded_items_minor=[r.item_amount_minor for r in refunds],
        ended=ended,
    ):
        return
    # Cancelled, deleted or refunded in full: one entry takes back the whole earning and each
    # refund's reversal is given back, so the total is exact whichever fact came last.
    if order.deleted_at:
        why = "order deleted"
    elif order.cancelled_at:
        why = "order cancelled"
    else:
        why = "refunded in full"
    _post_entry(
        session,
        shop,
        order,
        earned,
        key=whole_reversal_key(order.platform_order_id),
        amount=-earned.amount_minor,
        available_at=reversal_available_at,
        reason=why,
    )
    for key, amount in reversed_by_refund.items():
        _post_entry(
            session,
            shop,
            order,
            earned,
            key=refund_restored_key(key),
            amount=-amount,
            available_at=reversal_available_at,
            reason=f"refund {key.rsplit(':', 1)[-1]}: already reversed with the whole earning",
            kind="adjustment",
        )


@dataclass(frozen=True)
class _Earning:
    creator_id: int
    agreement: Agreement
    paid_at: datetime


@dataclass(frozen=True)
class _Earned:
    """What an order earned (commission plus any bonus), as posted."""

    creator_id: int
    agreement_id: int | None
    currency: str
    amount_minor: int
    base_minor: int
    available_at: datetime
    claimed: bool  # the commission is already in a payout


def _earned(entries: Mapping[str, LedgerEntry], platform_order_id: int) -> _Earned | None:
    posted = [
        entry
        for entry in (
            entries.get(commission_key(platform_order_id)),
            entries.get(bonus_key(platform_order_id)),
        )
        if entry is not None
    ]
    if not posted:
        return None
    first = posted[0]
    return _Earned(
        creator_id=first.creator_id,
        agreement_id=first.agreement_id,
        currency=first.currency,
        amount_minor=sum(entry.amount_minor for entry in posted),
        base_minor=first.base_minor or 0,
        available_at=first.available_at,
        claimed=any(entry.payout_id is not None for entry in posted),
    )


def commission_posted(session: Session, shop_id: int, platform_order_id: int) -> bool:
    key = commission_key(platform_order_id)
    return (
        session.scalar(
            select(LedgerEntry.id).where(
                LedgerEntry.shop_id == shop_id, LedgerEntry.idempotency_key == key
            )
        )
        is not None
    )


def _post_earnings(session: Session, shop: Shop, order: Order, earning: _Earning) -> _Earned | None:
    agreement = earning.agreement
    if agreement.commission_rate_bps <= 0 and not agreement.bonus_tiers:
        return None
    base = order.net_item_revenue_minor
    available_at = earning.paid_at + timedelta(days=shop.hold_days)
    common: dict[str, Any] = {
        "creator_id": earning.creator_id,
        "order_id": order.id,
        "agreement_id": agreement.id,
        "currency": order.currency,
        "base_minor": base,
        "available_at": available_at,
    }
    extra_bps = _bonus_rate(session, shop, order, agreement) if agreement.bonus_tiers else 0
    commission = commission_minor(base, agreement.commission_rate_bps)
    bonus = commission_minor(base, extra_bps)
    if commission == 0 and bonus == 0:
        return None  # nothing earned: no entry moves nothing
    label = order.order_number or str(order.platform_order_id)
    new_commission = commission != 0 and post_entry(
        session,
        shop.id,
        **common,
        kind="commission",
        idempotency_key=commission_key(order.platform_order_id),
        amount_minor=commission,
        rate_bps=agreement.commission_rate_bps,
        presentment_amount_minor=order.presentment_total_minor,
        presentment_currency=order.presentment_currency,
        reason=f"order {label}: {agreement.commission_rate_bps} bps of {base} item revenue",
    )
    new_bonus = bonus != 0 and post_entry(
        session,
        shop.id,
        **common,
        kind="bonus",
        idempotency_key=bonus_key(order.platform_order_id),
        amount_minor=bonus,
        rate_bps=extra_bps,
        reason=f"order {label}: bonus tier, {extra_bps} bps extra",
    )
    if not (new_commission or new_bonus):
        # Posted meanwhile under another order row; the ledger's own entries are the truth.
        entries = Tenant(session, shop.id).all(
            LedgerEntry,
            LedgerEntry.idempotency_key.in_(
                [commission_key(order.platform_order_id), bonus_key(order.platform_order_id)]
            ),
        )
        return _earned({e.idempotency_key: e for e in entries}, order.platform_order_id)
    return _Earned(
        creator_id=earning.creator_id,
        agreement_id=agreement.id,
        currency=order.currency,
        amount_minor=commission + bonus,
        base_minor=base,
        available_at=available_at,
        claimed=False,
    )


def _bonus_rate(session: Session, shop: Shop, order: Order, agreement: Agreement) -> int:
    """The tier rate for this order: its rank among the agreement's commissioned orders placed
    in the same calendar month (shop timezone), counted at the moment its commission posts."""
    # Locking the agreement serialises concurrent counts, so two orders cannot share a rank.
    session.scalar(select(Agreement.id).where(Agreement.id == agreement.id).with_for_update())
    start, end = month_bounds(order.placed_at, shop_timezone(shop))
    earlier = session.scalar(
        select(func.count(LedgerEntry.id))
        .join(Order, Order.id == LedgerEntry.order_id)
        .where(
            LedgerEntry.shop_id == shop.id,
            LedgerEntry.agreement_id == agreement.id,
            LedgerEntry.kind == "commission",
            Order.placed_at >= start.astimezone(UTC),
            Order.placed_at < end.astimezone(UTC),
        )
    )
    return bonus_extra_rate_bps(agreement.bonus_tiers, int(earlier or 0) + 1)


def _post_entry(
    session: Session,
    shop: Shop,
    order: Order,
    earned: _Earned,
    *,
    key: str,
    amount: int,
    available_at: datetime,
    reason: str,
    kind: str = "reversal",
) -> None:
    if amount == 0:
        return  # an entry that moves nothing is never written
    post_entry(
        session,
        shop.id,
        creator_id=earned.creator_id,
        order_id=order.id,
        agreement_id=earned.agreement_id,
        kind=kind,
        amount_minor=amount,
        currency=earned.currency,
        available_at=available_at,
        idempotency_key=key,
        reason=reason,
    )
