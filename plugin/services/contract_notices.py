"""Where contract events ask for the creator to be told: the one call point for email.

Email is built elsewhere (plugin/services/mail*); until it is wired here these only log. Both are
called inside the caller's transaction: an implementation should queue its send with
`workers.runtime.enqueue_after_commit` and an idempotency key such as
`contract-changed:<agreement id>:<version>` / `deliverable-reviewed:<deliverable id>:<reviewed at>`,
so a rolled-back change sends nothing and a retried one sends once.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


def notify_contract_changed(session: Session, agreement_id: int, version: int) -> None:
    """Terms changed: the creator should read and accept version `version` (email them)."""
    logger.info("agreement %s: version %s awaits the creator's acceptance", agreement_id, version)


def notify_deliverable_reviewed(session: Session, deliverable_id: int) -> None:
    """The merchant approved a deliverable or asked for changes (email the creator the result
    and the merchant's message: Deliverable.status / .feedback)."""
    logger.info("deliverable %s reviewed", deliverable_id)
