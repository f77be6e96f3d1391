"""User-generated content and the rewards shoppers earn for it (Try & Tag)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow

UGC_SOURCES = ("creator", "merchant", "try_and_tag")
NETWORKS = ("instagram", "tiktok", "youtube", "other")
MODERATION_STATUSES = ("pending", "approved", "rejected", "hidden")


class UgcPost(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "ugc_posts"

    source: Mapped[str] = mapped_column(String(16))
    creator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="SET NULL"), default=None
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    network: Mapped[str] = mapped_column(String(16), default="other")
    post_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    media: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    caption: Mapped[str] = mapped_column(Text, default="")
    author_handle: Mapped[str] = mapped_column(String(120), default="")
    product_ids: Mapped[list[str]] = mapped_column(default=list)
    featured: Mapped[bool] = mapped_column(default=False)
    moderation_status: Mapped[str] = mapped_column(String(16), default="pending")
    moderation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    disclosure_ok: Mapped[bool | None] = mapped_column(default=None)
    disclosure_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reward(IdMixin, TenantMixin, TimestampMixin, Base):
    """A shopper's reward for a Try & Tag post; one per submission, enforced by the database."""

    __tablename__ = "rewards"
    __table_args__ = (UniqueConstraint("ugc_post_id"),)

    ugc_post_id: Mapped[int] = mapped_column(BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="discount_code")  # or store_credit
    amount_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, default=None)
