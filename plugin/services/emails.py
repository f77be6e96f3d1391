"""Queued email: record a message once per event, send it from the `send_email` job.

`queue_email` inserts the message with `INSERT … ON CONFLICT DO NOTHING` on (shop, idempotency
key), so the same event asked twice (a retried request, a job run twice) makes one message, and
asks for the send job after commit only when the row is new. The job claims the message with a
conditional UPDATE and a lease (never a row lock across the SMTP call), so two workers cannot both
send it; a sent message is never sent again.

Shopper addresses (Try & Tag) are kept only until the message is sent: `forget_address` rows
lose their clear address once delivered and keep its hash, like every other shopper record.
Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugin import background
from plugin.crypto import hash_email
from plugin.models import Shop, utcnow
from plugin.models.email import OutboundEmail
from plugin.services.ledger import insert_ignore
from plugin.services.mailer import Mailer, Message, build_mailer, message_id_for
from plugin.tenancy import Tenant

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6
FORGOTTEN = ""
MAILER_KEY = "tastemaker.mailer"


@dataclass(frozen=True)
class Email:
    """What to send, rendered from `templates/email/<template>.txt` and `.html`."""

    key: str
    event: str
    to: str
    template: str
    context: dict[str, Any]
    forget_address: bool = False


def mailer() -> Mailer:
    """The app's transport, built once from settings (SMTP when configured, else the outbox)."""
    app = current_app
    if MAILER_KEY not in app.extensions:
        app.extensions[MAILER_KEY] = build_mailer(app.config["TASTEMAKER"].smtp_url)
    chosen: Mailer = app.extensions[MAILER_KEY]
    return chosen


def queue_email(session: Session, shop: Shop, email: Email) -> int | None:
    """Record the message for this event (once) and send it after commit; its id, or None when
    the event already has one."""

    context = {"shop": shop, "public_url": _public_url(), **email.context}
    subject = render_template(f"email/{email.template}.subject.txt", **context).strip()
    now = utcnow()
    inserted = insert_ignore(
        session,
        OutboundEmail,
        {
            "shop_id": shop.id,
            "idempotency_key": email.key,
            "event": email.event,
            "to_address": email.to.strip(),
            "to_hash": hash_email(email.to) or "",
            "forget_address": email.forget_address,
            "subject": " ".join(subject.split())[:300],
            "text_body": render_template(f"email/{email.template}.txt", **context),
            "html_body": render_template(f"email/{email.template}.html", **context),
            "status": "queued",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
        ("shop_id", "idempotency_key"),
    )
    if not inserted:
        return None
    message_id = session.scalar(
        select(OutboundEmail.id).where(
            OutboundEmail.shop_id == shop.id, OutboundEmail.idempotency_key == email.key
        )
    )
    assert message_id is not None
    background.after_commit(session, background.SEND_EMAIL, message_id)
    return int(message_id)


def _public_url() -> str:
    return str(current_app.config["TASTEMAKER"].public_url).rstrip("/")


def claim(session: Session, message_id: int, now: datetime) -> OutboundEmail | None:
    """Take the message for one send attempt, or None if it is sent, failed or held elsewhere."""
    claimed = session.execute(
        update(OutboundEmail)
        .where(
            OutboundEmail.id == message_id,
            or_(
                OutboundEmail.status == "queued",
                (OutboundEmail.status == "sending") & (OutboundEmail.lease_until <= now),
            ),
        )
        .values(status="sending", lease_until=now + LEASE, attempts=OutboundEmail.attempts + 1)
        .returning(OutboundEmail.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if claimed is None:
        return None
    return session.get(OutboundEmail, claimed, populate_existing=True)


def as_message(row: OutboundEmail, sender: str) -> Message:
    return Message(
        to=row.to_address,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        sender=sender,
        message_id=message_id_for(f"tm-{row.shop_id}-{row.idempotency_key}"),
    )


def mark_sent(row: OutboundEmail, transport: str, now: datetime) -> None:
    row.status = "sent"
    row.transport = transport
    row.sent_at = now
    row.lease_until = None
    row.last_error = None
    if row.forget_address:
        row.to_address = FORGOTTEN


def release(row: OutboundEmail, error: str) -> None:
    row.status = "queued"
    row.lease_until = None
    row.last_error = error


def mark_failed(row: OutboundEmail, error: str) -> None:
    row.status = "failed"
    row.lease_until = None
    row.last_error = error
    if row.forget_address:
        row.to_address = FORGOTTEN


def outbox(tenant: Tenant, limit: int = 100) -> list[OutboundEmail]:
    return list(
        tenant.session.scalars(
            tenant.select(OutboundEmail)
            .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
            .limit(limit)
        )
    )


def stuck_ids(session: Session, now: datetime, grace: timedelta, limit: int = 500) -> list[int]:
    """Messages still queued after their own job had time to run (a lost job, a Redis outage)."""
    return list(
        session.scalars(
            select(OutboundEmail.id)
            .where(
                OutboundEmail.status.in_(("queued", "sending")),
                OutboundEmail.updated_at <= now - grace,
                or_(OutboundEmail.lease_until.is_(None), OutboundEmail.lease_until <= now),
            )
            .order_by(OutboundEmail.id)
            .limit(limit)
        )
    )
