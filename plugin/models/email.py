"""Email we send: one row per message, keyed by the event it is about, so a message is never
created (or sent) twice for the same event. The row is also the embedded default's outbox: with
no SMTP server configured, a message is delivered by being marked so, and the merchant's Outbox
page shows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, IdMixin, TenantMixin, TimestampMixin, utcnow

EMAIL_STATUSES = ("queued", "sending", "sent", "failed")


class OutboundEmail(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "outbound_emails"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        Index("ix_outbound_emails_status_updated_at", "status", "updated_at"),
    )

    # e.g. "application:12:approved", "reward:7:code": one event, one message.
    idempotency_key: Mapped[str] = mapped_column(String(160))
    event: Mapped[str] = mapped_column(String(40))
    # Cleared once sent when the recipient is a shopper: we keep only to_hash for them.
    to_address: Mapped[str] = mapped_column(String(254))
    to_hash: Mapped[str] = mapped_column(String(64))
    forget_address: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    # A worker sending the message holds it until then; no row lock spans the SMTP call.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    transport: Mapped[str | None] = mapped_column(String(16), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
