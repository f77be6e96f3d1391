"""The webhook inbox: verify a raw delivery, record it once, and hand it to the queue after commit.

`receive` is the one record path, used by the HTTP endpoint and by the spool replay alike:
signature first (over the raw bytes, nothing parsed before), then INSERT ... ON CONFLICT DO NOTHING
on (platform, dedupe_key), commit, enqueue. While the database is down the endpoint keeps raw
deliveries in the local spool instead (`spool_delivery`); `replay_spooled` runs them through
`receive` later, so a delivery spooled twice or replayed twice is still recorded once.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from connectors.base import (
    Connector,
    ConnectorRegistry,
    InboundWebhook,
    ShopContext,
    VerifiedWebhook,
    WebhookRejected,
)
from plugin import background
from plugin.crypto import CredentialBox
from plugin.ingest.stats import WebhookStats
from plugin.models import WebhookEvent, utcnow
from plugin.services.shops import find_shop, shop_context
from plugin.spool import Record, Spool

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

SPOOL_KEY = "tastemaker.webhook_spool"
CONTEXTS_KEY = "tastemaker.webhook_shop_contexts"
# Never worth keeping: webhook senders do not send these, and they would be credentials if present.
DROPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


# Built once: the webhook route is hot, and Core skips the ORM's per-statement bookkeeping.
_EVENTS = cast(Table, WebhookEvent.__table__)
_INSERT_EVENT = {
    dialect: insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["platform", "dedupe_key"])
    .returning(_EVENTS.c.id)
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True)
class Receipt:
    outcome: str  # "stored", "duplicate" or "ping"
    event_id: int | None = None


def inbound(body: bytes, headers: Any, content_type: str = "") -> InboundWebhook:
    """An InboundWebhook from any (name, value) mapping, header names lowercased."""
    return InboundWebhook(
        body=body,
        headers={str(name).lower(): str(value) for name, value in headers.items()},
        content_type=content_type,
    )


class ShopContexts:
    """Verified shops' contexts, kept a few seconds per process: the webhook route is hot.

    Only a context that just verified a delivery is kept, without its save_credentials callback
    (bound to a request's session). A delivery the cached context rejects is checked again
    against a fresh lookup, so a rotated secret or a reinstall is honoured at once; the cost is
    that a secret replaced less than `ttl` seconds ago still verifies in this process meanwhile.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, int, ShopContext]] = {}

    def get(self, platform: str, domain: str) -> tuple[int, ShopContext] | None:
        with self._lock:
            entry = self._entries.get((platform, domain))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, platform: str, domain: str, shop_id: int, context: ShopContext) -> None:
        kept = replace(context, save_credentials=None)
        with self._lock:
            self._entries[(platform, domain)] = (time.monotonic() + self.ttl, shop_id, kept)

    def forget(self, platform: str, domain: str) -> None:
        with self._lock:
            self._entries.pop((platform, domain), None)


def receive(
    session: Session,
    connector: Connector,
    box: CredentialBox,
    delivery: InboundWebhook,
    *,
    received_at: datetime | None = None,
    contexts: ShopContexts | None = None,
) -> Receipt:
    """Verify and record one delivery; raises WebhookRejected (nothing stored) or a DB error."""

    values = _verified_row(session, connector, box, delivery, received_at, contexts)
    if values is None:
        session.rollback()
        return Receipt("ping")
    connection = session.connection()
    insert = _INSERT_EVENT[connection.dialect.name]
    event_id = connection.execute(insert, values).scalar_one_or_none()
    if event_id is None:
        session.rollback()
        return Receipt("duplicate")
    background.after_commit(session, background.DRAIN_WEBHOOK_INBOX)
    session.commit()
    return Receipt("stored", event_id)


def _verified_row(
    session: Session,
    connector: Connector,
    box: CredentialBox,
    delivery: InboundWebhook,
    received_at: datetime | None,
    contexts: ShopContexts | None,
) -> dict[str, Any] | None:
    """The inbox row for a verified delivery, None for a ping; raises WebhookRejected."""
    platform = connector.platform
    domain = connector.webhook_shop_domain(delivery)
    verified: VerifiedWebhook | None = None
    shop_id: int | None = None
    if contexts is not None and domain:
        cached = contexts.get(platform, domain)
        if cached is not None:
            try:
                verified = connector.verify_webhook(delivery, cached[1])
                shop_id = cached[0]
            except WebhookRejected as exc:
                if exc.status != 401:
                    raise  # refused for what the delivery says, not for the secret we kept
                contexts.forget(platform, domain)  # the secret may have changed: look again
    if verified is None:
        shop = find_shop(session, platform, domain) if domain else None
        context = shop_context(session, box, shop) if shop is not None else None
        try:
            verified = connector.verify_webhook(delivery, context)
        except WebhookRejected:
            session.rollback()
            raise
        if shop is not None and context is not None:
            shop_id = shop.id
            if contexts is not None and not verified.is_ping:
                contexts.put(platform, domain, shop.id, context)
    if verified.is_ping:
        return None
    return {
        "shop_id": shop_id,
        "platform": platform,
        "topic": verified.topic,
        "dedupe_key": verified.dedupe_key,
        "shop_domain": verified.shop_domain,
        "headers": {k: v for k, v in delivery.headers.items() if k not in DROPPED_HEADERS},
        "body": delivery.body,
        "received_at": received_at or utcnow(),
        "triggered_at": verified.triggered_at,
        "status": "pending",
    }


