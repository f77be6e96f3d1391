"""Shopper and creator rewards: the shop's Try & Tag offer and referral sprints.

The rewards themselves (one per Try & Tag post) are `plugin.models.ugc.Reward`; sprint credit is
posted to the ledger as "bonus" entries keyed `sprint:<id>:creator:<id>`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow


class TryAndTagProgram(IdMixin, TenantMixin, TimestampMixin, Base):
    """A shop's Try & Tag offer: what an approved post earns. Closed to shoppers until enabled."""

    __tablename__ = "try_and_tag_programs"
    __table_args__ = (UniqueConstraint("shop_id"),)

    enabled: Mapped[bool] = mapped_column(default=False)
    # "percentage" (value in basis points) or "fixed_amount" (value in shop currency minor units).
    discount_kind: Mapped[str] = mapped_column(String(16), default="percentage")
    discount_value: Mapped[int] = mapped_column(default=1000)
    code_valid_days: Mapped[int] = mapped_column(default=30)
    code_prefix: Mapped[str] = mapped_column(String(12), default="TAG")
    # When set, a submission must name an order of this shop placed with the same email.
    require_order: Mapped[bool] = mapped_column(default=False)
    # Shown on the submission form, as plain text.
    terms: Mapped[str] = mapped_column(Text, default="")
    # Fetch each post's public metadata and require a live post with a disclosure before any
    # reward is issued (plugin.domain.post_check).
    verify_posts: Mapped[bool] = mapped_column(default=True)
    # Networks a post may be on; empty = all that Tastemaker can check.
    allowed_networks: Mapped[list[str]] = mapped_column(default=list)
    # "discount_code" (single use) or "store_credit" (needs a fixed amount).
    reward_kind: Mapped[str] = mapped_column(String(16), default="discount_code")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReferralSprint(IdMixin, TenantMixin, TimestampMixin, Base):
    """A window in which creators earn a micro-credit per attributed paid order.

    Orders count when placed in [starts_at, ends_at). Settled once, after it ends.
    """

    __tablename__ = "referral_sprints"
    __table_args__ = (Index("ix_referral_sprints_settled_at_ends_at", "settled_at", "ends_at"),)

    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    credit_per_order_minor: Mapped[int] = mapped_column()
    # None: no cap. Bounds one creator's credit for the whole sprint, in minor units.
    cap_per_creator_minor: Mapped[int | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3))
    # Only orders attributed through this campaign count. No ON DELETE: a deleted campaign must
    # not silently widen a sprint that pays money to every campaign.
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id"), default=None, index=True
    )
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
    settled_total_minor: Mapped[int] = mapped_column(default=0)
    settled_creators: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
