"""Discount codes, referral links and the clicks they receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow

# "scheduled": held back by a staggered lift test until its creator's wave date (not in the store).
CODE_STATUSES = ("scheduled", "pending", "active", "taken", "failed", "deactivated")


class DiscountCode(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "discount_codes"
    __table_args__ = (UniqueConstraint("shop_id", "code_normalized"),)

    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("creators.id", ondelete="CASCADE"))
    agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="SET NULL"), default=None
    )
    code: Mapped[str] = mapped_column(String(64))
    # Platforms compare codes case-insensitively; so do we.
    code_normalized: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="percentage")  # or fixed_amount
    # Basis points for percentage codes, minor units for fixed-amount codes.
    value: Mapped[int] = mapped_column(default=1000)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    usage_limit: Mapped[int | None] = mapped_column(default=None)
    once_per_customer: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    combines_with: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    platform_id: Mapped[str | None] = mapped_column(String(128), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    alternatives: Mapped[list[str]] = mapped_column(default=list)


class ReferralLink(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "referral_links"

    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("creators.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    discount_code_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("discount_codes.id", ondelete="SET NULL"), default=None
    )
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    # A path on the merchant's own domain; the host always comes from the shop.
    target_path: Mapped[str] = mapped_column(String(512), default="/")
    active: Mapped[bool] = mapped_column(default=True)


class Click(IdMixin, TenantMixin, Base):
    """A counted visit through a referral link (bots, previews and HEAD requests are not stored).

    Written only by the click flush (plugin.services.clicks) from the local spool, never by the
    redirect itself; metrics aggregate it per shop and period, hence the composite index.
    """

    __tablename__ = "clicks"
    __table_args__ = (Index("ix_clicks_shop_id_occurred_at", "shop_id", "occurred_at"),)

    # The busiest insert path: the composite index serves every tenant query on clicks, so the
    # tenant column gets no single-column index of its own (one index less per click).
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))

    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_links.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("creators.id", ondelete="CASCADE"))
    # Public click id carried to the store as tm_click; unique so spool replays insert once.
    click_uid: Mapped[str] = mapped_column(String(32), unique=True)
    occurred_at: Mapped[datetime] = mapped_column()
    # Keyed hash of ip + user agent: counts unique visitors without storing either.
    visitor_hash: Mapped[str] = mapped_column(String(64), default="")
    referrer_host: Mapped[str | None] = mapped_column(String(255), default=None)
