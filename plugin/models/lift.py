"""Lift tests (incrementality experiments) and the frozen wave assignment of a staggered launch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin

LIFT_DESIGNS = ("staggered", "holdout", "observational")
LIFT_STATUSES = ("draft", "running", "ended")


class LiftTest(IdMixin, TenantMixin, TimestampMixin, Base):
    """One campaign's experiment. Its design parameters and seed are frozen at launch."""

    __tablename__ = "lift_tests"

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    design: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # The store's product ids the campaign promotes; empty means the whole store is the outcome.
    product_ids: Mapped[list[str]] = mapped_column(default=list)
    waves: Mapped[int] = mapped_column(default=4)
    wave_days: Mapped[int] = mapped_column(default=7)
    holdout_bps: Mapped[int] = mapped_column(default=1000)
    baseline_days: Mapped[int] = mapped_column(default=28)
    duration_days: Mapped[int] = mapped_column(default=28)
    # Drawn once when the test is created, shown to the merchant, the only source of randomness.
    seed: Mapped[int] = mapped_column(BigInteger)
    launched_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class LiftAssignment(IdMixin, TenantMixin, Base):
    """A creator's wave and go-live date in a staggered launch, drawn from the test's seed:
    written once at launch, never updated except to stamp when the codes and links were
    switched on."""

    __tablename__ = "lift_assignments"
    __table_args__ = (UniqueConstraint("test_id", "creator_id"),)

    test_id: Mapped[int] = mapped_column(BigId, ForeignKey("lift_tests.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    wave: Mapped[int] = mapped_column()
    # The drawn go-live day, in days after launch (the wave's date); starts_at = launch + day.
    day: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    # Links this test switched off at launch (ids as strings), switched back on at the wave date.
    held_link_ids: Mapped[list[str]] = mapped_column(default=list)
