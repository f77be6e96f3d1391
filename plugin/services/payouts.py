"""Payouts: batching payable ledger balances, the merchant's approval, and the bulk-payout CSV.

Paying twice is prevented by construction, not by checking first:
- each payout has an idempotency key `batch:<batch_key>:creator:<id>`, unique per shop, so a
  retried or concurrent run of the same batch inserts one row (the loser's INSERT fails);
- a payout claims its ledger entries with one `UPDATE … WHERE payout_id IS NULL AND id IN (…)`
  and keeps them only if every entry was still unclaimed (rowcount check), so two batches with
  different keys cannot both take the same entry.
Each creator is handled in its own savepoint: a lost race skips that creator, not the batch.
Status changes are single conditional UPDATEs (`WHERE status = …`), never read-modify-write.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import background
from plugin.domain.money import format_minor_units
from plugin.models import Creator, LedgerEntry, Payout, Shop, utcnow
from plugin.services import balance_rollups, notifications
from plugin.services.ledger import payable_balances, payable_entries

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("recipient_email", "amount", "currency", "reference", "note")
OPEN_PAYOUT_STATUSES = ("pending_approval", "approved")


class PayoutTransitionError(Exception):
    """The payout's current status does not allow this change (answered as 409)."""


@dataclass(frozen=True)
class CreatorBalance:
    creator_id: int
    currency: str
    held_minor: int  # earned, still inside the hold period
    available_minor: int  # payable now, not yet in a payout (may be negative after a refund)
    in_payout_minor: int  # claimed by a payout awaiting approval or payment
    paid_minor: int


@dataclass(frozen=True)
class BatchSummary:
    batch_key: str
    currency: str
    payouts: int
    total_minor: int
    pending_approval: int
    approved: int
    paid: int
    cancelled: int
    created_at: datetime


def payout_key(batch_key: str, creator_id: int) -> str:
    return f"batch:{batch_key}:creator:{creator_id}"


def batch_payouts(
    session: Session, shop_id: int, batch_key: str, *, now: datetime | None = None
) -> list[Payout]:
    """Create this batch's payouts for every creator owed at least the shop's minimum.

    Returns the payouts this call created (none when the batch already ran). Does not commit.
    """
    shop = session.get(Shop, shop_id)
    if shop is None or not shop.is_active:
        return []
    moment = now or utcnow()
    minimum = _minimum(shop)
    created: list[Payout] = []
    for balance in payable_balances(session, shop.id, moment):
        if balance.amount_minor < minimum:
            continue  # carried over: below the minimum, or negative after a refund
        payout = _pay_creator(session, shop, batch_key, balance.creator_id, moment)
        if payout is not None:
            created.append(payout)
    logger.info("payout batch %s for shop %s: %d payouts created", batch_key, shop_id, len(created))
    return created


def _minimum(shop: Shop) -> int:
    # Never pay out zero or a negative balance, whatever the configured minimum.
    return max(shop.payout_minimum_minor, 1)


def _pay_creator(
    session: Session, shop: Shop, batch_key: str, creator_id: int, moment: datetime
) -> Payout | None:
    key = payout_key(batch_key, creator_id)
    already = session.scalar(
        select(Payout.id).where(Payout.shop_id == shop.id, Payout.idempotency_key == key)
    )
    if already is not None:
        return None
    entries = payable_entries(session, shop.id, creator_id, moment)
    ids = [entry.id for entry in entries]
    amount = sum(entry.amount_minor for entry in entries)
    if not ids or amount < _minimum(shop):
        return None  # another batch claimed part of it meanwhile: what is left carries over
    savepoint = session.begin_nested()
    try:
        payout = Payout(
            shop_id=shop.id,
            creator_id=creator_id,
            amount_minor=amount,
            currency=shop.currency,
            idempotency_key=key,
            batch_key=batch_key,
        )
        session.add(payout)
        session.flush()
        claimed = session.execute(
            update(LedgerEntry)
            .where(
                LedgerEntry.shop_id == shop.id,
                LedgerEntry.payout_id.is_(None),
                LedgerEntry.id.in_(ids),
            )
            .values(payout_id=payout.id)
        ).rowcount  # type: ignore[attr-defined]
    except IntegrityError:
        # The same batch ran concurrently and inserted this creator's payout first.
        savepoint.rollback()
        return None
    if claimed != len(ids):
        logger.info("payout for creator %s lost a race for its entries; carried over", creator_id)
        savepoint.rollback()
        return None
    balance_rollups.claim(session.connection(), shop.id, entries)
    savepoint.commit()
    return payout


