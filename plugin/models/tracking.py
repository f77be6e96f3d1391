"""Discount codes, referral links and the clicks they receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow

# awaiting_signing: held until the creator accepts their agreement (plugin.services.agreements);
# scheduled: held back by a staggered lift test until the creator's wave (plugin.services.lift).
# Neither is in the store yet.
CODE_STATUSES = (
    "scheduled",
    "pending",
    "active",
    "taken",
    "failed",
    "deactivated",
    "awaiting_signing",
)


class DiscountCode(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "discount_codes"
    shop_id_indexed = False
    __table_args__ = (UniqueConstraint("shop_id", "code_normalized"),)

    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="SET NULL"), default=None, index=True
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

    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None, index=True
    )
    discount_code_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("discount_codes.id", ondelete="SET NULL"), default=None, index=True
    )
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    # A path on the merchant's own domain; the host always comes from the shop.
    target_path: Mapped[str] = mapped_column(String(512), default="/")
    active: Mapped[bool] = mapped_column(default=True)


# The clicks of a deleted link go with it (clicks has no foreign key, see Click). Applied by the
# migration per dialect (scripts/regenerate_migration.py writes them in); row by row, as the
# key's cascade was, each a lookup by the link's index.
LINK_CLICKS_CASCADE = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION delete_clicks_of_link() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN DELETE FROM clicks WHERE link_id = OLD.id; RETURN NULL; END $$",
        "CREATE TRIGGER referral_links_delete_clicks AFTER DELETE ON referral_links"
        " FOR EACH ROW EXECUTE FUNCTION delete_clicks_of_link()",
    ),
    "sqlite": (
        "CREATE TRIGGER referral_links_delete_clicks AFTER DELETE ON referral_links"
        " FOR EACH ROW BEGIN DELETE FROM clicks WHERE link_id = OLD.id; END",
    ),
}


class Click(IdMixin, TenantMixin, Base):
    """A counted visit through a referral link (bots, previews and HEAD requests are not stored).

    Written only by the click flush (plugin.services.clicks) from the local spool, never by the
    redirect itself; metrics aggregate it per shop and period, hence the composite index.
    """

    __tablename__ = "clicks"
    # No foreign key: its check, one query per inserted click, cost the redirect's machine more
    # CPU than anything else in the click flush (~8-13 µs a click, measured in
    # benchmarks.redirect's conditions; the whole insert is ~15). What the key guaranteed holds
    # by other means:
    # - a click belongs to its link's tenant and creator: the flush takes both from the link
    #   row it joins, never from the spooled record, and locks each of the batch's links once
    #   (FOR KEY SHARE), so a link cannot be deleted between that join and the commit;
    # - deleting a link (a shop's or creator's deletion cascades to their links) deletes its
    #   clicks: the trigger in LINK_CLICKS_CASCADE, looking them up by the link's index (which
    #   also serves a link's clicks over a period: lift tests, recounts).
    __table_args__ = (
        Index("ix_clicks_shop_id_occurred_at", "shop_id", "occurred_at"),
        Index("ix_clicks_link_id_occurred_at", "link_id", "occurred_at"),
    )

    # The composite index serves every tenant query on clicks, so the tenant column gets no
    # single-column index of its own (one index less per click).
    shop_id: Mapped[int] = mapped_column(BigId)
    link_id: Mapped[int] = mapped_column(BigId)
    creator_id: Mapped[int] = mapped_column(BigId)
    # Public click id carried to the store as tm_click; unique so spool replays insert once.
    click_uid: Mapped[str] = mapped_column(String(32), unique=True)
    occurred_at: Mapped[datetime] = mapped_column()
    # Keyed hash of ip + user agent: counts unique visitors without storing either.
    visitor_hash: Mapped[str] = mapped_column(String(64), default="")
    referrer_host: Mapped[str | None] = mapped_column(String(255), default=None)
