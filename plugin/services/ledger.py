"""The commission ledger: append-only entries, posted idempotently, and the balances they sum to.

Every entry has an idempotency key, unique per shop, and is inserted with
`INSERT ... ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike), so a replay posts nothing. No
entry is ever updated, except that payouts stamp `payout_id` when they claim it.

Rounding rule (`plugin.domain.commissions`): each amount is computed once, on the exact rational
(rate x base, earnings x refunded / base), and rounded half to even in the currency's minor unit;
amounts are integers of that unit, so 0-, 2- and 3-decimal currencies (JPY, USD, KWD) are alike.
A refund's reversal is rounded down, so partial refunds never take back more than was earned.

Keys (platform ids, so they read the same on every database):
- `commission:<platform order id>`, `bonus:<platform order id>`
- `reversal:<platform order id>:refund:<platform refund id>`
- `reversal:<platform order id>:cancel`: the whole earning reversed, once the order is cancelled,
  deleted or its refunds cover its item revenue
- `reversal:<platform order id>:refund:<platform refund id>:cancelled` (kind adjustment: a refund's
  reversal given back, since the whole-earning reversal already took everything back)
- `flat_fee:agreement:<id>:<yyyy-mm | signing | completion | deliverable:<n>>`
- `adjustment:<caller's key>`

No entry moves zero. The entries of an order depend only on the set of its facts, never on the
order they arrived in (a posted entry is never re-split): a refund reverses its own share of the
earning, rounded down, computed from that refund alone; once the order is cancelled, deleted or
refunded in full, one entry reverses the whole earning and each refund's reversal is given back.

Signs: earnings are positive, reversals negative, adjustments either. Commissions and bonuses are
held until paid time + the shop's hold period; a reversal becomes payable with the commission it
reverses while that commission is unclaimed and held, otherwise at once, so a refund after a
payout carries a negative balance into the next one. Orders are settled into the ledger by
`plugin.services.settlement`; flat fees, adjustments and balances live here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, case, func, select
from sqlalchemy.orm import Session

from plugin.domain.commissions import FlatFeeTerms, due_flat_fees
from plugin.models import Agreement, Creator, Deliverable, LedgerEntry, Shop, utcnow
from plugin.services import balance_rollups, rollups
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)


def commission_key(platform_order_id: int) -> str:
    return f"commission:{platform_order_id}"


def bonus_key(platform_order_id: int) -> str:
    return f"bonus:{platform_order_id}"


def refund_reversal_key(platform_order_id: int, platform_refund_id: int) -> str:
    return f"reversal:{platform_order_id}:refund:{platform_refund_id}"


def whole_reversal_key(platform_order_id: int) -> str:
    """The entry reversing an order's whole earning (cancelled, deleted or refunded in full).

    Still spelled `:cancel`, the key rows posted for cancellations already carry: a new spelling
    would reverse those orders a second time when they are next settled.
    """
    return f"reversal:{platform_order_id}:cancel"


def refund_restored_key(refund_key: str) -> str:
    """A refund's reversal given back because the whole earning was reversed in one entry."""
    return f"{refund_key}:cancelled"


def insert_ignore(
    session: Session, model: type[Any], values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """INSERT ... ON CONFLICT (conflict) DO NOTHING; True when a row was inserted."""
    connection = session.connection()
    statement = _insert_ignore_statement(connection.dialect.name, model.__table__, tuple(conflict))
    return connection.execute(statement, dict(values)).first() is not None


@lru_cache(maxsize=64)
def _insert_ignore_statement(dialect: str, table: Table, conflict: tuple[str, ...]) -> Any:
    # Built once per table: the values travel as parameters, so the compiled form is reused.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        # rowcount is not reliable here on every driver; a returned id is.
        .returning(table.c.id)
    )


def post_entry(session: Session, shop_id: int, **values: Any) -> bool:
    """Append one entry unless its idempotency key is already posted; True when it was new.

    An entry about an order reaches the metric rollups with its order (`rollups.refresh_order`,
    run by every order write); any other entry (flat fee, adjustment, sprint bonus) here. Every
    new entry adds to its creator's balance rollup here (plugin.services.balance_rollups).
    """
    row = {"shop_id": shop_id, "created_at": utcnow(), **values}
    inserted = insert_ignore(session, LedgerEntry, row, ("shop_id", "idempotency_key"))
    if inserted:
        balance_rollups.add_entry(session, shop_id, row)
    if inserted and row.get("order_id") is None:
        rollups.add_ledger_entry(session, shop_id, row)
    return inserted