def approve_payout(session: Session, shop_id: int, payout_id: int) -> Payout:
    payout = _load(session, shop_id, payout_id)
    if payout.status == "approved":
        return payout
    _transition(session, payout, ("pending_approval",), status="approved", approved_at=utcnow())
    _tell_creator(session, payout)
    creator = session.get(Creator, payout.creator_id)
    if creator is not None and creator.payout_method == "store_credit":
        background.after_commit(session, background.PAY_IN_STORE_CREDIT, payout.id)
    return payout


STORE_CREDIT_CLAIM = "store-credit:sending"
STORE_CREDIT_UNCONFIRMED = "store-credit:unconfirmed"


def claim_store_credit(session: Session, payout_id: int) -> bool:
    """Take an approved payout for one store-credit call; of two workers exactly one wins."""
    claimed = session.execute(
        update(Payout)
        .where(
            Payout.id == payout_id,
            Payout.status == "approved",
            Payout.external_reference.is_(None),
        )
        .values(external_reference=STORE_CREDIT_CLAIM)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(claimed == 1)


def mark_paid(session: Session, shop_id: int, payout_id: int, external_reference: str) -> Payout:
    payout = _load(session, shop_id, payout_id)
    if payout.status == "paid" and payout.external_reference == external_reference:
        return payout
    if payout.status == "pending_approval":
        raise PayoutTransitionError("approve the payout before marking it paid")
    _transition(
        session,
        payout,
        ("approved",),
        status="paid",
        paid_at=utcnow(),
        external_reference=external_reference,
    )
    balance_rollups.paid(session.connection(), shop_id, payout.id)
    _tell_creator(session, payout)
    return payout


def _tell_creator(session: Session, payout: Payout) -> None:
    # The creator hears about each step by email, once per payout and status (after commit).
    notifications.payout_status_changed(session, payout)


def cancel_payout(session: Session, shop_id: int, payout_id: int, note: str = "") -> Payout:
    """Cancel an unpaid payout and release its entries into the next batch."""
    payout = _load(session, shop_id, payout_id)
    if payout.status == "cancelled":
        return payout
    _transition(session, payout, OPEN_PAYOUT_STATUSES, status="cancelled", note=note)
    balance_rollups.release(session.connection(), shop_id, payout.id)
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.shop_id == shop_id, LedgerEntry.payout_id == payout.id)
        .values(payout_id=None)
        .execution_options(synchronize_session=False)
    )
    return payout


def _load(session: Session, shop_id: int, payout_id: int) -> Payout:
    payout = session.scalars(
        select(Payout).where(Payout.shop_id == shop_id, Payout.id == payout_id)
    ).first()
    if payout is None:
        raise LookupError(f"payout {payout_id} not found")
    return payout


