"""Contract terms: what a version is, how it reads in plain language, what it owes and when.

An agreement's terms are a plain dict snapshot (the fields in TERM_FIELDS). Every change to them
makes a new version; the creator accepts a version by its number and the SHA-256 of the document
they were shown, so an acceptance proves which words were on the screen. The document is built
here from the snapshot alone (plus the shop's hold period, which the creator must also see), so
the same version always reads, and hashes, the same.

Deliverables move due -> submitted -> approved, or submitted -> changes_requested -> submitted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from plugin.domain.commissions import FEE_STATUSES, month_bounds, month_key, split_evenly
from plugin.domain.money import currency_exponent

# The fields whose change makes a new version (the creator must accept it again).
TERM_FIELDS: tuple[str, ...] = (
    "deliverables",
    "usage_rights_days",
    "usage_rights_territory",
    "usage_rights_channels",
    "exclusivity",
    "termination_terms",
    "payment_schedule",
    "flat_fee_minor",
    "commission_rate_bps",
    "bonus_tiers",
    "currency",
    "starts_at",
    "ends_at",
)
DELIVERABLE_TERMS: tuple[str, ...] = ("kind", "quantity", "due_at", "notes")
DELIVERABLE_STATUSES = ("due", "submitted", "changes_requested", "approved")
REVIEW_DECISIONS = ("approve", "request_changes")
DOCUMENT_VERSION = "1"  # bump when the wording below changes: old hashes stay verifiable by it

SCHEDULE_WORDS = {
    "on_signing": "paid once, when you accept this agreement",
    "monthly": "paid every month while the agreement runs, on the 1st (the first month when it "
    "starts)",
    "on_delivery": "split evenly across the deliverables, each part due when that deliverable "
    "is approved",
    "on_completion": "paid once, when the agreement is completed",
}


class DeliverableTransitionError(ValueError):
    """The deliverable's status does not allow this step."""


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """The terms as plain JSON data (dates as ISO strings), in a fixed shape."""
    terms: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = values.get(name)
        if name in ("starts_at", "ends_at"):
            value = _iso(value)
        elif name == "deliverables":
            value = [
                {
                    "kind": str(item.get("kind", "")),
                    "quantity": int(item.get("quantity") or 1),
                    "due_at": _iso(item.get("due_at")),
                    "notes": str(item.get("notes") or ""),
                }
                for item in (value or [])
            ]
        elif name == "bonus_tiers":
            value = [
                {"min_orders": int(t["min_orders"]), "extra_rate_bps": int(t["extra_rate_bps"])}
                for t in (value or [])
            ]
        elif name == "usage_rights_channels":
            value = [str(channel) for channel in (value or [])]
        terms[name] = value
    return terms


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    old, new = snapshot(before), snapshot(after)
    return [name for name in TERM_FIELDS if canonical(old[name]) != canonical(new[name])]


# --- the plain-language document ----------------------------------------------------------------


def money_words(minor: int, currency: str) -> str:
    exponent = currency_exponent(currency)
    return f"{currency} {Decimal(minor).scaleb(-exponent):,.{exponent}f}"


def percent_words(bps: int) -> str:
    value = Decimal(bps) / 100
    text = f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"
    return f"{text}%"


