"""Commission arithmetic: what an order earns, what a refund takes back, when flat fees fall due.

Money is integer minor units of the shop currency (0, 2 or 3 decimals: JPY, USD, KWD alike,
since nothing here depends on the exponent). Rounding rule: every amount is computed once, on
the exact rational, and rounded half to even in the currency's minor unit
(`plugin.domain.money.round_half_even`); no intermediate value is ever rounded.

- Commission = rate_bps / 10 000 x net item revenue (after discounts, without tax and shipping).
- Bonus tiers add an extra rate to an order once the creator already has more than
  `min_orders` paid, attributed orders in the same calendar month under the agreement.
- Reversals depend only on the set of facts, never on the order they arrive in, because the
  ledger is append-only and a posted entry cannot be re-split later. Each refund reverses
  floor(earned x item / N) of a base N, from that refund alone, so partial refunds never take
  back more than was earned. Once the order is cancelled, deleted or its refunds cover N, one
  entry reverses the whole earning and each refund's reversal is given back: the total is then
  exactly the earning, whichever refund or cancellation came last.
- Flat fees follow the agreement's payment schedule and are split across deliverables with the
  same cumulative rule, so the parts always sum to the fee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from plugin.domain.money import MoneyError, apply_rate, prorate

PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
# Agreements whose flat-fee schedule still runs (a completed one still owes its last fees).
FEE_STATUSES = frozenset({"active", "completed"})
MONTHLY_LOOKBACK_LIMIT = 240  # months; a guard against a nonsense start date


def commission_minor(base_minor: int, rate_bps: int) -> int:
    if base_minor < 0 or rate_bps < 0:
        raise MoneyError("commission base and rate must not be negative")
    return apply_rate(base_minor, rate_bps)


def bonus_extra_rate_bps(tiers: Sequence[Mapping[str, Any]], rank_in_month: int) -> int:
    """The extra rate for the creator's `rank_in_month`-th paid order of the month (1-based).

    A tier {"min_orders": 10, "extra_rate_bps": 200} pays 2% more from the 11th order on; when
    several tiers apply, the highest extra rate wins.
    """
    best = 0
    for tier in tiers:
        min_orders = int(tier["min_orders"])
        extra = int(tier["extra_rate_bps"])
        if min_orders < 0 or extra < 0:
            raise ValueError(f"invalid bonus tier {dict(tier)!r}")
        if rank_in_month > min_orders:
            best = max(best, extra)
    return best


def refund_reversal(*, earned_minor: int, base_minor: int, item_amount_minor: int) -> int:
    """What one refund takes back (a positive magnitude), computed from that refund alone.

    earned x item / base, rounded down: refunds together covering less than the base therefore
    never take back more than was earned. A refund that alone covers the base takes nothing
    itself: the order's whole earning is reversed by one entry instead (`reverses_whole`).
    """
    if earned_minor <= 0 or item_amount_minor <= 0 or item_amount_minor >= base_minor:
        return 0
    return earned_minor * item_amount_minor // base_minor


def reverses_whole(*, base_minor: int, refunded_items_minor: Sequence[int], ended: bool) -> bool:
    """Whether the order's whole earning is reversed: cancelled or deleted (`ended`), or its
    refunds together cover the base. Both only ever become true as facts arrive."""
    refunded = sum(max(amount, 0) for amount in refunded_items_minor)
    return ended or (refunded > 0 and refunded >= base_minor)


def split_evenly(amount_minor: int, parts: int) -> list[int]:
    """`amount_minor` in `parts` shares differing by at most one minor unit, summing exactly."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    cumulative = [prorate(amount_minor, index, parts) for index in range(parts + 1)]
    return [cumulative[i + 1] - cumulative[i] for i in range(parts)]


def month_key(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def month_bounds(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The calendar month containing `moment` in `tz`, as [start, end) instants."""
    local = moment.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, _next_month(start)


def _next_month(start: datetime) -> datetime:
    # Jump past the month's end, then back to day 1; re-localise so DST changes are honoured.
    following = (start.replace(tzinfo=None) + timedelta(days=32)).replace(day=1)
    return following.replace(tzinfo=start.tzinfo)


@dataclass(frozen=True)
class FlatFeeTerms:
    agreement_id: int
    schedule: str  # one of plugin.models.creators.PAYMENT_SCHEDULES
    fee_minor: int
    status: str
    starts_at: datetime  # the agreement's start (its creation time when it has none)
    ends_at: datetime | None = None
    # One entry per deliverable: when it was delivered, or None while outstanding.
    delivered_at: tuple[datetime | None, ...] = ()
    # Agreements with versioned terms owe nothing until the creator first accepts them; then
    # "on signing" means that acceptance, and monthly fees run from it.
    requires_signature: bool = False
    signed_at: datetime | None = None


@dataclass(frozen=True)
class DueFee:
    key: str
    amount_minor: int
    due_at: datetime
    reason: str


def due_flat_fees(terms: FlatFeeTerms, now: datetime, tz: tzinfo) -> list[DueFee]:
    """Every flat-fee installment due by `now`; posting them by key makes this idempotent."""
    if terms.requires_signature:
        if terms.signed_at is None or terms.signed_at > now:
            return []
        terms = replace(terms, starts_at=max(terms.starts_at, terms.signed_at))
    if terms.fee_minor <= 0 or terms.status not in FEE_STATUSES or terms.starts_at > now:
        return []
    prefix = f"flat_fee:agreement:{terms.agreement_id}"
    if terms.schedule == "on_signing":
        return [
            DueFee(f"{prefix}:signing", terms.fee_minor, terms.starts_at, "flat fee on signing")
        ]
    if terms.schedule == "monthly":
        return _monthly(terms, prefix, now, tz)
    if terms.schedule == "on_delivery" and terms.delivered_at:
        shares = split_evenly(terms.fee_minor, len(terms.delivered_at))
        return [
            DueFee(
                f"{prefix}:deliverable:{index}",
                share,
                delivered,
                f"flat fee, deliverable {index + 1} of {len(shares)} delivered",
            )
            for index, (share, delivered) in enumerate(zip(shares, terms.delivered_at, strict=True))
            if delivered is not None and delivered <= now
        ]
    if terms.schedule in ("on_completion", "on_delivery"):
        # An agreement without listed deliverables is delivered when it completes.
        ended = terms.ends_at is not None and terms.ends_at <= now
        if terms.status == "completed" or ended:
            due = terms.ends_at if ended and terms.ends_at is not None else now
            return [DueFee(f"{prefix}:completion", terms.fee_minor, due, "flat fee on completion")]
        return []
    raise ValueError(f"unknown payment schedule {terms.schedule!r}")


def _monthly(terms: FlatFeeTerms, prefix: str, now: datetime, tz: tzinfo) -> list[DueFee]:
    fees: list[DueFee] = []
    month_start, _ = month_bounds(terms.starts_at, tz)
    for _ in range(MONTHLY_LOOKBACK_LIMIT):
        due = max(month_start, terms.starts_at)
        if due > now or (terms.ends_at is not None and due >= terms.ends_at):
            break
        key = month_key(due, tz)
        fees.append(DueFee(f"{prefix}:{key}", terms.fee_minor, due, f"monthly flat fee {key}"))
        month_start = _next_month(month_start)
    return fees