def shop_timezone(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("shop %s has unknown timezone %r; using UTC", shop.id, shop.timezone)
        return ZoneInfo("UTC")


# --- flat fees and adjustments -----------------------------------------------------------------


def post_due_flat_fees(session: Session, shop: Shop, now: datetime | None = None) -> int:
    """Post every flat-fee installment due by `now` for the shop's agreements; returns how many
    were new. Safe to run any number of times (each installment has its own key)."""
    moment = now or utcnow()
    tz = shop_timezone(shop)
    posted = 0
    for agreement in Tenant(session, shop.id).all(Agreement, Agreement.flat_fee_minor > 0):
        terms = FlatFeeTerms(
            agreement_id=agreement.id,
            schedule=agreement.payment_schedule,
            fee_minor=agreement.flat_fee_minor,
            status=agreement.status,
            starts_at=agreement.starts_at or agreement.created_at,
            ends_at=agreement.ends_at,
            delivered_at=_delivered(session, agreement),
            requires_signature=bool(agreement.terms_version),
            signed_at=agreement.signed_at,
        )
        due = due_flat_fees(terms, moment, tz)
        if due and agreement.currency.upper() != shop.currency.upper():
            logger.error(
                "agreement %s: flat fee in %s but shop %s books in %s; not posted",
                agreement.id,
                agreement.currency,
                shop.id,
                shop.currency,
            )
            continue
        for fee in due:
            posted += post_entry(
                session,
                shop.id,
                creator_id=agreement.creator_id,
                agreement_id=agreement.id,
                kind="flat_fee",
                amount_minor=fee.amount_minor,
                currency=shop.currency,
                available_at=fee.due_at,
                idempotency_key=fee.key,
                reason=fee.reason,
            )
    return posted


def _delivered(session: Session, agreement: Agreement) -> tuple[datetime | None, ...]:
    """When each deliverable was delivered: approved in review for versioned agreements (rows in
    `deliverables`), else the `delivered_at` an integrator wrote into the terms."""
    if agreement.terms_version:
        rows = session.execute(
            select(Deliverable.position, Deliverable.approved_at)
            .where(Deliverable.agreement_id == agreement.id)
            .order_by(Deliverable.position)
        ).all()
        approved = {int(position): at for position, at in rows}
        return tuple(approved.get(index) for index in range(len(agreement.deliverables)))
    return tuple(_delivered_at(item) for item in agreement.deliverables)


def _delivered_at(deliverable: Mapping[str, Any]) -> datetime | None:
    value = deliverable.get("delivered_at") if isinstance(deliverable, Mapping) else None
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        logger.warning("deliverable has an unreadable delivered_at %r; treated as pending", value)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class AdjustmentConflict(ValueError):
    """The idempotency key was already used for a different adjustment."""


def add_adjustment(
    session: Session,
    shop_id: int,
    creator_id: int,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
    *,
    now: datetime | None = None,
) -> LedgerEntry:
    """A manual correction (either sign), payable at once; replaying the key returns the entry."""
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    if amount_minor == 0:
        raise ValueError("an adjustment must move money")
    tenant = Tenant(session, shop_id)
    shop = session.get(Shop, shop_id)
    if shop is None or tenant.get(Creator, creator_id) is None:
        raise LookupError(f"creator {creator_id} not found in shop {shop_id}")
    key = f"adjustment:{idempotency_key}"
    post_entry(
        session,
        shop_id,
        creator_id=creator_id,
        kind="adjustment",
        amount_minor=amount_minor,
        currency=shop.currency,
        available_at=now or utcnow(),
        idempotency_key=key,
        reason=reason.strip(),
    )
    entry = tenant.first(LedgerEntry, LedgerEntry.idempotency_key == key)
    if entry is None or (entry.creator_id, entry.amount_minor, entry.kind) != (
        creator_id,
        amount_minor,
        "adjustment",
    ):
        raise AdjustmentConflict(f"idempotency key {idempotency_key!r} was used for another entry")
    return entry


# --- balances (read by payouts) -----------------------------------------------------------------


@dataclass(frozen=True)
class PayableBalance:
    creator_id: int
    amount_minor: int
    currency: str
    entry_count: int


def creator_balance(
    session: Session, shop_id: int, creator_id: int, now: datetime
) -> tuple[int, int, str]:
    """(available, held, currency) over the creator's unclaimed entries in the shop currency.

    Available may be negative (a refund after a payout); held is what waits for its hold period.
    """
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} not found")
    available = case((LedgerEntry.available_at <= now, LedgerEntry.amount_minor), else_=0)
    held = case((LedgerEntry.available_at > now, LedgerEntry.amount_minor), else_=0)
    row = session.execute(
        select(func.coalesce(func.sum(available), 0), func.coalesce(func.sum(held), 0)).where(
            *_unclaimed(shop), LedgerEntry.creator_id == creator_id
        )
    ).one()
    return int(row[0]), int(row[1]), shop.currency


def payable_entries(
    session: Session, shop_id: int, creator_id: int, now: datetime
) -> list[LedgerEntry]:
    """The creator's unclaimed entries payable at `now` (payout_id IS NULL, available_at <= now)."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return []
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(
                *_unclaimed(shop),
                LedgerEntry.creator_id == creator_id,
                LedgerEntry.available_at <= now,
            )
            .order_by(LedgerEntry.id)
        )
    )


def payable_balances(session: Session, shop_id: int, now: datetime) -> list[PayableBalance]:
    """Per creator, the sum of unclaimed entries payable at `now` (one SQL aggregate)."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return []
    rows = session.execute(
        select(
            LedgerEntry.creator_id,
            func.sum(LedgerEntry.amount_minor),
            func.count(LedgerEntry.id),
        )
        .where(*_unclaimed(shop), LedgerEntry.available_at <= now)
        .group_by(LedgerEntry.creator_id)
        .order_by(LedgerEntry.creator_id)
    )
    return [
        PayableBalance(int(creator_id), int(total), shop.currency, int(count))
        for creator_id, total, count in rows
    ]


def _unclaimed(shop: Shop) -> tuple[Any, ...]:
    # One currency per shop: an entry in another currency could not be summed with the rest.
    return (
        LedgerEntry.shop_id == shop.id,
        LedgerEntry.payout_id.is_(None),
        LedgerEntry.currency == shop.currency,
    )