def date_words(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%d %b %Y")


@dataclass(frozen=True)
class Clause:
    heading: str
    text: str


def document(terms: Mapping[str, Any], *, hold_days: int) -> list[Clause]:
    """The agreement as the creator reads it, one clause per subject."""
    currency = str(terms["currency"])
    clauses = [Clause("Commission", _commission(terms))]
    if terms["bonus_tiers"]:
        clauses.append(Clause("Bonus tiers", _bonus(terms)))
    clauses.append(Clause("Flat fee", _flat_fee(terms, currency)))
    held = (
        f"Commissions are held for {hold_days} days after the order is paid (the store's "
        "return window), then go into the next payout"
        if hold_days
        else "Commissions go into the next payout once the order is paid"
    )
    clauses.append(
        Clause(
            "When commissions are paid",
            held + "; a refund takes back the commission on what was refunded.",
        )
    )
    clauses.append(Clause("Deliverables", _deliverables(terms)))
    clauses.append(Clause("Usage rights", _usage(terms)))
    clauses.append(
        Clause(
            "Exclusivity", str(terms["exclusivity"]).strip() or "None: you may work with anyone."
        )
    )
    clauses.append(Clause("Termination", str(terms["termination_terms"]).strip() or _default_end()))
    clauses.append(Clause("Period", _period(terms)))
    return clauses


def document_text(clauses: Sequence[Clause]) -> str:
    return "\n".join(f"{clause.heading}: {clause.text}" for clause in clauses)


def document_hash(terms: Mapping[str, Any], *, hold_days: int) -> str:
    """SHA-256 of the words shown (with the wording's own version), hex."""
    text = f"tastemaker-agreement/{DOCUMENT_VERSION}\n" + document_text(
        document(terms, hold_days=hold_days)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _commission(terms: Mapping[str, Any]) -> str:
    rate = int(terms["commission_rate_bps"])
    if rate == 0:
        return "No commission on orders."
    return (
        f"{percent_words(rate)} of the item revenue (after discounts, without tax and "
        "shipping) of every order credited to your code or links."
    )


def _bonus(terms: Mapping[str, Any]) -> str:
    parts = [
        f"from your order number {int(t['min_orders']) + 1} in a calendar month, "
        f"{percent_words(int(t['extra_rate_bps']))} more"
        for t in sorted(terms["bonus_tiers"], key=lambda t: int(t["min_orders"]))
    ]
    return "; ".join(parts).capitalize() + " (the highest tier reached applies)."


def _flat_fee(terms: Mapping[str, Any], currency: str) -> str:
    fee = int(terms["flat_fee_minor"])
    if fee == 0:
        return "No flat fee."
    schedule = str(terms["payment_schedule"])
    return f"{money_words(fee, currency)}, {SCHEDULE_WORDS.get(schedule, schedule)}."


def _deliverables(terms: Mapping[str, Any]) -> str:
    items = terms["deliverables"]
    if not items:
        return "None listed."
    parts = []
    for index, item in enumerate(items, start=1):
        text = f"{index}. {item['kind']}"
        if int(item.get("quantity") or 1) > 1:
            text += f" x {item['quantity']}"
        if item.get("due_at"):
            text += f", due {date_words(item['due_at'])}"
        if item.get("notes"):
            text += f" ({item['notes']})"
        parts.append(text)
    return "; ".join(parts) + "."


def _usage(terms: Mapping[str, Any]) -> str:
    days = int(terms["usage_rights_days"])
    if days == 0:
        return "The store may not reuse your content beyond sharing your own posts."
    channels = terms["usage_rights_channels"]
    where = ", ".join(channels) if channels else "any channel"
    return (
        f"The store may reuse the content you make for this agreement for {days} days after "
        f"it is posted, in {terms['usage_rights_territory']}, on {where}."
    )


def _default_end() -> str:
    return "Either side may end the agreement in writing; fees already due are still paid."


def _period(terms: Mapping[str, Any]) -> str:
    start, end = date_words(terms["starts_at"]), date_words(terms["ends_at"])
    if start and end:
        return f"From {start} to {end}."
    if start:
        return f"From {start}, until either side ends it."
    if end:
        return f"From your acceptance until {end}."
    return "From your acceptance, until either side ends it."


# --- deliverables -------------------------------------------------------------------------------


def next_status(current: str, step: str) -> str:
    """The status after `step` (submit / approve / request_changes), or an error."""
    allowed = {
        ("due", "submit"): "submitted",
        ("changes_requested", "submit"): "submitted",
        ("submitted", "submit"): "submitted",  # a corrected link before review
        ("submitted", "approve"): "approved",
        ("submitted", "request_changes"): "changes_requested",
    }
    result = allowed.get((current, step))
    if result is None:
        raise DeliverableTransitionError(
            f"a deliverable that is {current.replace('_', ' ')} cannot be "
            f"{'submitted' if step == 'submit' else 'reviewed'}"
        )
    return result


# --- upcoming flat fees -------------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingFee:
    key: str
    amount_minor: int
    expected_at: datetime | None  # None: waits on an event (acceptance, approval, completion)
    condition: str


def upcoming_flat_fees(
    *,
    agreement_id: int,
    schedule: str,
    fee_minor: int,
    status: str,
    starts_at: datetime,
    ends_at: datetime | None,
    signed_at: datetime | None,
    deliverable_due: Sequence[tuple[str, datetime | None, bool]],
    posted_keys: set[str],
    now: datetime,
    tz: tzinfo,
    months: int = 3,
) -> list[UpcomingFee]:
    """Installments not yet booked: the next `months` monthly fees, the signing fee while
    unsigned, the share of each deliverable not yet approved, the completion fee.

    `deliverable_due` is (label, due date, approved) per deliverable, in order.
    """
    if fee_minor <= 0 or status not in (*FEE_STATUSES, "draft"):
        return []
    prefix = f"flat_fee:agreement:{agreement_id}"
    fees: list[UpcomingFee] = []
    if schedule == "on_signing":
        if f"{prefix}:signing" not in posted_keys:
            condition = "due when the creator accepts" if signed_at is None else "due now"
            fees.append(UpcomingFee(f"{prefix}:signing", fee_minor, signed_at, condition))
    elif schedule == "monthly":
        start = max(starts_at, signed_at) if signed_at else starts_at
        month_start, _ = month_bounds(max(start, now), tz)
        for _ in range(months + 2):
            due = max(month_start, start)
            if len(fees) >= months or (ends_at is not None and due >= ends_at):
                break
            key = f"{prefix}:{month_key(due, tz)}"
            if key not in posted_keys:
                condition = "monthly" if signed_at else "monthly, once accepted"
                fees.append(UpcomingFee(key, fee_minor, due, condition))
            _, month_start = month_bounds(month_start, tz)
    elif schedule == "on_delivery" and deliverable_due:
        shares = split_evenly(fee_minor, len(deliverable_due))
        for index, ((label, due_at, approved), share) in enumerate(
            zip(deliverable_due, shares, strict=True)
        ):
            key = f"{prefix}:deliverable:{index}"
            if key in posted_keys or approved:
                continue
            condition = f"when '{label}' is approved"
            fees.append(UpcomingFee(key, share, due_at, condition))
    elif schedule in ("on_completion", "on_delivery"):
        key = f"{prefix}:completion"
        if key not in posted_keys:
            fees.append(UpcomingFee(key, fee_minor, ends_at, "when the agreement completes"))
    return fees
