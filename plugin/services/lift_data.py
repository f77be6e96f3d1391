"""The data a lift test reads: daily sales series and link visitors, from orders and clicks.

An order counts once paid (not a test order, not cancelled) on the UTC day it was placed, with
its net item revenue. "Campaign sales" are orders with a promoted product or attributed to the
campaign; everything else is the control series (only when the test names its products; with
no products the whole store is the outcome and there is no control).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC as utc
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session

from plugin.domain.lift_holdout import holdout_salt, in_holdout
from plugin.models import Attribution, Click, LiftTest, Order, ReferralLink
from plugin.services.metrics_queries import PAID_STATUSES


@dataclass
class DailySeries:
    days: list[date]
    orders: list[float]
    revenue: list[float]
    control_orders: list[float] | None
    control_revenue: list[float] | None
    # creator id -> that creator's campaign-attributed orders / revenue per day
    creator_orders: dict[int, list[float]] = field(default_factory=dict)
    creator_revenue: dict[int, list[float]] = field(default_factory=dict)

    def index(self, day: date) -> int:
        return (day - self.days[0]).days

    @property
    def weekday(self) -> list[int]:
        return [day.weekday() for day in self.days]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=utc)


def full_days(start: datetime, end: datetime) -> list[date]:
    """Whole UTC days from start's day to the last day that ended by `end`."""
    first, last = start.astimezone(utc).date(), end.astimezone(utc).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days)]


def _paid() -> Any:
    return and_(Order.status.in_(PAID_STATUSES), not_(Order.is_test))


def daily_series(
    session: Session, test: LiftTest, days: list[date], creator_ids: list[int]
) -> DailySeries:
    size = len(days)
    promoted = {str(product) for product in test.product_ids}
    series = DailySeries(
        days=days,
        orders=[0.0] * size,
        revenue=[0.0] * size,
        control_orders=[0.0] * size if promoted else None,
        control_revenue=[0.0] * size if promoted else None,
        creator_orders={creator: [0.0] * size for creator in creator_ids},
        creator_revenue={creator: [0.0] * size for creator in creator_ids},
    )
    if not days:
        return series
    rows = session.execute(
        select(
            Order.placed_at,
            Order.net_item_revenue_minor,
            Order.line_items,
            Attribution.creator_id,
            Attribution.campaign_id,
            Attribution.self_referral,
        )
        .outerjoin(
            Attribution,
            and_(Attribution.order_id == Order.id, Attribution.shop_id == Order.shop_id),
        )
        .where(
            Order.shop_id == test.shop_id,
            _paid(),
            Order.placed_at >= day_start(days[0]),
            Order.placed_at < day_start(days[-1] + timedelta(days=1)),
        )
    )
    for placed_at, revenue, line_items, creator_id, campaign_id, self_referral in rows:
        index = series.index(placed_at.astimezone(utc).date())
        credited = campaign_id == test.campaign_id and creator_id is not None
        credited = credited and not self_referral
        has_promoted = not promoted or any(
            str(item.get("product_id")) in promoted for item in line_items or ()
        )
        if credited or has_promoted:
            series.orders[index] += 1
            series.revenue[index] += revenue
        elif series.control_orders is not None and series.control_revenue is not None:
            series.control_orders[index] += 1
            series.control_revenue[index] += revenue
        if credited and creator_id in series.creator_orders:
            series.creator_orders[creator_id][index] += 1
            series.creator_revenue[creator_id][index] += revenue
    return series


@dataclass
class Visitor:
    creator_id: int
    held_out: bool
    first_day: date
    orders: set[int] = field(default_factory=set)
    revenue: float = 0.0


def link_visitors(
    session: Session, test: LiftTest, start: datetime, end: datetime
) -> list[Visitor]:
    """Each visitor of the campaign's links in the window, their arm and what they bought
    (orders carrying one of their click ids). The arm is re-derived from the stored visitor
    hash with the same draw the redirect made, so nothing about it is stored or sent."""
    salt = holdout_salt(test.id, test.seed)
    links = select(ReferralLink.id).where(
        ReferralLink.shop_id == test.shop_id, ReferralLink.campaign_id == test.campaign_id
    )
    rows = session.execute(
        select(
            Click.visitor_hash,
            Click.creator_id,
            Click.occurred_at,
            Order.id,
            Order.net_item_revenue_minor,
        )
        .outerjoin(
            Order,
            and_(Order.click_uid == Click.click_uid, Order.shop_id == Click.shop_id, _paid()),
        )
        .where(
            Click.shop_id == test.shop_id,
            Click.link_id.in_(links.scalar_subquery()),
            Click.occurred_at >= start,
            Click.occurred_at < end,
        )
        .order_by(Click.occurred_at)
    )
    visitors: dict[str, Visitor] = {}
    for visitor_hash, creator_id, occurred_at, order_id, revenue in rows:
        visitor = visitors.get(visitor_hash)
        if visitor is None:
            visitor = visitors[visitor_hash] = Visitor(
                creator_id=creator_id,
                held_out=in_holdout(salt, visitor_hash, test.holdout_bps),
                first_day=occurred_at.astimezone(utc).date(),
            )
        if order_id is not None and order_id not in visitor.orders:
            visitor.orders.add(order_id)
            visitor.revenue += revenue
    return list(visitors.values())


def by_creator(values: dict[int, list[float]]) -> dict[int, float]:
    return {creator: float(sum(series)) for creator, series in values.items()}


def group_visitors(visitors: list[Visitor]) -> dict[int, list[Visitor]]:
    grouped: dict[int, list[Visitor]] = defaultdict(list)
    for visitor in visitors:
        grouped[visitor.creator_id].append(visitor)
    return grouped
