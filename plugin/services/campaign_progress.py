"""A campaign's primary KPI against its target, day by day (shop timezone), and who is in it.

The KPI is cumulative from the campaign's first day; the target line is the pace that reaches
`kpi_target` on the campaign's last day (straight from zero), so a merchant sees at a glance
whether the campaign is ahead or behind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plugin.models import (
    Agreement,
    Campaign,
    Creator,
    ReferralLink,
    Shop,
    UgcPost,
)
from plugin.services.ledger import shop_timezone
from plugin.services.metrics_series import DayPoint, daily_series, day_bounds, day_range

KPI_LABELS = {
    "revenue": "Revenue",
    "orders": "Orders",
    "clicks": "Clicks",
    "new_customers": "New customers",
    "content": "Posts published",
}
FORMAT_KPIS = {
    "shoppable_story": "revenue",
    "micro_tutorial": "clicks",
    "live_drop": "orders",
    "try_and_tag": "content",
    "mini_collab_drop": "revenue",
    "review_series": "new_customers",
}
FORMAT_LABELS = {
    "shoppable_story": "Shoppable story",
    "micro_tutorial": "Micro-tutorial",
    "live_drop": "Live drop",
    "try_and_tag": "Try & Tag",
    "mini_collab_drop": "Mini-collab drop",
    "review_series": "Review series",
}


@dataclass(frozen=True)
class KpiDay:
    day: date
    actual: int  # cumulative since the first day
    target: int  # where the pace line is on this day


def _local(value: datetime, shop: Shop) -> date:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(shop_timezone(shop)).date()


def campaign_days(campaign: Campaign, shop: Shop, today: date) -> tuple[date, date]:
    """The days to chart: the campaign's own dates; an open end runs to today, a missing start
    shows the 30 days before the end."""
    end = _local(campaign.ends_at, shop) if campaign.ends_at else today
    if campaign.starts_at is not None:
        start = _local(campaign.starts_at, shop)
    else:
        start = end - timedelta(days=29)
    return start, max(end, start)


# The KPIs a campaign's daily series carries: KPI -> DayPoint field.
_FROM_SERIES = {
    "revenue": "revenue_minor",
    "orders": "orders",
    "clicks": "clicks",
    "new_customers": "new_customers",
}


def kpi_series(
    session: Session,
    shop: Shop,
    campaign: Campaign,
    start: date,
    end: date,
    points: list[DayPoint] | None = None,
    last_day: date | None = None,
) -> list[KpiDay]:
    """Start to end (e.g. today); the pace line runs to `last_day` (default: end).
    `points`: the campaign's daily series over the same days, when the caller has it."""
    kpi = campaign.primary_kpi
    days = day_range(start, end)
    daily: Counter[date] = Counter()
    if kpi in _FROM_SERIES:
        # From the daily rollups, so a campaign's page costs the same whatever its length and
        # the shop's size; the new customers are the rollups' credited first orders, the same
        # orders the raw count took (paid, not a test, not a self-referral).
        if points is None:
            points = daily_series(
                session, shop.id, start=start, end=end + timedelta(days=1), campaign_id=campaign.id
            )
        for point in points:
            daily[point.day] = getattr(point, _FROM_SERIES[kpi])
    else:
        low, high = day_bounds(start, end, shop_timezone(shop))
        statement = select(UgcPost.created_at).where(
            UgcPost.shop_id == shop.id,
            UgcPost.campaign_id == campaign.id,
            UgcPost.moderation_status == "approved",
            UgcPost.created_at >= low,
            UgcPost.created_at < high,
        )
        for (when,) in session.execute(statement):
            daily[_local(when, shop)] += 1
    span = ((last_day or end) - start).days
    total, series = 0, []
    for index, day in enumerate(days):
        total += daily[day]
        pace = campaign.kpi_target * min(index, span) // span if span > 0 else campaign.kpi_target
        series.append(KpiDay(day, total, pace))
    return series


def member_creators(session: Session, shop_id: int, campaign_id: int) -> list[Creator]:
    """Creators with a link in the campaign or an agreement for it."""
    linked = select(ReferralLink.creator_id).where(
        ReferralLink.shop_id == shop_id, ReferralLink.campaign_id == campaign_id
    )
    agreed = select(Agreement.creator_id).where(
        Agreement.shop_id == shop_id, Agreement.campaign_id == campaign_id
    )
    return list(
        session.scalars(
            select(Creator)
            .where(Creator.shop_id == shop_id, or_(Creator.id.in_(linked), Creator.id.in_(agreed)))
            .order_by(Creator.handle)
        )
    )
