"""Discount codes in the store: created and deactivated through the shop's connector, in jobs.

Each job takes a code (or creator) id and works from the row's current state, so running it twice
or after the sweeper re-sent it does nothing new. On PostgreSQL the row is locked with SKIP LOCKED
while the store is called: a second worker on the same code walks away instead of creating the
code twice (which the store would answer with "taken").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import (
    CredentialsRevoked,
    DiscountCodeSpec,
    DiscountCodeTaken,
    RetryableConnectorError,
    TerminalConnectorError,
)
from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.models import Creator, DiscountCode, Shop, utcnow
from plugin.services.shops import mark_needs_reconnect, shop_context
from workers.registry import RetryableJobError, job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)

# Longer than a create job's whole retry window: the sweeper only re-sends codes that are stuck.
SWEEP_GRACE = timedelta(minutes=10)
LIVE_STATUSES = ("pending", "active")


@job("codes", timeout=60)
def create_discount_code(code_id: int) -> None:
    session = get_session()
    code = _lock_code(session, code_id, ("pending",))
    if code is None:
        return
    shop = session.get(Shop, code.shop_id)
    if shop is None or not shop.is_active:
        session.rollback()
        return
    creator = session.get(Creator, code.creator_id)
    if creator is None or creator.status != "active":
        code.status = "deactivated"
        code.error = "creator is not active"
        session.commit()
        return
    spec = DiscountCodeSpec(
        code=code.code,
        title=f"Tastemaker @{creator.handle}: {code.code}",
        kind=code.kind,
        value=code.value,
        currency=code.currency,
        starts_at=code.starts_at,
        ends_at=code.ends_at,
        usage_limit=code.usage_limit,
        once_per_customer=code.once_per_customer,
        combines_with={key: bool(value) for key, value in code.combines_with.items()},
    )
    context = shop_context(session, credentials(), shop)
    connector = connectors().get(shop.platform)
    _release_sqlite_write_lock(session)
    try:
        created = connector.create_discount_code(context, spec)
    except DiscountCodeTaken as exc:
        code.status = "taken"
        code.error = str(exc)
        code.alternatives = list(exc.alternatives)
    except RetryableConnectorError as exc:
        session.rollback()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except CredentialsRevoked as exc:
        # The code stays pending: the sweeper sends it again once the shop is reconnected.
        logger.warning("shop %s revoked our credentials while creating code %s", shop.id, code_id)
        mark_needs_reconnect(session, shop.id)
        code.error = str(exc)
    except TerminalConnectorError as exc:
        code.status = "failed"
        code.error = str(exc)
    else:
        code.status = "active"
        code.platform_id = created.platform_id
        code.error = None
    session.commit()


@job("codes", timeout=300)
def deactivate_creator_codes(creator_id: int) -> None:
    """Retire a paused or terminated creator's codes in the store (one commit per code)."""
    session = get_session()
    creator = session.get(Creator, creator_id)
    if creator is None or creator.status == "active":
        return
    code_ids = session.scalars(
        select(DiscountCode.id)
        .where(
            DiscountCode.shop_id == creator.shop_id,
            DiscountCode.creator_id == creator_id,
            DiscountCode.status.in_(LIVE_STATUSES),
        )
        .order_by(DiscountCode.id)
    ).all()
    session.rollback()
    for code_id in code_ids:
        _deactivate(session, code_id)


@job("codes", timeout=60)
def deactivate_code(code_id: int) -> None:
    _deactivate(get_session(), code_id)


@job("periodic")
def sweep_pending_codes() -> int:
    """Re-send stuck creations and deactivations (Redis was down, retries ran out)."""
    session = get_session()
    cutoff = utcnow() - SWEEP_GRACE
    pending = session.scalars(
        select(DiscountCode.id)
        .join(Shop, Shop.id == DiscountCode.shop_id)
        .where(
            DiscountCode.status == "pending",
            DiscountCode.created_at <= cutoff,
            Shop.status == "active",
        )
        .order_by(DiscountCode.id)
    ).all()
    stale_creators = session.scalars(
        select(Creator.id)
        .join(DiscountCode, DiscountCode.creator_id == Creator.id)
        .join(Shop, Shop.id == Creator.shop_id)
        .where(
            Creator.status != "active",
            DiscountCode.status.in_(LIVE_STATUSES),
            Shop.status == "active",
        )
        .distinct()
        .order_by(Creator.id)
    ).all()
    session.rollback()
    for code_id in pending:
        enqueue(create_discount_code, code_id)
    for creator_id in stale_creators:
        enqueue(deactivate_creator_codes, creator_id)
    return len(pending) + len(stale_creators)


def _deactivate(session: Session, code_id: int) -> None:
    code = _lock_code(session, code_id, LIVE_STATUSES)
    if code is None:
        return
    shop = session.get(Shop, code.shop_id)
    if code.status == "pending" or code.platform_id is None or shop is None:
        code.status = "deactivated"  # never reached the store: nothing to undo there
        session.commit()
        return
    if shop.status == "uninstalled":
        code.status = "deactivated"  # the platform removes an uninstalled app's discounts
        session.commit()
        return
    if not shop.is_active:
        session.rollback()  # needs reconnect: the sweeper comes back to it
        return
    _deactivate_in_store(session, code, shop)


@job("codes", timeout=60)
def reassert_deactivation(code_id: int) -> None:
    """Deactivate again in the store a code we deactivated that the store shows usable again."""
    session = get_session()
    code = _lock_code(session, code_id, ("deactivated",))
    shop = session.get(Shop, code.shop_id) if code is not None else None
    if code is None or code.platform_id is None or shop is None or not shop.is_active:
        session.rollback()
        return
    _deactivate_in_store(session, code, shop)


def _deactivate_in_store(session: Session, code: DiscountCode, shop: Shop) -> None:
    context = shop_context(session, credentials(), shop)
    connector = connectors().get(shop.platform)
    platform_id = str(code.platform_id)
    _release_sqlite_write_lock(session)
    try:
        connector.deactivate_discount_code(context, platform_id)
    except RetryableConnectorError as exc:
        session.rollback()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except CredentialsRevoked as exc:
        mark_needs_reconnect(session, shop.id)
        code.error = str(exc)
    except TerminalConnectorError as exc:
        code.error = f"deactivation failed: {exc}"
    else:
        code.status = "deactivated"
        code.error = None
    session.commit()


def _lock_code(session: Session, code_id: int, statuses: tuple[str, ...]) -> DiscountCode | None:
    return session.scalars(
        select(DiscountCode)
        .where(DiscountCode.id == code_id, DiscountCode.status.in_(statuses))
        .with_for_update(skip_locked=True)
    ).first()


def _release_sqlite_write_lock(session: Session) -> None:
    # SQLite has no row locks: its transactions take the whole write lock (BEGIN IMMEDIATE), and
    # holding it across a store call would stall every writer. Its single-threaded embedded runner
    # never runs two jobs for one code at once, so ending the transaction here loses nothing.
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
