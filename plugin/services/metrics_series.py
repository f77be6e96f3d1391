"""Day-by-day figures for charts, from the daily rollups: one point per shop-local day.

Definitions are those of plugin.domain.metrics.METRIC_DEFINITIONS: `orders` are creator-credited
paid orders (self-referrals apart, not counted), `revenue_minor` their item revenue net of
refunds, `spend_minor` the ledger spend booked against the day. `visitors` is the day's own
unique-visitor estimate: days do not add up to a period's visitors (a visitor seen on two days
is one visitor of the period), so charts plot it per day and never sum it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.domain import metrics as formulas
from plugin.domain.metric_cells import NONE
from plugin.models import ClickDay, OrderDay, ReferralLink, Shop, VisitorBlock
from plugin.services import visitor_blocks as blocks
from plugin.services.metrics_rollups import visitors_estimate
from plugin.services.rollups import settle_orders, zone_named

MAX_DAYS = 731


@dataclass(frozen=True)
class DayPoint:
    day: date  # in the shop's timezone
    clicks: int
    visitors: int  # HyperLogLog estimate for this day alone
    orders: int
    click_orders: int
    code_orders: int
    new_customers: int  # credited first orders (plugin.domain.metric_cells)
    revenue_minor: int
    spend_minor: int
    currency: str


def day_range(start: date, end: date) -> list[date]:
    """The days from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def day_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the first day's local midnight to the midnight after the last day."""
    low = datetime.combine(start, time.min, tzinfo=zone)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return low, high


def _local_day(value: date | datetime, zone_name: str | None, *, ceil: bool) -> date:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    local = value.astimezone(zone_named(zone_name))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) == local
    return local.date() + timedelta(days=1 if ceil and not midnight else 0)


def daily_series(
    db: Session,
    shop_id: int,
    *,
    start: date | datetime,
    end: date | datetime,
    creator_id: int | None = None,
    campaign_id: int | None = None,
) -> list[DayPoint]:
    """Every shop-local day in [start, end), zeros included. Datetimes are widened to whole
    local days (like the metrics API); dates are taken as local days."""
    settle_orders(db)  # this session's own order writes count in what it reads
    found = db.execute(select(Shop.currency, Shop.timezone).where(Shop.id == shop_id)).first()
    if found is None:
        raise LookupError(f"no shop {shop_id}")
    currency, zone_name = found
    first = _local_day(start, zone_name, ceil=False)
    last = _local_day(end, zone_name, ceil=True)
    if first >= last:
        raise ValueError("start must be before end")
    if (last - first).days > MAX_DAYS:
        raise ValueError(f"a series can cover at most {MAX_DAYS} days")

    clicks_by_day: dict[date, int] = defaultdict(int)
    sketches: dict[date, list[bytes]] = defaultdict(list)
    whole_shop = creator_id is None and campaign_id is None
    # The whole shop's settled days are single-day visitor blocks: one row a day, not one per
    # link and day.
    covered, uncovered = blocks.cover(db, shop_id, first, last, (1,) if whole_shop else ())
    sources = []
    if covered:
        sources.append(
            select(VisitorBlock.first_day, VisitorBlock.clicks, VisitorBlock.visitors_sketch).where(
                blocks.valid_blocks(shop_id),
                VisitorBlock.link_id == blocks.SHOP_WIDE,
                blocks.blocks_filter(covered),
            )
        )
    if uncovered:
        click_rows = select(ClickDay.day, ClickDay.clicks, ClickDay.visitors_sketch).where(
            ClickDay.shop_id == shop_id, blocks.days_filter(uncovered)
        )
        if creator_id is not None:
            click_rows = click_rows.where(ClickDay.creator_id == creator_id)
        if campaign_id is not None:
            click_rows = click_rows.join(ReferralLink, ReferralLink.id == ClickDay.link_id).where(
                ReferralLink.campaign_id == campaign_id
            )
        sources.append(click_rows)
    for statement in sources:
        for day, clicks, sketch in db.execute(statement):
            clicks_by_day[day] += int(clicks)
            if sketch:
                sketches[day].append(sketch)

    def total(column: object) -> object:
        return func.coalesce(func.sum(column), 0)

    order_rows = (
        select(
            OrderDay.day,
            total(OrderDay.orders),
            total(OrderDay.click_orders),
            total(OrderDay.code_orders),
            total(OrderDay.new_customers),
            total(OrderDay.gross_revenue_minor - OrderDay.refunded_minor),
            total(OrderDay.commission_minor),
            total(OrderDay.flat_fee_minor),
            total(OrderDay.bonus_minor),
            total(OrderDay.reversal_minor),
            total(OrderDay.adjustment_minor),
        )
        .where(
            OrderDay.shop_id == shop_id,
            OrderDay.day >= first,
            OrderDay.day < last,
            OrderDay.creator_id != NONE,
        )
        .group_by(OrderDay.day)
    )
    if creator_id is not None:
        order_rows = order_rows.where(OrderDay.creator_id == creator_id)
    if campaign_id is not None:
        order_rows = order_rows.where(OrderDay.campaign_id == campaign_id)
    orders_by_day = {
        row[0]: tuple(int(value) for value in row[1:]) for row in db.execute(order_rows)
    }

    points = []
    day = first
    while day < last:
        orders, click_orders, code_orders, new_customers, revenue, *spend = orders_by_day.get(
            day, (0,) * 10
        )
        commission, flat_fee, bonus, reversal, adjustment = spend
        points.append(
            DayPoint(
                day=day,
                clicks=clicks_by_day.get(day, 0),
                visitors=visitors_estimate(sketches[day]) if day in sketches else 0,
                orders=orders,
                click_orders=click_orders,
                code_orders=code_orders,
                new_customers=new_customers,
                revenue_minor=revenue,
                spend_minor=formulas.spend_minor(
                    commission=commission,
                    flat_fee=flat_fee,
                    bonus=bonus,
                    reversal=reversal,
                    adjustment=adjustment,
                ),
                currency=currency,
            )
        )
        day += timedelta(days=1)
    return points
