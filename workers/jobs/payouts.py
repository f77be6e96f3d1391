"""Payout batches: one job per shop and batch key; the daily job sends one per active shop."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import RetryableConnectorError, StoreCreditSpec, TerminalConnectorError
from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.models import Creator, Payout, Shop, utcnow
from plugin.services.payouts import (
    STORE_CREDIT_UNCONFIRMED,
    batch_payouts,
    claim_store_credit,
    mark_paid,
)
from plugin.services.shops import shop_context
from workers.registry import job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)


def daily_batch_key(moment: datetime) -> str:
    return f"daily-{moment.date().isoformat()}"


@job("payouts", timeout=300)
def batch_shop_payouts(shop_id: int, batch_key: str) -> int:
    """Safe to run twice or at the same time: the batch key makes the second run a no-op."""
    session = get_session()
    created = batch_payouts(session, shop_id, batch_key)
    session.commit()
    return len(created)


@job("payouts", timeout=60)
def pay_in_store_credit(payout_id: int) -> None:
    """Pay an approved payout as store credit in the shop, for creators who chose it.

    The payout is claimed first (a marker in its reference), so it is credited at most once;
    when the store's answer is lost the payout is left marked unconfirmed for the merchant to
    check, never credited a second time.
    """
    session = get_session()
    payout = session.get(Payout, payout_id)
    creator = session.get(Creator, payout.creator_id) if payout else None
    shop = session.get(Shop, payout.shop_id) if payout else None
    if payout is None or creator is None or shop is None or not shop.is_active:
        session.rollback()
        return
    if not creator.email or not claim_store_credit(session, payout_id):
        session.rollback()
        return
    context = shop_context(session, credentials(), shop)
    spec = StoreCreditSpec(
        creator.email, payout.amount_minor, payout.currency, f"payout:{payout.id}"
    )
    session.commit()
    try:
        issued = connectors().get(shop.platform).issue_store_credit(context, spec)
    except RetryableConnectorError as exc:
        _set_reference(session, payout_id, STORE_CREDIT_UNCONFIRMED, str(exc))
        return
    except TerminalConnectorError as exc:
        _set_reference(session, payout_id, None, f"store credit refused: {exc}")
        return
    payout = session.get(Payout, payout_id)
    assert payout is not None
    payout.external_reference = None
    mark_paid(session, shop.id, payout_id, f"store credit {issued.code or issued.platform_id}")
    session.commit()


def _set_reference(session: Session, payout_id: int, reference: str | None, note: str) -> None:
    payout = session.get(Payout, payout_id)
    if payout is not None:
        payout.external_reference = reference
        payout.note = note[:2000]
        session.commit()
    logger.warning("payout %s not paid in store credit: %s", payout_id, note)


@job("payouts", timeout=120)
def batch_all_shops() -> int:
    batch_key = daily_batch_key(utcnow())
    session = get_session()
    shop_ids = session.scalars(
        select(Shop.id).where(Shop.status == "active").order_by(Shop.id)
    ).all()
    session.rollback()
    for shop_id in shop_ids:
        # A stable job id lets RQ drop a duplicate while the first is still queued.
        enqueue(batch_shop_payouts, shop_id, batch_key, job_id=f"payouts-{shop_id}-{batch_key}")
    logger.info("payout batch %s sent for %d shops", batch_key, len(shop_ids))
    return len(shop_ids)
