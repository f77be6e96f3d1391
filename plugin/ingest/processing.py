"""Processing inbox events: claim a batch, find each handler through the topic table, run it once.

The claim is the rows themselves: `SELECT ... WHERE status = 'pending' ... FOR UPDATE SKIP
LOCKED` on PostgreSQL (a second worker skips claimed rows and takes the next ones instead of
waiting), and on SQLite the transaction's BEGIN IMMEDIATE write lock serialises workers. Each
handler runs inside its own savepoint of the claiming transaction, so one event's failure undoes
only that event's writes; the batch's effects and status changes commit together, once.

Two workers' batches can hold events of the same order (its create in one, its paid in the
next). Waiting for the other batch's order lock would serialise the workers, so the first pass
over a batch skips busy orders, and a second pass takes them, waiting if it must, once the
rest of the batch is done (by then the other batch has usually committed).

A transient failure (the store timed out) keeps the event pending with `next_attempt_at` set; the
periodic sweep hands it back to a drain once that time has come.

Handlers never commit; they may ask for background work with `plugin.background.after_commit`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from connectors.base import MalformedPayload, RetryableConnectorError
from connectors.payload import load_json
from plugin.extensions import connectors, credentials, manifest
from plugin.ingest.registry import HandlerContext, handlers
from plugin.manifest import ManifestError, WebhookSubscription
from plugin.models import Shop, WebhookEvent, utcnow
from plugin.services.orders import DEFER_BUSY_ORDERS, OrderBusy
from workers.registry import RetryableJobError

logger = logging.getLogger(__name__)

# Past this many transient failures an event is marked failed instead of pending forever.
MAX_ATTEMPTS = 12
# The first pass's answer for an event whose order another transaction holds.
BUSY = "busy"
# Waits between transient failures; the last one repeats.
RETRY_BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
)


@dataclass
class Batch:
    """What one pass over the inbox did: each claimed event's id and new status."""

    outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def claimed(self) -> int:
        return len(self.outcomes)


def process_pending(
    session: Session,
    *,
    limit: int,
    event_ids: Sequence[int] | None = None,
    on_full_claim: Callable[[], object] | None = None,
) -> Batch:
    """Claim up to `limit` due pending events (oldest first, or only `event_ids`), process each,
    and commit once. `on_full_claim` runs right after a claim that hit the limit, before the
    work: more is probably waiting, and another worker can start on it now.

    A failure undoes the whole batch. Its events are then taken one by one, so only an event
    that fails on its own is charged (`_count_failure`); while the database is down nothing is
    charged and RetryableJobError is raised (every event stays pending)."""
    now = utcnow()
    due: list[ColumnElement[bool]] = [
        WebhookEvent.status == "pending",
        or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now),
    ]
    if event_ids is not None:
        due.append(WebhookEvent.id.in_(event_ids))
    try:
        claimed = session.execute(
            select(WebhookEvent, Shop)
            .outerjoin(Shop, Shop.id == WebhookEvent.shop_id)
            .where(*due)
            .order_by(WebhookEvent.received_at, WebhookEvent.id)
            .limit(limit)
            .with_for_update(of=WebhookEvent, skip_locked=True)
        ).all()
    except OperationalError as exc:
        session.rollback()
        raise RetryableJobError(f"database error: {exc}") from exc
    if not claimed:
        session.rollback()
        return Batch()
    claimed_ids = [event.id for event, _ in claimed]
    try:
        if on_full_claim is not None and len(claimed) == limit:
            on_full_claim()
        batch = _process_batch(session, [(event, shop) for event, shop in claimed])
        session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure: which event caused it is found below
        # Nothing of the batch was kept. The server may be gone, or one event may break every
        # batch it is in: find out which, so that one event never holds up the inbox.
        session.rollback()
        return _after_failed_batch(session, claimed_ids, exc)
    return batch


def _after_failed_batch(session: Session, event_ids: list[int], error: Exception) -> Batch:
    """Each event of a failed batch alone; a lone event's failure is counted against it.

    Counting needs the database: while it is down the count fails too and the drain is retried
    as a whole, with no attempt charged to any event."""
    if len(event_ids) > 1:
        batch = Batch()
        for event_id in event_ids:
            batch.outcomes.update(process_pending(session, limit=1, event_ids=[event_id]).outcomes)
        return batch
    (event_id,) = event_ids
    try:
        status = _count_failure(session, event_id, error)
        session.commit()
    except Exception as again:  # noqa: BLE001 - cannot even count it: the database is not there
        session.rollback()
        logger.warning("webhook event %s: drain failed (%s), then %s", event_id, error, again)
        raise RetryableJobError(f"database error: {error}") from error
    return Batch({event_id: status} if status is not None else {})


def _count_failure(session: Session, event_id: int, error: Exception) -> str | None:
    """A pending event that failed on its own: retried with backoff while the failure may be
    transient, and parked (failed, with the reason) after MAX_ATTEMPTS or at once otherwise."""
    event = session.get(WebhookEvent, event_id, with_for_update=True)
    if event is None or event.status != "pending":
        return None
    reason = f"{type(error).__name__}: {error}"[:500]
    if not _transient(error):
        logger.error("webhook event %s failed outside its handler: %s", event_id, reason)
        return _finish(event, "failed", reason)
    if event.attempts + 1 >= MAX_ATTEMPTS:
        return _finish(event, "failed", f"parked after {MAX_ATTEMPTS} failed attempts: {reason}")
    backoff = RETRY_BACKOFF[min(event.attempts, len(RETRY_BACKOFF) - 1)]
    event.attempts += 1
    event.error = f"retrying: {reason}"
    event.next_attempt_at = utcnow() + backoff
    logger.warning("webhook event %s failed, retries after %s: %s", event_id, backoff, reason)
    return "pending"


