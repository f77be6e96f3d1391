"""Where contract events tell the creator: one call point per event, turned into email.

Both are called inside the caller's transaction; `plugin.services.notifications` queues the
message with an idempotency key (the agreement's version, the deliverable's review time) and
sends it after commit, so a rolled-back change sends nothing and a retried one sends once.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from plugin.models import Agreement, Creator, Deliverable, Shop
from plugin.services import notifications

logger = logging.getLogger(__name__)


def notify_contract_changed(session: Session, agreement_id: int, version: int) -> None:
    """Terms changed: the creator should read and accept version `version`."""
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        return
    found = _creator_and_shop(session, agreement.creator_id, agreement.shop_id)
    if found is None:
        return
    logger.info("agreement %s: version %s awaits the creator's acceptance", agreement_id, version)
    notifications.contract_changed(
        session, found[1], found[0], agreement_id=agreement_id, version=version
    )


def notify_deliverable_reviewed(session: Session, deliverable_id: int) -> None:
    """The merchant approved a deliverable or asked for changes: the result and the message."""
    deliverable = session.get(Deliverable, deliverable_id)
    if deliverable is None:
        return
    found = _creator_and_shop(session, deliverable.creator_id, deliverable.shop_id)
    if found is None:
        return
    notifications.deliverable_reviewed(
        session,
        found[1],
        found[0],
        deliverable_id=deliverable_id,
        decision=deliverable.status,
        note=deliverable.feedback,
        reviewed_at=deliverable.reviewed_at,
    )


def _creator_and_shop(
    session: Session, creator_id: int, shop_id: int
) -> tuple[Creator, Shop] | None:
    creator, shop = session.get(Creator, creator_id), session.get(Shop, shop_id)
    if creator is None or shop is None or creator.shop_id != shop_id:
        return None
    return creator, shop
