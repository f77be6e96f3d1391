"""The creator's fair-pay statement, in plain words: what each ledger entry is, why that amount,
and where the money is now. Pure rules over plain values; plugin.services.statements feeds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from plugin.domain.money import format_minor_units

KIND_LABELS = {
    "commission": "Commission",
    "bonus": "Bonus tier",
    "reversal": "Reversal",
    "flat_fee": "Flat fee",
    "adjustment": "Adjustment",
    "payout": "Payout",
}


def money(minor: int, currency: str) -> str:
    return f"{currency} {format_minor_units(minor, currency)}"


def percent(bps: int) -> str:
    return f"{Decimal(bps).scaleb(-2).normalize():f}%"


def period_key(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def period_label(key: str) -> str:
    year, month = key.split("-")
    names = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    return f"{names[int(month) - 1]} {year}"


def tier_for(tiers: Sequence[Mapping[str, Any]], extra_bps: int) -> int | None:
    """The order count after which the tier paying `extra_bps` applies (the lowest such)."""
    counts = [int(t["min_orders"]) for t in tiers if int(t.get("extra_rate_bps", -1)) == extra_bps]
    return min(counts) if counts else None


@dataclass(frozen=True)
class Described:
    what: str
    why: str


def describe_commission(
    order: str, base_minor: int | None, rate_bps: int | None, currency: str, attribution: str
) -> Described:
    if base_minor is None or rate_bps is None:
        # An entry posted without its base and rate (e.g. imported): say only what is known.
        return Described(what=f"Order {order}: commission", why=f"{attribution}.")
    base = money(base_minor, currency)
    rate = percent(rate_bps)
    return Described(
        what=f"Order {order}: {rate} of {base} item revenue",
        why=f"{attribution}. {rate} is your base commission rate in your agreement; item "
        "revenue excludes tax and shipping.",
    )


def describe_bonus(
    order: str,
    base_minor: int | None,
    rate_bps: int | None,
    currency: str,
    tiers: Sequence[Mapping[str, Any]],
) -> Described:
    rate = percent(rate_bps or 0)
    after = tier_for(tiers, rate_bps or 0)
    reached = (
        f"you passed {after} paid orders this month, so your agreement's bonus tier adds {rate}"
        if after is not None
        else f"your agreement's bonus tier adds {rate}"
    )
    return Described(
        what=f"Order {order}: bonus of {rate} of {money(base_minor or 0, currency)}",
        why=reached[0].upper() + reached[1:] + ".",
    )


def describe_reversal(
    order: str,
    reason: str,
    refund_item_minor: int | None,
    refund_total_minor: int | None,
    refunded_at: datetime | None,
    currency: str,
) -> Described:
    if refund_item_minor is not None:
        when = f" on {refunded_at:%d %b %Y}" if refunded_at else ""
        total = (
            f" (the customer got {money(refund_total_minor, currency)} back in total)"
            if refund_total_minor is not None and refund_total_minor != refund_item_minor
            else ""
        )
        return Described(
            what=f"Order {order}: refund of {money(refund_item_minor, currency)} of items{total}",
            why=f"The store refunded the customer{when}; the commission on the refunded share "
            "is taken back in proportion.",
        )
    cause = "reversed"
    for word, said in (("refunded in full", "refunded in full"), ("cancel", "cancelled")):
        if word in reason:
            cause = said
            break
    else:
        cause = "deleted" if "delet" in reason else cause
    return Described(
        what=f"Order {order}: {cause}",
        why=f"The order was {cause}, so what it earned you is taken back.",
    )


def describe_given_back(order: str) -> Described:
    return Described(
        what=f"Order {order}: earlier refund reversal returned",
        why="The whole order was taken back in one line, so this refund's part is returned "
        "and not taken twice.",
    )


def describe_other(kind: str, reason: str) -> Described:
    if kind == "flat_fee":
        return Described(what=reason[:1].upper() + reason[1:], why="A fixed fee in your agreement.")
    return Described(
        what=reason[:1].upper() + reason[1:] if reason else "Adjustment",
        why="A manual adjustment by the shop, with the reason they gave.",
    )


def describe_payout(reference: str, method: str, paid_at: datetime | None) -> Described:
    when = f" on {paid_at:%d %b %Y}" if paid_at else ""
    return Described(
        what=f"Payout {reference}",
        why=f"Paid to you{when}" + (f" by {method}" if method else "") + ".",
    )