def _transition(session: Session, payout: Payout, allowed: Sequence[str], **values: object) -> None:
    changed = session.execute(
        update(Payout)
        .where(Payout.id == payout.id, Payout.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(payout)
    if changed != 1:
        raise PayoutTransitionError(
            f"a {payout.status.replace('_', ' ')} payout cannot become {values['status']}"
        )


def creator_balances(
    session: Session,
    shop_id: int,
    *,
    creator_id: int | None = None,
    now: datetime | None = None,
    source: str = "rollups",
) -> dict[int, CreatorBalance]:
    """Held, available, in-payout and paid sums per creator: from the balance rollup
    (plugin.services.balance_rollups), or with source="raw" from the whole ledger (what the
    rollup must equal; a few hundred ms per 100k entries)."""
    moment = now or utcnow()
    if source == "raw":
        return _raw_balances(session, shop_id, creator_id, moment)
    found = balance_rollups.balances(session, shop_id, moment, creator_id=creator_id)
    return {creator: CreatorBalance(creator, *row) for creator, row in found.items()}


def _raw_balances(
    session: Session, shop_id: int, creator_id: int | None, moment: datetime
) -> dict[int, CreatorBalance]:
    unclaimed = LedgerEntry.payout_id.is_(None)
    amount = LedgerEntry.amount_minor

    def total(condition: object) -> object:
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)  # type: ignore[arg-type]

    query = (
        select(
            LedgerEntry.creator_id,
            func.max(LedgerEntry.currency),
            total(and_(unclaimed, LedgerEntry.available_at > moment)),
            total(and_(unclaimed, LedgerEntry.available_at <= moment)),
            total(Payout.status.in_(OPEN_PAYOUT_STATUSES)),
            total(Payout.status == "paid"),
        )
        .outerjoin(Payout, Payout.id == LedgerEntry.payout_id)
        .where(LedgerEntry.shop_id == shop_id)
        .group_by(LedgerEntry.creator_id)
    )
    if creator_id is not None:
        query = query.where(LedgerEntry.creator_id == creator_id)
    return {
        row[0]: CreatorBalance(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5]))
        for row in session.execute(query)
    }


def batch_summaries(session: Session, shop_id: int, limit: int = 50) -> list[BatchSummary]:
    def count(status: str) -> object:
        return func.sum(case((Payout.status == status, 1), else_=0))

    rows = session.execute(
        select(
            Payout.batch_key,
            func.max(Payout.currency),
            func.count(Payout.id),
            func.sum(case((Payout.status != "cancelled", Payout.amount_minor), else_=0)),
            count("pending_approval"),
            count("approved"),
            count("paid"),
            count("cancelled"),
            func.min(Payout.created_at),
        )
        .where(Payout.shop_id == shop_id)
        .group_by(Payout.batch_key)
        .order_by(func.min(Payout.created_at).desc(), Payout.batch_key.desc())
        .limit(limit)
    ).all()
    return [
        BatchSummary(
            batch_key=row[0],
            currency=row[1],
            payouts=int(row[2]),
            total_minor=int(row[3] or 0),
            pending_approval=int(row[4] or 0),
            approved=int(row[5] or 0),
            paid=int(row[6] or 0),
            cancelled=int(row[7] or 0),
            created_at=_aware(row[8]),
        )
        for row in rows
    ]


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back a naive (UTC) value.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def batch_csv(
    session: Session,
    shop_id: int,
    batch_key: str,
    statuses: Sequence[str] = ("approved", "paid"),
) -> str:
    """The batch in the common bulk-payout layout: approved and paid payouts by default, so a
    batch already paid still exports for the books (pending and cancelled ones never do)."""
    rows = session.execute(
        select(Payout, Creator)
        .join(Creator, Creator.id == Payout.creator_id)
        .where(
            Payout.shop_id == shop_id,
            Payout.batch_key == batch_key,
            Payout.status.in_(statuses),
        )
        .order_by(Payout.id)
    ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for payout, creator in rows:
        writer.writerow(
            [
                spreadsheet_safe(creator.payout_email or creator.email or ""),
                format_minor_units(payout.amount_minor, payout.currency),
                payout.currency,
                payout.tastemaker_reference,
                spreadsheet_safe(f"Tastemaker commissions for @{creator.handle} ({batch_key})"),
            ]
        )
    return buffer.getvalue()


def spreadsheet_safe(value: str) -> str:
    """Spreadsheets run cells starting with these as formulas (CSV injection): defuse them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
