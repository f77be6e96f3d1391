from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin

CREATOR_STATUSES = ("active", "paused", "terminated")
CAMPAIGN_FORMATS = (
    "shoppable_story",
    "micro_tutorial",
    "live_drop",
    "try_and_tag",
    "mini_collab_drop",
    "review_series",
)
PAYMENT_SCHEDULES = ("on_signing", "on_delivery", "monthly", "on_completion")


class Creator(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "creators"
    shop_id_indexed = False
    __table_args__ = (UniqueConstraint("shop_id", "handle"),)

    handle: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    # SHA-256 of the lowercased email: self-referral checks compare hashes, never raw emails.
    email_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # The creator's own customer ids in the store, for self-referral detection.
    customer_ids: Mapped[list[str]] = mapped_column(default=list)
    social_handles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    niche: Mapped[str] = mapped_column(String(120), default="")
    audience_size: Mapped[int] = mapped_column(default=0)
    engagement_rate_bps: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    payout_email: Mapped[str | None] = mapped_column(String(254), default=None)
    payout_method: Mapped[str] = mapped_column(String(32), default="bank_transfer")
    # Opaque token for the creator's own earnings page (hash stored, like API keys).
    portal_token_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)


class Campaign(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(32))
    primary_kpi: Mapped[str] = mapped_column(String(32), default="revenue")
    # The primary KPI's goal for the whole campaign, in the KPI's unit (minor units for revenue).
    kpi_target: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    budget_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    brief: Mapped[str] = mapped_column(Text, default="")


class Agreement(IdMixin, TenantMixin, TimestampMixin, Base):
    """Creator x campaign terms. Compensation = flat fee + commission rate + bonus tiers."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("creator_id", "campaign_id"),)

    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("creators.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None, index=True
    )
    deliverables: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    usage_rights_days: Mapped[int] = mapped_column(default=0)
    usage_rights_territory: Mapped[str] = mapped_column(String(120), default="worldwide")
    # Where the store may reuse the content, e.g. ["instagram", "email", "paid ads"].
    usage_rights_channels: Mapped[list[str]] = mapped_column(default=list)
    exclusivity: Mapped[str] = mapped_column(Text, default="")
    termination_terms: Mapped[str] = mapped_column(Text, default="")
    payment_schedule: Mapped[str] = mapped_column(String(32), default="monthly")
    flat_fee_minor: Mapped[int] = mapped_column(default=0)
    commission_rate_bps: Mapped[int] = mapped_column(default=0)
    # [{"min_orders": 10, "extra_rate_bps": 200}] counted per calendar month (shop timezone).
    bonus_tiers: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(16), default="active")
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    # Versioned terms (plugin.services.agreements): 0 for rows made before versioning, which
    # need no acceptance. The creator's acceptances live in agreement_acceptances; these columns
    # summarise them for lists and for the ledger.
    terms_version: Mapped[int] = mapped_column(default=0)
    accepted_version: Mapped[int | None] = mapped_column(default=None)
    signed_at: Mapped[datetime | None] = mapped_column(default=None)  # the first acceptance
    # Hold the creator's new codes and links until they accept; None = the shop's setting.
    live_on_acceptance: Mapped[bool | None] = mapped_column(default=None)
