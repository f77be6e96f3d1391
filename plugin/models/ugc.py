"""User-generated content: posts, their usage rights, moderation audit, widget events, rewards.

Only a post approved by moderation with an unexpired on-site rights grant is ever served to a
storefront (plugin.domain.ugc_rules). Every change that can alter what a storefront shows bumps the
shop's UgcFeedVersion in the same transaction, which invalidates the storefront response cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow

UGC_SOURCES = ("creator", "merchant", "try_and_tag")
NETWORKS = ("instagram", "tiktok", "youtube", "pinterest", "other")
MODERATION_STATUSES = ("pending", "approved", "rejected", "hidden")
RIGHTS_STATUSES = ("requested", "granted", "declined", "revoked", "expired")
RIGHTS_SCOPES = ("on_site", "email", "ads")
AUDIT_CATEGORIES = ("moderation", "disclosure", "rights", "featured", "content")
WIDGET_EVENT_KINDS = ("impression", "click", "add_to_cart")


class UgcPost(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "ugc_posts"
    shop_id_indexed = False
    __table_args__ = (
        Index("ix_ugc_posts_shop_id_moderation_status", "shop_id", "moderation_status"),
    )

    source: Mapped[str] = mapped_column(String(16))
    creator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="SET NULL"), default=None, index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None, index=True
    )
    network: Mapped[str] = mapped_column(String(16), default="other")
    post_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    # [{"type": "image"|"video", "width", "height", "variants": [{"width", "height", "path"|"url"}],
    #   "poster": {...same shape as an image, videos only}}]; paths are under Settings.media_dir.
    media: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    caption: Mapped[str] = mapped_column(Text, default="")
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    author_handle: Mapped[str] = mapped_column(String(120), default="")
    # Store product ids as the platform names them; mirrored in ugc_post_products for lookups.
    product_ids: Mapped[list[str]] = mapped_column(default=list)
    featured: Mapped[bool] = mapped_column(default=False)
    moderation_status: Mapped[str] = mapped_column(String(16), default="pending")
    moderation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    moderated_at: Mapped[datetime | None] = mapped_column(default=None)
    disclosure_ok: Mapped[bool | None] = mapped_column(default=None)
    disclosure_matches: Mapped[list[str]] = mapped_column(default=list)
    disclosure_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the post went live on its network, if known.
    posted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Try & Tag: the last fetch of the post's public metadata (plugin.domain.post_check).
    post_check_status: Mapped[str] = mapped_column(String(16), default="unchecked")
    post_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    post_check_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UgcPostProduct(IdMixin, TenantMixin, Base):
    """A post tagged with a store product: the storefront looks posts up by product here."""

    __tablename__ = "ugc_post_products"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("ugc_post_id", "product_id"),
        Index("ix_ugc_post_products_shop_id_product_id", "shop_id", "product_id"),
    )

    ugc_post_id: Mapped[int] = mapped_column(BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(String(64))


class UgcRightsGrant(IdMixin, TenantMixin, TimestampMixin, Base):
    """One request for usage rights and its outcome, with the consent evidence.

    requested -> granted | declined; granted -> revoked | expired. A new request after a decline
    is a new row, so the history stays whole.
    """

    __tablename__ = "ugc_rights_grants"
    __table_args__ = (Index("ix_ugc_rights_grants_ugc_post_id_status", "ugc_post_id", "status"),)

    ugc_post_id: Mapped[int] = mapped_column(BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    # Scopes are columns, not a JSON list, so eligibility stays one portable SQL predicate.
    scope_on_site: Mapped[bool] = mapped_column(default=False)
    scope_email: Mapped[bool] = mapped_column(default=False)
    scope_ads: Mapped[bool] = mapped_column(default=False)
    # None: no end date. expires_at is fixed when the grant is given (consent time + duration).
    duration_days: Mapped[int | None] = mapped_column(default=None)
    territory: Mapped[str] = mapped_column(String(255), default="worldwide")
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Consent evidence: what we asked, what they answered (or where), and when.
    request_text: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply_text: Mapped[str | None] = mapped_column(Text, default=None)
    evidence_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    consented_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def scopes(self) -> list[str]:
        flags = (self.scope_on_site, self.scope_email, self.scope_ads)
        return [scope for scope, on in zip(RIGHTS_SCOPES, flags, strict=True) if on]


class UgcAuditEvent(IdMixin, TenantMixin, Base):
    """Append-only trail of moderation decisions, disclosure checks and rights changes."""

    __tablename__ = "ugc_audit_events"

    ugc_post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120), default="merchant")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class UgcWidgetEvent(IdMixin, TenantMixin, Base):
    """An impression or click sent by the storefront carousel (navigator.sendBeacon)."""

    __tablename__ = "ugc_widget_events"
    shop_id_indexed = False
    __table_args__ = (
        Index("ix_ugc_widget_events_shop_id_ugc_post_id_kind", "shop_id", "ugc_post_id", "kind"),
    )

    ugc_post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # The product page the carousel was on.
    product_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Keyed hash of ip + user agent, like clicks: counts visitors without storing either.
    visitor_hash: Mapped[str] = mapped_column(String(64), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProductSnapshot(IdMixin, TenantMixin, Base):
    """What a shoppable slide needs to know about a store product; upserted by the admin API."""

    __tablename__ = "product_snapshots"
    shop_id_indexed = False
    __table_args__ = (UniqueConstraint("shop_id", "product_id"),)

    product_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    price_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    variant_id: Mapped[str] = mapped_column(String(64))
    # Absolute https URL or a path on the store's own domain.
    url: Mapped[str] = mapped_column(String(2048), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UgcFeedVersion(Base):
    """Per-shop counter bumped by every storefront-visible change; part of the cache key."""

    __tablename__ = "ugc_feed_versions"

    shop_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=0)


class Reward(IdMixin, TenantMixin, TimestampMixin, Base):
    """A shopper's reward for a Try & Tag post; one per submission, enforced by the database.

    Statuses (plugin.domain.rewards): submitted -> pending (approved) -> issued | failed; void when
    the post is rejected or hidden first. Written by plugin.services.rewards and the rewards job.
    """

    __tablename__ = "rewards"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("ugc_post_id"),
        # One open submission per email and product: is_open is True while the submission is
        # under review or rewarded and NULL once void, and NULLs never collide.
        UniqueConstraint("shop_id", "customer_email_hash", "product_id", "is_open"),
        UniqueConstraint("claim_token_hash"),
        Index("ix_rewards_status", "status"),
    )

    ugc_post_id: Mapped[int] = mapped_column(BigId, ForeignKey("ugc_posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="discount_code")  # or store_credit
    amount_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # The offer as shown when the shopper submitted: basis points or minor units.
    discount_kind: Mapped[str] = mapped_column(String(16), default="percentage")
    discount_value: Mapped[int] = mapped_column(default=0)
    # The shopper, by email hash only (like orders); privacy redaction clears it.
    customer_email_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    product_id: Mapped[str | None] = mapped_column(String(64), default=None)
    is_open: Mapped[bool | None] = mapped_column(default=None)
    order_number: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set when the order number matched an order of this shop placed with the same email.
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="SET NULL"), default=None, index=True
    )
    # The shopper's address, encrypted (Fernet), only until their reward email is queued; the
    # outbox then forgets it once sent. email hash above is what stays.
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # SHA-256 of the token in the shopper's private status link, where the code is shown.
    claim_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    platform_id: Mapped[str | None] = mapped_column(String(128), default=None)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Store calls made so far, and the code whose creation timed out (the store may have it).
    attempts: Mapped[int] = mapped_column(default=0)
    unconfirmed_code: Mapped[str | None] = mapped_column(String(64), default=None)
    # A worker calling the store holds the reward until then; no row lock spans the call.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
