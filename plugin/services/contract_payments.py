"""What a shop owes its creators under their agreements, and when (the upcoming-payments view).

Booked flat fees are ledger entries (kind flat_fee); upcoming ones are projected from each
agreement's schedule by `plugin.domain.contracts.upcoming_flat_fees`, leaving out every
installment whose idempotency key is already booked, so the two lists never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.contracts import upcoming_flat_fees
from plugin.models import Agreement, Creator, Deliverable, LedgerEntry, Shop
from plugin.services.ledger import shop_timezone

FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class UpcomingPayment:
    agreement_id: int
    creator: Creator
    key: str
    amount_minor: int
    currency: str
    expected_at: datetime | None
    condition: str


def booked_flat_fees(
    session: Session, shop_id: int, agreement_id: int | None = None, limit: int = 100
) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(
        LedgerEntry.shop_id == shop_id, LedgerEntry.kind == "flat_fee"
    )
    if agreement_id is not None:
        query = query.where(LedgerEntry.agreement_id == agreement_id)
    return list(session.scalars(query.order_by(LedgerEntry.available_at.desc()).limit(limit)))


def upcoming_payments(
    session: Session, shop: Shop, now: datetime, *, agreement_id: int | None = None, months: int = 3
) -> list[UpcomingPayment]:
    criteria = [Agreement.shop_id == shop.id, Agreement.flat_fee_minor > 0]
    if agreement_id is not None:
        criteria.append(Agreement.id == agreement_id)
    rows = session.execute(
        select(Agreement, Creator)
        .join(Creator, Creator.id == Agreement.creator_id)
        .where(*criteria)
        .order_by(Agreement.id)
    ).all()
    if not rows:
        return []
    ids = [agreement.id for agreement, _ in rows]
    posted = set(
        session.scalars(
            select(LedgerEntry.idempotency_key).where(
                LedgerEntry.shop_id == shop.id,
                LedgerEntry.kind == "flat_fee",
                LedgerEntry.agreement_id.in_(ids),
            )
        )
    )
    work: dict[int, list[Deliverable]] = {}
    for deliverable in session.scalars(
        select(Deliverable)
        .where(Deliverable.shop_id == shop.id, Deliverable.agreement_id.in_(ids))
        .order_by(Deliverable.position)
    ):
        work.setdefault(deliverable.agreement_id, []).append(deliverable)
    tz = shop_timezone(shop)
    result: list[UpcomingPayment] = []
    for agreement, creator in rows:
        listed = work.get(agreement.id) or []
        fees = upcoming_flat_fees(
            agreement_id=agreement.id,
            schedule=agreement.payment_schedule,
            fee_minor=agreement.flat_fee_minor,
            status=agreement.status,
            starts_at=agreement.starts_at or agreement.created_at,
            ends_at=agreement.ends_at,
            signed_at=agreement.signed_at if agreement.terms_version else agreement.created_at,
            deliverable_due=[(d.kind, d.due_at, d.approved_at is not None) for d in listed]
            or [(str(item.get("kind", "")), None, False) for item in agreement.deliverables],
            posted_keys=posted,
            now=now,
            tz=tz,
            months=months,
        )
        result.extend(
            UpcomingPayment(
                agreement.id,
                creator,
                fee.key,
                fee.amount_minor,
                agreement.currency,
                fee.expected_at,
                fee.condition,
            )
            for fee in fees
        )
    result.sort(key=lambda p: (p.expected_at or FAR, p.creator.handle, p.key))
    return result
