"""Metric rollups: per shop and shop-local day, kept up to date by the writes of the raw rows.

Maintained by plugin.services.rollups in the same transaction as the raw rows (click flush,
order/refund/ledger writes), rebuilt from the raw rows by `tastemaker metrics rebuild`. Keys use
0 for "none" (no creator, no campaign), because a NULL never matches in a unique key and the
upserts rely on ON CONFLICT. Only the shop has a foreign key (erasing a shop drops its rollups);
a click cell also follows its link, like the raw clicks do.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, LargeBinary, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId

# Applied by the migration on PostgreSQL (scripts/regenerate_migration.py writes them in): every
# click flush rewrites its cells' sketches, and compressing a busy cell's 16-48 KB sketch on each
# rewrite cost the flush more (~0.7 ms a 1,000-click batch) than the disk it saves.
POSTGRESQL_STATEMENTS = (
    "ALTER TABLE metric_click_days ALTER COLUMN visitors_sketch SET STORAGE EXTERNAL",
)


class ClickDay(Base):
    """Clicks through one link on one shop-local day, with a HyperLogLog of their visitors."""

    __tablename__ = "metric_click_days"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "day", "link_id"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    link_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("referral_links.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    visitors_sketch: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class OrderDay(Base):
    """Orders placed on one shop-local day and the ledger entries booked against that day, per
    creator (0: unattributed orders) and campaign (0: always-on)."""

    __tablename__ = "metric_order_days"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "day", "creator_id", "campaign_id"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    click_orders: Mapped[int] = mapped_column(BigInteger, default=0)
    code_orders: Mapped[int] = mapped_column(BigInteger, default=0)
    self_referral_orders: Mapped[int] = mapped_column(BigInteger, default=0)
    new_customers: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    self_referral_revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    flat_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reversal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    adjustment_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class OrderContribution(Base):
    """What one order currently adds to the order-day cells (its measures, its ledger), so a
    change to the order moves exactly the difference: {"cells": [[day, creator, campaign,
    *MEASURES of plugin.domain.metric_cells], ...]}."""

    __tablename__ = "metric_order_contributions"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shops.id", ondelete="CASCADE"), index=True
    )
    cells: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The customer (plugin.services.rollup_cohorts.customer_key) the order counted for, so a
    # change of customer (or an erasure) also refreshes the one it counted for before.
    customer_key: Mapped[str | None] = mapped_column(String(80), default=None)


class MetricState(Base):
    """Per shop: the progress of `tastemaker metrics rebuild` (so an interrupted one resumes)
    and the day before which raw clicks were pruned (their click cells are history to keep)."""

    __tablename__ = "metric_states"

    shop_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    clicks_pruned_before: Mapped[date | None] = mapped_column(Date, default=None)
    rebuild_first_day: Mapped[date | None] = mapped_column(Date, default=None)
    rebuild_last_day: Mapped[date | None] = mapped_column(Date, default=None)  # exclusive
    rebuild_next_day: Mapped[date | None] = mapped_column(Date, default=None)
    rebuild_started_at: Mapped[datetime | None] = mapped_column(default=None)
    rebuild_finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Bumped whenever settled click cells change (a late click, a redaction, a rebuild): visitor
    # blocks (VisitorBlock) made under an older generation are no longer used.
    sketch_generation: Mapped[int] = mapped_column(BigInteger, default=0)


class VisitorBlock(Base):
    """The click cells of `span` settled days from `first_day` merged into one, per link (and,
    under link 0, for the whole shop): what a long period reads instead of one cell per link and
    day (plugin.services.visitor_blocks). Valid while `generation` is the shop's
    MetricState.sketch_generation."""

    __tablename__ = "metric_visitor_blocks"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "span", "first_day", "link_id"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    span: Mapped[int] = mapped_column(BigInteger)  # days
    first_day: Mapped[date] = mapped_column(Date)
    link_id: Mapped[int] = mapped_column(BigInteger)  # 0: every link of the shop
    creator_id: Mapped[int] = mapped_column(BigInteger)  # 0 with link 0
    generation: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    visitors_sketch: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class CohortDay(Base):
    """Customers whose first creator-credited order was placed on that shop-local day through
    that creator and campaign, and what they bought afterwards (the LTV figures)."""

    __tablename__ = "metric_cohort_days"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "day", "creator_id", "campaign_id"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    customers: Mapped[int] = mapped_column(BigInteger, default=0)
    repeat_customers: Mapped[int] = mapped_column(BigInteger, default=0)
    repeat_orders: Mapped[int] = mapped_column(BigInteger, default=0)
    repeat_revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerCohort(Base):
    """The cohort cell one customer currently adds to (None: none), so a change moves exactly
    the difference; `day` also lets a rebuild find the customers of its days."""

    __tablename__ = "metric_customer_cohorts"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "customer_key"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    customer_key: Mapped[str] = mapped_column(String(80))
    day: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    repeat_orders: Mapped[int] = mapped_column(BigInteger, default=0)
    repeat_revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class BalanceTotal(Base):
    """A creator's ledger in one currency, by where its entries stand: not yet claimed by a
    payout (held or available), claimed by a payout awaiting approval or payment, paid. Kept by
    plugin.services.balance_rollups in the transactions that post entries and move payouts."""

    __tablename__ = "metric_balance_totals"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "creator_id", "currency"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    unclaimed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    in_payout_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class BalanceReleaseDay(Base):
    """Unclaimed entries by the UTC day they become payable (`available_at`): what is still
    held at a moment is the days after it plus part of its own day."""

    __tablename__ = "metric_balance_release_days"
    __table_args__ = (PrimaryKeyConstraint("shop_id", "day", "creator_id", "currency"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    unclaimed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