def _transient(error: Exception) -> bool:
    """A failure of the connection or the server (or a deadlock), not of the event itself."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _process_batch(session: Session, claimed: list[tuple[WebhookEvent, Shop | None]]) -> Batch:
    """Both passes over the claimed events, then their status; the caller commits."""
    batch = Batch()
    busy: list[tuple[WebhookEvent, Shop | None]] = []
    session.info[DEFER_BUSY_ORDERS] = True
    try:
        for event, shop in claimed:
            status = _process_claimed(session, event, shop)
            if status == BUSY:
                busy.append((event, shop))
            else:
                batch.outcomes[event.id] = status
    finally:
        session.info.pop(DEFER_BUSY_ORDERS, None)
    for event, shop in busy:  # now waiting for the order lock if another batch still holds it
        batch.outcomes[event.id] = _process_claimed(session, event, shop)
    _mark_processed(session, [event for event, _ in claimed], batch)
    return batch


def process_event(session: Session, event_id: int) -> str | None:
    """Process one due pending event by id; None when there was nothing to do: the event is
    gone, finished, waiting for its next attempt, or claimed by another worker."""
    return process_pending(session, limit=1, event_ids=[event_id]).outcomes.get(event_id)


def _process_claimed(session: Session, event: WebhookEvent, shop: Shop | None) -> str:
    """Run one claimed event; anything but a failure of the database itself fails this event
    alone, with its reason, and the batch goes on."""
    try:
        return _run_handler(session, event, shop)
    except OperationalError:
        raise  # the connection itself failed: the whole batch is retried
    except Exception as exc:
        logger.exception("webhook event %s (%s) failed", event.id, event.topic)
        return _finish(event, "failed", f"{type(exc).__name__}: {exc}"[:500])


def _run_handler(session: Session, event: WebhookEvent, shop: Shop | None) -> str:
    subscription = _subscription(event.platform, event.topic)
    if subscription is None:
        return _finish(event, "ignored", f"no handler for {event.platform} {event.topic}")
    if not subscription.compliance and (shop is None or shop.status == "uninstalled"):
        reason = "shop is uninstalled" if shop is not None else "shop is unknown"
        return _finish(event, "ignored", reason)
    try:
        payload = load_json(bytes(event.body))
    except MalformedPayload as exc:
        return _finish(event, "failed", str(exc))
    handler = handlers().get(subscription.handler)
    if handler is None:
        return _finish(event, "failed", f"handler {subscription.handler!r} is missing")
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
    except OrderBusy:
        savepoint.rollback()
        return BUSY
    except MalformedPayload as exc:
        savepoint.rollback()
        return _finish(event, "failed", f"malformed payload: {exc}")
    except RetryableConnectorError as exc:
        savepoint.rollback()
        return _retry_later(event, exc)
    except OperationalError:
        raise  # the connection itself failed: the whole batch is retried
    except Exception as exc:
        # A bug or a constraint the handler did not expect: keep the evidence, do not loop, and
        # let the rest of the batch go on.
        if savepoint.is_active:
            savepoint.rollback()
        logger.exception("webhook event %s (%s) failed in %s", event.id, event.topic, handler)
        return _finish(event, "failed", f"{type(exc).__name__}: {exc}")
    return "processed"  # recorded for the whole batch at once, by _mark_processed


def _mark_processed(session: Session, events: Sequence[WebhookEvent], batch: Batch) -> None:
    """One UPDATE for every event of the batch that its handler processed."""
    done = [event for event in events if batch.outcomes.get(event.id) == "processed"]
    if not done:
        return
    values = {
        "status": "processed",
        "error": None,
        "next_attempt_at": None,
        "processed_at": utcnow(),
    }
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_([event.id for event in done]))
        .values(attempts=WebhookEvent.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    for event in done:  # the loaded objects say what the rows now say
        for name, value in {**values, "attempts": event.attempts + 1}.items():
            set_committed_value(event, name, value)


def _retry_later(event: WebhookEvent, exc: RetryableConnectorError) -> str:
    if event.attempts + 1 >= MAX_ATTEMPTS:
        return _finish(event, "failed", f"gave up after {MAX_ATTEMPTS} attempts: {exc}")
    backoff = RETRY_BACKOFF[min(event.attempts, len(RETRY_BACKOFF) - 1)]
    if exc.retry_after is not None:
        backoff = max(backoff, timedelta(seconds=exc.retry_after))
    event.attempts += 1
    event.error = f"retrying: {exc}"
    event.next_attempt_at = utcnow() + backoff
    logger.info("webhook event %s retries after %s: %s", event.id, backoff, exc)
    return "pending"


def _subscription(platform: str, topic: str) -> WebhookSubscription | None:
    try:
        subscriptions = manifest().subscriptions(platform)
    except ManifestError:
        return None
    return next((sub for sub in subscriptions if sub.topic == topic), None)


def _finish(event: WebhookEvent, status: str, reason: str | None) -> str:
    event.status = status
    event.error = reason
    event.attempts += 1
    event.next_attempt_at = None
    event.processed_at = utcnow()
    if reason:
        logger.info("webhook event %s %s: %s", event.id, status, reason)
    return status
