"""Applying platform orders and refunds: idempotent, and indifferent to arrival order.

Platforms deliver each event one or more times, late, and out of order. So:
- an order is upserted by (shop, platform order id); a payload no newer (by the platform's
  `updated_at`) than the one applied never overwrites the stored state;
- some facts only ever become true and are merged from every payload, stale or not: the order
  was paid (`paid_at`, the earliest payload showing it), was cancelled, was deleted;
- refunds are stored in the Refund table (deduplicated by refund id) whether they come alone or
  embedded in an order payload, and a refund whose order is unknown waits there for it;
- the ledger is then brought up to date from that state (`plugin.services.settlement.settle_order`),
  which only ever appends, by idempotency key.
All work on one order is serialised by a transaction-scoped lock (a PostgreSQL advisory lock;
SQLite's write lock already serialises writers). A caller that would rather do other work than
wait (a worker draining a batch of webhook events) sets `session.info[DEFER_BUSY_ORDERS]`, and a
lock held by another transaction then raises OrderBusy at once. These functions flush but never
commit.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import fields
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session, load_only

from connectors.base import LineItem, MalformedPayload, NormalizedOrder, NormalizedRefund
from plugin.domain.attribution_inputs import attribution_inputs
from plugin.domain.commissions import PAID_STATUSES
from plugin.domain.money import negative_amounts
from plugin.models import Agreement, Attribution, Order, Refund, Shop, utcnow
from plugin.models.orders import ORDER_STATUSES
from plugin.services import rollups
from plugin.services.attribution import record_attribution
from plugin.services.ledger import insert_ignore
from plugin.services.settlement import commission_posted, settle_order
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

# The platform time of an order known only from its deletion: any real payload is newer.
TOMBSTONE_TIME = datetime(1970, 1, 1, tzinfo=UTC)
DEFER_BUSY_ORDERS = "tastemaker.defer_busy_orders"
_LINE_ITEM_FIELDS = tuple(field.name for field in fields(LineItem))


class OrderBusy(Exception):
    """Another transaction is changing this order; raised instead of waiting when the session's
    `DEFER_BUSY_ORDERS` is set."""


def apply_order(session: Session, shop: Shop, order: NormalizedOrder) -> Order | None:
    """Upsert the order, attribute it, and settle its ledger. Test orders are skipped (None)."""
    if order.test:
        logger.info("shop %s: test order %s ignored", shop.id, order.platform_order_id)
        return None
    if order.status not in ORDER_STATUSES:
        raise MalformedPayload(f"order status {order.status!r} is not one of {ORDER_STATUSES}")
    _refuse_negative_amounts(order)
    lock_order(session, shop.id, order.platform_order_id)
    row, attribution, agreement = _load(session, shop.id, order.platform_order_id)
    first_seen = row is None or row.platform_updated_at == TOMBSTONE_TIME
    newer = row is None or order.updated_at > row.platform_updated_at
    if row is None:
        row = Tenant(session, shop.id).add(Order(platform_order_id=order.platform_order_id))
    if newer:
        _copy_payload(row, order)
    _merge_facts(row, order)
    now = utcnow()
    for refund in order.refunds:
        _store_refund(session, shop.id, refund, applied_at=now)
    session.flush()
    if _needs_attribution(session, shop, attribution, order, newer=newer):
        attribution = record_attribution(session, shop, row, order, attribution)
        session.flush()
        agreement = None
    if first_seen:
        _apply_held_refunds(session, shop.id, order.platform_order_id, now)
    settle_order(session, shop, row, attribution, agreement=agreement, now=now)
    session.flush()
    rollups.refresh_order(session, shop, row.id)
    return row


def apply_refund(session: Session, shop: Shop, refund: NormalizedRefund) -> None:
    """Record a refund; reverse commission now if its order is known, else when it arrives."""
    _refuse_negative_refund(refund)
    lock_order(session, shop.id, refund.platform_order_id)
    row, attribution, agreement = _load(session, shop.id, refund.platform_order_id)
    now = utcnow()
    _store_refund(session, shop.id, refund, applied_at=now if row is not None else None)
    if row is None:
        logger.info(
            "shop %s: refund %s held until order %s arrives",
            shop.id,
            refund.platform_refund_id,
            refund.platform_order_id,
        )
        return
    settle_order(session, shop, row, attribution, agreement=agreement, now=now)
    session.flush()
    rollups.refresh_order(session, shop, row.id)


def delete_order(session: Session, shop: Shop, platform_order_id: int) -> None:
    """The platform deleted the order: it counts as cancelled, whenever its payloads arrive."""
    lock_order(session, shop.id, platform_order_id)
    tenant = Tenant(session, shop.id)
    now = utcnow()
    row = tenant.first(Order, Order.platform_order_id == platform_order_id)
    if row is None:
        # A tombstone, so that the order's own payloads, if they come later, find it deleted.
        row = tenant.add(
            Order(
                platform_order_id=platform_order_id,
                status="cancelled",
                currency=shop.currency,
                presentment_currency=shop.currency,
                placed_at=now,
                platform_updated_at=TOMBSTONE_TIME,
            )
        )
        _apply_held_refunds(session, shop.id, platform_order_id, now)
    row.deleted_at = row.deleted_at or now
    row.cancelled_at = row.cancelled_at or now
    row.status = "cancelled"
    session.flush()
    attribution = tenant.first(Attribution, Attribution.order_id == row.id)
    settle_order(session, shop, row, attribution, now=now)
    session.flush()
    rollups.refresh_order(session, shop, row.id)


def _refuse_negative_amounts(order: NormalizedOrder) -> None:
    """A negative total is bad input: the event is kept, failed with this reason, never posted."""
    amounts = {
        "subtotal": order.subtotal_minor,
        "discount": order.discount_minor,
        "tax": order.tax_minor,
        "shipping": order.shipping_minor,
        "total": order.total_minor,
        "presentment total": order.presentment_total_minor,
    }
    for item in order.line_items:
        amounts[f"line {item.platform_line_id} price"] = item.unit_price_minor
        amounts[f"line {item.platform_line_id} quantity"] = item.quantity
    problems = negative_amounts(amounts)
    for refund in order.refunds:
        _refuse_negative_refund(refund)
    if problems:
        raise MalformedPayload(
            f"order {order.platform_order_id} has negative amounts ({', '.join(problems)}); "
            "kept, not posted"
        )


def _refuse_negative_refund(refund: NormalizedRefund) -> None:
    problems = negative_amounts(
        {"item amount": refund.item_amount_minor, "total": refund.total_amount_minor}
    )
    if problems:
        raise MalformedPayload(
            f"refund {refund.platform_refund_id} has negative amounts ({', '.join(problems)}); "
            "kept, not posted"
        )


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")


def lock_order(session: Session, shop_id: int, platform_order_id: int) -> None:
    """Serialise every change to one order until the transaction ends (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"order:{shop_id}:{platform_order_id}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    connection = session.connection()  # a plain statement needs none of the ORM's machinery
    if not session.info.get(DEFER_BUSY_ORDERS):
        connection.execute(_LOCK, {"key": key})
    elif not connection.scalar(_TRY_LOCK, {"key": key}):
        raise OrderBusy(f"order {platform_order_id} of shop {shop_id} is being changed")


# Built once: this runs for every order event, and building a statement costs more than
# looking up its compiled form.
_LOAD = (
    select(Order, Attribution, Agreement)
    .outerjoin(Attribution, Attribution.order_id == Order.id)
    .outerjoin(Agreement, Agreement.id == Attribution.agreement_id)
    .where(
        Order.shop_id == bindparam("shop_id"),
        Order.platform_order_id == bindparam("platform_order_id"),
    )
    # The ledger reads only the terms; the rest of the agreement would load on access.
    .options(load_only(Agreement.commission_rate_bps, Agreement.bonus_tiers))
)


def _load(
    session: Session, shop_id: int, platform_order_id: int
) -> tuple[Order | None, Attribution | None, Agreement | None]:
    """The order, its attribution and the attribution's agreement, in one query."""
    found = session.execute(
        _LOAD, {"shop_id": shop_id, "platform_order_id": platform_order_id}
    ).first()
    if found is None:
        return None, None, None
    return found[0], found[1], found[2]


def _needs_attribution(
    session: Session,
    shop: Shop,
    attribution: Attribution | None,
    order: NormalizedOrder,
    *,
    newer: bool,
) -> bool:
    """Attribute on first sight, and again on newer payloads until the order has earned.

    The decision stays open so that, say, a click replayed late from the spool can still count;
    a decision that already earns is only revisited when the order's referral inputs change.
    """
    if attribution is None:
        return True
    if not newer:
        return False
    earns = (
        attribution.creator_id is not None
        and attribution.agreement_id is not None
        and not attribution.self_referral
    )
    if earns and attribution.evidence.get("order") == attribution_inputs(order):
        return False
    return not commission_posted(session, shop.id, order.platform_order_id)


# Core, not the ORM: nothing reads applied_at back from loaded rows, and matching the update
# against every object in the session would cost more than the update itself.
_APPLY_HELD_REFUNDS = (
    update(Refund.__table__)
    .where(
        Refund.shop_id == bindparam("held_shop_id"),
        Refund.platform_order_id == bindparam("held_order_id"),
        Refund.applied_at.is_(None),
    )
    .values(applied_at=bindparam("now"))
)


def _apply_held_refunds(
    session: Session, shop_id: int, platform_order_id: int, now: datetime
) -> None:
    session.connection().execute(
        _APPLY_HELD_REFUNDS,
        {"held_shop_id": shop_id, "held_order_id": platform_order_id, "now": now},
    )


def _copy_payload(row: Order, order: NormalizedOrder) -> None:
    row.order_number = order.order_number[:64]
    row.status = "cancelled" if row.deleted_at is not None else order.status
    row.currency = order.currency
    row.presentment_currency = order.presentment_currency
    row.subtotal_minor = order.subtotal_minor
    row.discount_minor = order.discount_minor
    row.tax_minor = order.tax_minor
    row.shipping_minor = order.shipping_minor
    row.total_minor = order.total_minor
    row.net_item_revenue_minor = order.net_item_revenue_minor
    row.presentment_total_minor = order.presentment_total_minor
    row.customer_ref = order.customer_id[:64] if order.customer_id else None
    row.customer_email_hash = order.customer_email_hash
    row.is_first_order = order.is_first_order
    row.is_test = order.test
    row.discount_codes = list(order.discount_codes)
    row.click_uid = order.click_id[:128] if order.click_id else None
    row.landing_site = order.landing_site[:2048] if order.landing_site else None
    row.referring_site = order.referring_site[:2048] if order.referring_site else None
    row.line_items = [
        {name: getattr(item, name) for name in _LINE_ITEM_FIELDS} for item in order.line_items
    ]
    row.placed_at = order.created_at
    row.platform_updated_at = order.updated_at


def _merge_facts(row: Order, order: NormalizedOrder) -> None:
    if order.status in PAID_STATUSES:
        row.paid_at = _earliest(row.paid_at, order.updated_at)
    cancelled = order.cancelled_at or (order.updated_at if order.status == "cancelled" else None)
    if cancelled is not None:
        row.cancelled_at = _earliest(row.cancelled_at, cancelled)


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _store_refund(
    session: Session, shop_id: int, refund: NormalizedRefund, *, applied_at: datetime | None
) -> None:
    insert_ignore(
        session,
        Refund,
        {
            "shop_id": shop_id,
            "platform_refund_id": refund.platform_refund_id,
            "platform_order_id": refund.platform_order_id,
            "item_amount_minor": refund.item_amount_minor,
            "total_amount_minor": refund.total_amount_minor,
            "currency": refund.currency,
            "refunded_at": refund.created_at,
            "applied_at": applied_at,
            "created_at": utcnow(),
        },
        ("shop_id", "platform_refund_id"),
    )
