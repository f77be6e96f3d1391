from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, utcnow

EVENT_STATUSES = ("pending", "processed", "failed", "ignored")


class WebhookEvent(IdMixin, Base):
    """The inbox: every verified delivery, raw, before anything acts on it."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("platform", "dedupe_key"),
        Index("ix_webhook_events_status_received_at", "status", "received_at"),
    )

    # Nullable: a delivery for a shop we no longer know is still kept for inspection.
    shop_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("shops.id", ondelete="CASCADE"), default=None, index=True
    )
    platform: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    shop_domain: Mapped[str] = mapped_column(String(255), default="")
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    triggered_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Set after a transient failure: the event stays pending but is not claimed before this.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
