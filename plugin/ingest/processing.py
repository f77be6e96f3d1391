"""Processing one inbox event: claim it, find its handler through the topic table, run it once.

The claim is the row itself: `SELECT ... WHERE status = 'pending' FOR UPDATE SKIP LOCKED` on
PostgreSQL (a second worker skips the row instead of waiting), and on SQLite the transaction's
BEGIN IMMEDIATE write lock serialises workers, so the second one sees the event processed. The
handler runs inside a savepoint of the claiming transaction: its writes and the status change
commit together, and a handler failure is undone while the claim (and the lock) is kept.

Handlers never commit; they may use `workers.runtime.enqueue_after_commit`.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from connectors.base import MalformedPayload, RetryableConnectorError
from plugin.extensions import connectors, credentials, manifest
from plugin.ingest.registry import HandlerContext, handlers
from plugin.manifest import ManifestError, WebhookSubscription
from plugin.models import Shop, WebhookEvent, utcnow
from workers.registry import RetryableJobError

logger = logging.getLogger(__name__)

# Past this many retryable failures an event is marked failed instead of pending forever.
MAX_ATTEMPTS = 12


def process_event(session: Session, event_id: int) -> str | None:
    """Process a pending event; returns its new status, or None when there was nothing to do."""
    # The shop comes with the claim (one round trip); only the event row is locked.
    claimed = session.execute(
        select(WebhookEvent, Shop)
        .outerjoin(Shop, Shop.id == WebhookEvent.shop_id)
        .where(WebhookEvent.id == event_id, WebhookEvent.status == "pending")
        .with_for_update(of=WebhookEvent, skip_locked=True)
    ).first()
    if claimed is None:
        session.rollback()
        return None
    event, shop = claimed
    subscription = _subscription(event.platform, event.topic)
    if subscription is None:
        return _finish(session, event, "ignored", f"no handler for {event.platform} {event.topic}")
    if not subscription.compliance and (shop is None or shop.status == "uninstalled"):
        reason = "shop is uninstalled" if shop is not None else "shop is unknown"
        return _finish(session, event, "ignored", reason)
    try:
        payload = json.loads(event.body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both
        return _finish(session, event, "failed", f"malformed JSON body: {exc}")
    handler = handlers().get(subscription.handler)
    if handler is None:
        return _finish(session, event, "failed", f"handler {subscription.handler!r} is missing")
    context = HandlerContext(
        session=session,
        event=event,
        shop=shop,
        connector=connectors().get(event.platform),
        payload=payload,
        credentials=credentials(),
    )
    savepoint = session.begin_nested()
    try:
        handler(context)
        savepoint.commit()
    except MalformedPayload as exc:
        savepoint.rollback()
        return _finish(session, event, "failed", f"malformed payload: {exc}")
    except RetryableConnectorError as exc:
        savepoint.rollback()
        if event.attempts + 1 >= MAX_ATTEMPTS:
            return _finish(
                session, event, "failed", f"gave up after {MAX_ATTEMPTS} attempts: {exc}"
            )
        event.attempts += 1
        event.error = f"retrying: {exc}"
        session.commit()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except OperationalError as exc:
        # The connection or the server failed: the event stays pending for a retry.
        session.rollback()
        raise RetryableJobError(f"database error: {exc}") from exc
    except Exception as exc:
        # A bug or a constraint the handler did not expect: keep the evidence, do not loop.
        if savepoint.is_active:
            savepoint.rollback()
        logger.exception("webhook event %s (%s) failed in %s", event_id, event.topic, handler)
        _finish(session, event, "failed", f"{type(exc).__name__}: {exc}")
        raise
    return _finish(session, event, "processed", None)


def _subscription(platform: str, topic: str) -> WebhookSubscription | None:
    try:
        subscriptions = manifest().subscriptions(platform)
    except ManifestError:
        return None
    return next((sub for sub in subscriptions if sub.topic == topic), None)


def _finish(session: Session, event: WebhookEvent, status: str, reason: str | None) -> str:
    event.status = status
    event.error = reason
    event.attempts += 1
    event.processed_at = utcnow()
    session.commit()
    if reason:
        logger.info("webhook event %s %s: %s", event.id, status, reason)
    return status
