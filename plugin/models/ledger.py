"""The append-only commission ledger and payouts.

Ledger rows are never updated except to stamp payout_id when a payout claims them; balances are
sums. Each row has an idempotency key, unique per shop, so replays cannot post twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin

LEDGER_KINDS = ("commission", "reversal", "flat_fee", "bonus", "adjustment")
PAYOUT_STATUSES = ("pending_approval", "approved", "paid", "cancelled")


class LedgerEntry(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "ledger_entries"
    shop_id_indexed = False
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        # Metrics rebuilds read a shop's entries day by day.
        Index("ix_ledger_entries_shop_id_created_at", "shop_id", "created_at"),
    )

    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="SET NULL"), default=None, index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    # The order's presentment amount the commission came from, kept for the creator's statement.
    presentment_amount_minor: Mapped[int | None] = mapped_column(default=None)
    presentment_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    # For commissions and bonuses: the order's net item revenue the rate applied to, and the rate.
    base_minor: Mapped[int | None] = mapped_column(default=None)
    rate_bps: Mapped[int | None] = mapped_column(default=None)
    # Commissions are held until the return window passes.
    available_at: Mapped[datetime] = mapped_column(index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    payout_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("payouts.id", ondelete="SET NULL"), default=None, index=True
    )


class Payout(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "payouts"
    shop_id_indexed = False
    __table_args__ = (UniqueConstraint("shop_id", "idempotency_key"),)

    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    amount_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending_approval")
    idempotency_key: Mapped[str] = mapped_column(String(128))
    batch_key: Mapped[str] = mapped_column(String(64), index=True)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    external_reference: Mapped[str | None] = mapped_column(String(255), default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def reference(self) -> str:
        """What the merchant's bank transfer or store credit says, unless they gave their own."""
        return self.external_reference or self.tastemaker_reference

    @property
    def tastemaker_reference(self) -> str:
        """Tastemaker's reference for this payout, whatever the merchant's own one is."""
        return f"TM-{self.shop_id}-{self.id}"
