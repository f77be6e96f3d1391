"""The SQL aggregates behind plugin.services.metrics: every sum and count is done by the database.

Each function returns {group key: totals} from one GROUP BY query, grouped by creator, by campaign
or not at all (the whole shop, key None). Python only ever loops over those grouped rows. Every
query filters on the shop explicitly (`shop_id = :shop` on each tenant table it reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, select
from sqlalchemy.orm import Session, aliased

from plugin.domain.metric_cells import CLICK_METHODS, CODE_METHODS
from plugin.models import (
    Agreement,
    Attribution,
    Click,
    LedgerEntry,
    Order,
    ReferralLink,
    Refund,
)

# An order counts once it was paid and while it is not cancelled; refunds are netted from revenue.
PAID_STATUSES = ("paid", "partially_refunded", "refunded")
Grouping = Literal["creator", "campaign", "shop"]


@dataclass(frozen=True)
class Scope:
    shop_id: int
    start: datetime
    end: datetime
    creator_id: int | None = None
    campaign_id: int | None = None


def _grouped(statement: Any, key: Any | None) -> Any:
    return statement.group_by(key) if key is not None else statement


def _rows(session: Session, statement: Any, has_key: bool) -> dict[Any, Sequence[int]]:
    result: dict[Any, Sequence[Any]] = {}
    for row in session.execute(statement):
        # PostgreSQL sums bigints as numeric: every measure comes back as an exact int.
        measures = row[1:] if has_key else row
        result[row[0] if has_key else None] = tuple(int(value or 0) for value in measures)
    return result


def _key_column(grouping: Grouping, creator: Any, campaign: Any) -> Any | None:
    return {"creator": creator, "campaign": campaign, "shop": None}[grouping]


def click_totals(session: Session, scope: Scope, grouping: Grouping) -> dict[Any, Sequence[int]]:
    """(clicks, unique visitors) per group, over clicks that happened in the period."""
    key = _key_column(grouping, Click.creator_id, ReferralLink.campaign_id)
    measures = [
        func.count(Click.id),
        func.count(func.distinct(func.nullif(Click.visitor_hash, ""))),
    ]
    statement = (
        select(*([key] if key is not None else []), *measures)
        .select_from(Click)
        .join(
            ReferralLink,
            and_(ReferralLink.id == Click.link_id, ReferralLink.shop_id == Click.shop_id),
        )
        .where(
            Click.shop_id == scope.shop_id,
            Click.occurred_at >= scope.start,
            Click.occurred_at < scope.end,
        )
    )
    if scope.creator_id is not None:
        statement = statement.where(Click.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(ReferralLink.campaign_id == scope.campaign_id)
    return _rows(session, _grouped(statement, key), key is not None)


def _refunds(shop_id: int) -> Any:
    return (
        select(
            Refund.platform_order_id.label("platform_order_id"),
            func.sum(Refund.item_amount_minor).label("refunded"),
        )
        .where(Refund.shop_id == shop_id)
        .group_by(Refund.platform_order_id)
        .subquery()
    )


def _paid(order: Any) -> ColumnElement[bool]:
    return and_(order.status.in_(PAID_STATUSES), not_(order.is_test))


def _refunded(order: Any, refunds: Any) -> Any:
    """Refunded item revenue of an order, never more than the order's net item revenue."""
    refunded = func.coalesce(refunds.c.refunded, 0)
    return case(
        (refunded > order.net_item_revenue_minor, order.net_item_revenue_minor), else_=refunded
    )


