"""Day-by-day program numbers for the merchant pages' charts, computed from the raw rows.

A day is a calendar day in the shop's timezone. The measures follow plugin.services.metrics:
orders are paid, non-test orders credited to a creator (self-referrals left out); an order counts
as a click order when the attribution came from a click or landing page and as a code order when
it came from a discount code; revenue is net item revenue minus refunded item revenue; spend is
commissions, flat fees and bonuses minus reversals (manual adjustments are corrections of a
creator's balance, not program spend, and are left out so they can never turn spend negative).

The metrics work replaces this module with a rollup-backed version of the same signature.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session, aliased

from plugin.models import (
    Agreement,
    Attribution,
    Click,
    LedgerEntry,
    Order,
    ReferralLink,
    Refund,
    Shop,
)
from plugin.services.ledger import shop_timezone
from plugin.services.metrics_queries import PAID_STATUSES

CLICK_METHODS = ("click", "landing")
SPEND_KINDS = ("commission", "flat_fee", "bonus", "reversal")


@dataclass(frozen=True)
class DayPoint:
    day: date
    clicks: int
    visitors: int
    orders: int
    click_orders: int
    code_orders: int
    revenue_minor: int
    spend_minor: int
    currency: str


@dataclass
class _Day:
    clicks: int = 0
    visitors: set[str] | None = None
    orders: int = 0
    click_orders: int = 0
    code_orders: int = 0
    revenue_minor: int = 0
    spend_minor: int = 0


def day_range(start: date, end: date) -> list[date]:
    """The days from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def day_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the first day's local midnight to the midnight after the last day."""
    low = datetime.combine(start, time.min, tzinfo=zone)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return low, high


def daily_series(
    db: Session,
    shop_id: int,
    *,
    start: date,
    end: date,
    creator_id: int | None = None,
    campaign_id: int | None = None,
) -> list[DayPoint]:
    """One point per day from start to end (shop timezone, both included), zeros on quiet days."""
    shop = db.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"no shop {shop_id}")
    if end < start:
        raise ValueError("end must not be before start")
    zone = shop_timezone(shop)
    low, high = day_bounds(start, end, zone)
    days: dict[date, _Day] = defaultdict(_Day)

    def local_day(instant: datetime) -> date:
        aware = instant if instant.tzinfo else instant.replace(tzinfo=ZoneInfo("UTC"))
        return aware.astimezone(zone).date()

    clicks = (
        select(Click.occurred_at, Click.visitor_hash)
        .join(ReferralLink, and_(ReferralLink.id == Click.link_id, ReferralLink.shop_id == shop_id))
        .where(Click.shop_id == shop_id, Click.occurred_at >= low, Click.occurred_at < high)
    )
    if creator_id is not None:
        clicks = clicks.where(Click.creator_id == creator_id)
    if campaign_id is not None:
        clicks = clicks.where(ReferralLink.campaign_id == campaign_id)
    for occurred_at, visitor in db.execute(clicks):
        point = days[local_day(occurred_at)]
        point.clicks += 1
        if visitor:
            point.visitors = (point.visitors or set()) | {visitor}

    refunded = (
        select(Refund.platform_order_id, func.sum(Refund.item_amount_minor).label("amount"))
        .where(Refund.shop_id == shop_id)
        .group_by(Refund.platform_order_id)
        .subquery()
    )
    orders = (
        select(Order.placed_at, Order.net_item_revenue_minor, refunded.c.amount, Attribution.method)
        .join(Attribution, and_(Attribution.order_id == Order.id, Attribution.shop_id == shop_id))
        .outerjoin(refunded, refunded.c.platform_order_id == Order.platform_order_id)
        .where(
            Order.shop_id == shop_id,
            Order.status.in_(PAID_STATUSES),
            not_(Order.is_test),
            Attribution.creator_id.is_not(None),
            not_(Attribution.self_referral),
            Order.placed_at >= low,
            Order.placed_at < high,
        )
    )
    if creator_id is not None:
        orders = orders.where(Attribution.creator_id == creator_id)
    if campaign_id is not None:
        orders = orders.where(Attribution.campaign_id == campaign_id)
    for placed_at, net, refund, method in db.execute(orders):
        point = days[local_day(placed_at)]
        point.orders += 1
        point.click_orders += method in CLICK_METHODS
        point.code_orders += method == "code"
        point.revenue_minor += net - min(int(refund or 0), net)

    order = aliased(Order)
    attribution = aliased(Attribution)
    campaign = func.coalesce(Agreement.campaign_id, attribution.campaign_id)
    dated = func.coalesce(order.placed_at, LedgerEntry.created_at)
    spend = (
        select(dated, LedgerEntry.kind, LedgerEntry.amount_minor)
        .outerjoin(order, and_(order.id == LedgerEntry.order_id, order.shop_id == shop_id))
        .outerjoin(
            attribution,
            and_(attribution.order_id == LedgerEntry.order_id, attribution.shop_id == shop_id),
        )
        .outerjoin(
            Agreement, and_(Agreement.id == LedgerEntry.agreement_id, Agreement.shop_id == shop_id)
        )
        .where(
            LedgerEntry.shop_id == shop_id,
            LedgerEntry.kind.in_(SPEND_KINDS),
            dated >= low,
            dated < high,
        )
    )
    if creator_id is not None:
        spend = spend.where(LedgerEntry.creator_id == creator_id)
    if campaign_id is not None:
        spend = spend.where(campaign == campaign_id)
    for when, _kind, amount in db.execute(spend):
        # Reversals are stored negative: adding every amount nets them against what they undo.
        days[local_day(when)].spend_minor += int(amount)

    return [
        DayPoint(
            day=day,
            clicks=days[day].clicks,
            visitors=len(days[day].visitors or ()),
            orders=days[day].orders,
            click_orders=days[day].click_orders,
            code_orders=days[day].code_orders,
            revenue_minor=days[day].revenue_minor,
            spend_minor=days[day].spend_minor,
            currency=shop.currency,
        )
        for day in day_range(start, end)
    ]