def contexts_for(app: Flask) -> ShopContexts:
    contexts: ShopContexts | None = app.extensions.get(CONTEXTS_KEY)
    if contexts is None:
        contexts = app.extensions.setdefault(CONTEXTS_KEY, ShopContexts())
    return contexts


def spool_for(app: Flask) -> Spool:
    spool: Spool | None = app.extensions.get(SPOOL_KEY)
    if spool is None:
        spool = app.extensions.setdefault(
            SPOOL_KEY, Spool(app.config["TASTEMAKER"].spool_dir, "webhooks", fsync=True)
        )
    return spool


def spool_delivery(spool: Spool, platform: str, delivery: InboundWebhook) -> None:
    """Keep a raw, unverified delivery on disk; verification happens when it is replayed."""
    spool.append(
        {
            "platform": platform,
            "body": base64.b64encode(delivery.body).decode(),
            "headers": dict(delivery.headers),
            "content_type": delivery.content_type,
            "received_at": utcnow().isoformat(),
        }
    )
    # Seal at once: the record is replayable now, and no other process ever renames a segment
    # this process still writes to.
    spool.close()


def replay_spooled(
    session: Session,
    spool: Spool,
    registry: ConnectorRegistry,
    box: CredentialBox,
    stats: WebhookStats,
    *,
    batch_size: int = 500,
) -> int:
    """Record every spooled delivery, a batch per transaction; a DB error leaves the batch and
    the rest of the spool for the next run (already recorded deliveries are duplicates then)."""
    recorded = 0
    # Verified shops' contexts for the whole replay: decrypting credentials per delivery was
    # most of what a replay cost.
    contexts = ShopContexts(ttl=300.0)

    def consume(records: list[Record]) -> None:
        nonlocal recorded
        recorded += _record_batch(session, records, registry, box, stats, contexts)

    spool.replay(consume, batch_size=batch_size)
    return recorded


def _record_batch(
    session: Session,
    records: list[Record],
    registry: ConnectorRegistry,
    box: CredentialBox,
    stats: WebhookStats,
    contexts: ShopContexts,
) -> int:
    """Verify each record, insert the batch in one statement, commit once, ask for one drain."""

    rows: list[dict[str, Any]] = []
    for record in records:
        platform = str(record.get("platform", ""))
        try:
            connector = registry.get(platform)
        except LookupError:
            logger.error("spooled webhook dropped: no connector for platform %r", platform)
            continue
        delivery = inbound(
            base64.b64decode(record["body"]),
            record.get("headers", {}),
            record.get("content_type", ""),
        )
        try:
            row = _verified_row(
                session,
                connector,
                box,
                delivery,
                datetime.fromisoformat(record["received_at"]),
                contexts,
            )
        except WebhookRejected as exc:
            stats.rejected(platform, exc.reason)
            logger.warning(
                "spooled webhook rejected on replay: platform=%s reason=%s", platform, exc.reason
            )
            continue
        if row is not None:
            rows.append(row)
    if not rows:
        session.rollback()
        return 0
    connection = session.connection()
    insert = _INSERT_EVENT[connection.dialect.name]
    stored: dict[str, int] = {}
    for platform in sorted({row["platform"] for row in rows}):
        mine = [row for row in rows if row["platform"] == platform]
        # One statement per platform (SQLAlchemy sends the rows as multi-row VALUES); a replay
        # rarely holds more than one platform, and each one's duplicates are counted this way.
        stored[platform] = len(connection.execute(insert, mine).scalars().all())
    if any(stored.values()):
        background.after_commit(session, background.DRAIN_WEBHOOK_INBOX)
    session.commit()
    for platform, new in stored.items():
        total = sum(1 for row in rows if row["platform"] == platform)
        stats.outcome(platform, "replayed_stored", new)
        stats.outcome(platform, "replayed_duplicate", total - new)
    return sum(stored.values())