def order_totals(
    session: Session, scope: Scope, grouping: Grouping, *, attributed: bool = True
) -> dict[Any, Sequence[int]]:
    """Per group: (orders, self-referral orders, gross revenue, refunded, new customers,
    self-referral net revenue, click orders, code orders).

    Attributed orders are those with a creator, self-referrals counted apart and left out of every
    other measure. With attributed=False: the shop's orders no creator was credited with.
    """
    refunds = _refunds(scope.shop_id)
    self_referral = Attribution.self_referral.is_(True)
    credited = and_(Attribution.creator_id.is_not(None), not_(self_referral))
    counted = credited if attributed else Attribution.creator_id.is_(None)
    own = and_(Attribution.creator_id.is_not(None), self_referral)
    key = _key_column(grouping, Attribution.creator_id, Attribution.campaign_id)

    def when(condition: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    statement = (
        select(
            *([key] if key is not None else []),
            when(counted, 1),
            when(own, 1),
            when(counted, Order.net_item_revenue_minor),
            when(counted, _refunded(Order, refunds)),
            when(and_(counted, Order.is_first_order.is_(True)), 1),
            when(own, Order.net_item_revenue_minor - _refunded(Order, refunds)),
            when(and_(counted, Attribution.method.in_(sorted(CLICK_METHODS))), 1),
            when(and_(counted, Attribution.method.in_(sorted(CODE_METHODS))), 1),
        )
        .select_from(Order)
        .outerjoin(
            Attribution,
            and_(Attribution.order_id == Order.id, Attribution.shop_id == Order.shop_id),
        )
        .outerjoin(refunds, refunds.c.platform_order_id == Order.platform_order_id)
        .where(
            Order.shop_id == scope.shop_id,
            _paid(Order),
            Order.placed_at >= scope.start,
            Order.placed_at < scope.end,
        )
    )
    if scope.creator_id is not None:
        statement = statement.where(Attribution.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(Attribution.campaign_id == scope.campaign_id)
    return _rows(session, _grouped(statement, key), key is not None)


def spend_totals(session: Session, scope: Scope, grouping: Grouping) -> dict[Any, Sequence[int]]:
    """Per group: (commission, flat fee, bonus, reversal magnitude, adjustment) in minor units.

    An entry tied to an order is dated by the order's placed_at, so a later reversal nets against
    the period of the order it reverses, like the refund does in revenue; other entries (flat
    fees, adjustments) by their own created_at. The campaign is the agreement's, else the order's
    attribution's.
    """
    order = aliased(Order)
    attribution = aliased(Attribution)
    campaign = func.coalesce(Agreement.campaign_id, attribution.campaign_id)
    key = _key_column(grouping, LedgerEntry.creator_id, campaign)
    dated = func.coalesce(order.placed_at, LedgerEntry.created_at)

    def kind(name: str, amount: Any = LedgerEntry.amount_minor) -> Any:
        return func.coalesce(func.sum(case((LedgerEntry.kind == name, amount), else_=0)), 0)

    statement = (
        select(
            *([key] if key is not None else []),
            kind("commission"),
            kind("flat_fee"),
            kind("bonus"),
            kind("reversal", func.abs(LedgerEntry.amount_minor)),
            kind("adjustment"),
        )
        .select_from(LedgerEntry)
        .outerjoin(order, and_(order.id == LedgerEntry.order_id, order.shop_id == scope.shop_id))
        .outerjoin(
            attribution,
            and_(
                attribution.order_id == LedgerEntry.order_id, attribution.shop_id == scope.shop_id
            ),
        )
        .outerjoin(
            Agreement,
            and_(Agreement.id == LedgerEntry.agreement_id, Agreement.shop_id == scope.shop_id),
        )
        .where(LedgerEntry.shop_id == scope.shop_id, dated >= scope.start, dated < scope.end)
    )
    if scope.creator_id is not None:
        statement = statement.where(LedgerEntry.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(campaign == scope.campaign_id)
    return _rows(session, _grouped(statement, key), key is not None)


def _customer_key(order: Any) -> Any:
    """Who bought: the platform's customer id, else the email hash (guest checkouts)."""
    return func.coalesce(order.customer_ref, literal("email:") + order.customer_email_hash)


def cohort_repeat_totals(session: Session, scope: Scope) -> dict[Any, Sequence[int]]:
    """LTV by first-attributed-creator cohort, per creator.

    Cohort of creator X: customers whose first attributed (non-self-referral, paid) order was
    credited to X and placed in the period. Measured: their number, how many bought again, and
    the orders and net revenue (refunds netted) of every paid order they placed after that first
    one, whoever it is attributed to, up to now. Returns (cohort customers, repeat customers,
    repeat orders, repeat revenue).
    """
    customer = _customer_key(Order)
    ranked = (
        select(
            customer.label("customer"),
            Attribution.creator_id.label("creator_id"),
            Attribution.campaign_id.label("campaign_id"),
            Order.placed_at.label("first_at"),
            func.row_number()
            .over(partition_by=customer, order_by=(Order.placed_at, Order.id))
            .label("position"),
        )
        .select_from(Order)
        .join(
            Attribution,
            and_(Attribution.order_id == Order.id, Attribution.shop_id == Order.shop_id),
        )
        .where(
            Order.shop_id == scope.shop_id,
            _paid(Order),
            customer.is_not(None),
            Attribution.creator_id.is_not(None),
            not_(Attribution.self_referral.is_(True)),
        )
        .subquery()
    )
    cohort = select(ranked).where(
        ranked.c.position == 1, ranked.c.first_at >= scope.start, ranked.c.first_at < scope.end
    )
    if scope.creator_id is not None:
        cohort = cohort.where(ranked.c.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        cohort = cohort.where(ranked.c.campaign_id == scope.campaign_id)
    members = cohort.subquery()
    later = aliased(Order)
    refunds = _refunds(scope.shop_id)
    statement = (
        select(
            members.c.creator_id,
            func.count(func.distinct(members.c.customer)),
            func.count(func.distinct(case((later.id.is_not(None), members.c.customer)))),
            func.count(later.id),
            func.coalesce(func.sum(later.net_item_revenue_minor - _refunded(later, refunds)), 0),
        )
        .select_from(members)
        .outerjoin(
            later,
            and_(
                later.shop_id == scope.shop_id,
                _customer_key(later) == members.c.customer,
                later.placed_at > members.c.first_at,
                _paid(later),
            ),
        )
        .outerjoin(refunds, refunds.c.platform_order_id == later.platform_order_id)
        .group_by(members.c.creator_id)
    )
    return _rows(session, statement, True)
