"""Normalized orders, refunds and the attribution decision for each order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow

ORDER_STATUSES = ("pending", "paid", "partially_refunded", "refunded", "cancelled", "failed")


class Order(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("shop_id", "platform_order_id"),
        # A customer's orders, found by their id (or a guest's by their email hash) when their
        # cohort (LTV) is refreshed, on every order change: tenant first, so the plan does not
        # depend on fresh statistics (with stale ones PostgreSQL scanned the shop's orders).
        Index("ix_orders_shop_id_customer_ref", "shop_id", "customer_ref"),
        Index("ix_orders_shop_id_customer_email_hash", "shop_id", "customer_email_hash"),
    )

    platform_order_id: Mapped[int] = mapped_column(BigInteger)
    order_number: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    presentment_currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(default=0)
    discount_minor: Mapped[int] = mapped_column(default=0)
    tax_minor: Mapped[int] = mapped_column(default=0)
    shipping_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int] = mapped_column(default=0)
    # Item revenue after discounts, excluding tax and shipping: the commission base.
    net_item_revenue_minor: Mapped[int] = mapped_column(default=0)
    presentment_total_minor: Mapped[int] = mapped_column(default=0)
    customer_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    customer_email_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    is_first_order: Mapped[bool | None] = mapped_column(default=None)
    is_test: Mapped[bool] = mapped_column(default=False)
    discount_codes: Mapped[list[str]] = mapped_column(default=list)
    # The click id(s) the order carried (a cart attribute may hold several).
    click_uid: Mapped[str | None] = mapped_column(String(128), default=None)
    landing_site: Mapped[str | None] = mapped_column(String(2048), default=None)
    referring_site: Mapped[str | None] = mapped_column(String(2048), default=None)
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    placed_at: Mapped[datetime] = mapped_column(index=True)
    # The platform's updated_at of the newest payload applied: older payloads never win.
    platform_updated_at: Mapped[datetime] = mapped_column()
    # Facts that only ever become true, whatever order the payloads arrive in: the earliest
    # payload showing the order paid, the first sign of cancellation, the platform's deletion.
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Refund(IdMixin, TenantMixin, TimestampMixin, Base):
    """A platform refund; kept even when it arrives before its order, applied once it exists."""

    __tablename__ = "refunds"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("shop_id", "platform_refund_id"),
        # An order's refunds, read whenever the order changes (its commission, its rollups):
        # one probe, where two single-column indexes made PostgreSQL AND two bitmaps per order.
        Index("ix_refunds_shop_id_platform_order_id", "shop_id", "platform_order_id"),
    )

    platform_refund_id: Mapped[int] = mapped_column(BigInteger)
    platform_order_id: Mapped[int] = mapped_column(BigInteger)
    # Net item revenue given back (excluding tax and shipping), shop currency minor units.
    item_amount_minor: Mapped[int] = mapped_column(default=0)
    total_amount_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_at: Mapped[datetime] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column(default=None)


class Attribution(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "attributions"
    __table_args__ = (UniqueConstraint("order_id"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    creator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="SET NULL"), default=None, index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="SET NULL"), default=None, index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None, index=True
    )
    method: Mapped[str] = mapped_column(String(16))  # code | click | landing | none
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    self_referral: Mapped[bool] = mapped_column(default=False)
