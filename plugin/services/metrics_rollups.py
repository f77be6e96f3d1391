"""The metric aggregates read from the daily rollups (plugin.models.metrics) instead of the raw
rows: the same {group key: totals} shapes as plugin.services.metrics_queries, for whole
shop-local days [scope.start, scope.end).

The cost grows with days x links (clicks) and days x creators x campaigns (orders and spend),
not with clicks or orders. Unique visitors are HyperLogLog estimates (plugin.domain.hll),
merged here with numpy: exact up to a few thousand, within 2 % beyond.

This module and plugin.services.rollups are the seam for moving the raw click stream to a
column store (README, "How metrics scale"): the click cells would be read from there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from plugin.domain.metric_cells import NONE
from plugin.models import ClickDay, CohortDay, OrderDay, ReferralLink, VisitorBlock
from plugin.services import block_cache
from plugin.services import visitor_blocks as blocks
from plugin.services.metrics_queries import Grouping, Scope


def local_days(scope: Scope, zone: ZoneInfo) -> tuple[date, date]:
    """The shop-local days [first, last) a day-aligned scope covers."""
    return scope.start.astimezone(zone).date(), scope.end.astimezone(zone).date()


def visitors_estimate(sketches: Iterable[bytes]) -> int:
    """Unique visitors in the union of sketches (a HyperLogLog estimate)."""
    return blocks.estimate(blocks.registers(sketches))


def _click_key(grouping: Grouping, creator: Any) -> Any:
    return {"creator": creator, "campaign": ReferralLink.campaign_id, "shop": literal(None)}[
        grouping
    ]


def _click_rows(
    session: Session, scope: Scope, grouping: Grouping, statement: Any, link: Any, creator: Any
) -> Any:
    """(group, clicks, sketch) of the rows `statement` selects from the cells or the blocks."""
    statement = statement.add_columns(_click_key(grouping, creator))
    if grouping == "campaign" or scope.campaign_id is not None:
        statement = statement.join(
            ReferralLink, and_(ReferralLink.id == link, ReferralLink.shop_id == scope.shop_id)
        )
    if scope.creator_id is not None:
        statement = statement.where(creator == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(ReferralLink.campaign_id == scope.campaign_id)
    return session.execute(statement)


def click_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo
) -> dict[Any, Sequence[int]]:
    """(clicks, unique visitors) per group: settled stretches from the visitor blocks, the
    other days from the cells."""
    first, last = local_days(scope, zone)
    whole_shop = grouping == "shop" and scope.creator_id is None and scope.campaign_id is None
    spans = blocks.SHOP_SPANS if whole_shop else blocks.LINK_SPANS
    covered, uncovered = blocks.cover(session, scope.shop_id, first, last, spans)
    clicks: dict[Any, int] = defaultdict(int)
    sketches: list[tuple[Any, bytes]] = []
    sources = []
    if uncovered:
        cells = select(ClickDay.clicks, ClickDay.visitors_sketch).where(
            ClickDay.shop_id == scope.shop_id, blocks.days_filter(uncovered)
        )
        sources.append(
            _click_rows(session, scope, grouping, cells, ClickDay.link_id, ClickDay.creator_id)
        )
    if covered and whole_shop:
        rows = select(VisitorBlock.clicks, VisitorBlock.visitors_sketch).where(
            blocks.valid_blocks(scope.shop_id),
            blocks.blocks_filter(covered),
            VisitorBlock.link_id == blocks.SHOP_WIDE,
        )
        sources.append(
            _click_rows(
                session, scope, grouping, rows, VisitorBlock.link_id, VisitorBlock.creator_id
            )
        )
    elif covered:
        sources.append(_link_block_rows(session, scope, grouping, covered))
    for source in sources:
        for count, sketch, group in source:
            clicks[group] += int(count)
            if sketch:
                sketches.append((group, sketch))
    visitors = blocks.estimates(sketches)
    return {group: (clicks[group], visitors.get(group, 0)) for group in clicks}


def _link_block_rows(
    session: Session, scope: Scope, grouping: Grouping, covered: list[blocks.Block]
) -> list[tuple[int, bytes, Any]]:
    """(clicks, sketch, group) per link over the covered blocks, from the per-link merges
    (plugin.services.block_cache), grouped and filtered like `_click_rows` does in SQL."""
    per_link = block_cache.link_blocks(session, scope.shop_id, covered)
    campaigns: dict[int, int | None] | None = None
    if grouping == "campaign" or scope.campaign_id is not None:
        campaigns = {
            int(link): campaign
            for link, campaign in session.execute(
                select(ReferralLink.id, ReferralLink.campaign_id).where(
                    ReferralLink.shop_id == scope.shop_id
                )
            )
        }
    found = []
    for link, (count, creator, sketch) in per_link.items():
        if scope.creator_id is not None and creator != scope.creator_id:
            continue
        if campaigns is not None and (
            link not in campaigns
            or (scope.campaign_id is not None and campaigns[link] != scope.campaign_id)
        ):
            continue  # a deleted link, or one of another campaign
        group = {"creator": creator, "campaign": (campaigns or {}).get(link), "shop": None}
        found.append((count, sketch, group[grouping]))
    return found


def _order_key(grouping: Grouping) -> Any | None:
    campaign = func.nullif(OrderDay.campaign_id, NONE)
    return {"creator": OrderDay.creator_id, "campaign": campaign, "shop": None}[grouping]


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _rows(session: Session, statement: Any, has_key: bool) -> dict[Any, Sequence[int]]:
    result: dict[Any, Sequence[int]] = {}
    for row in session.execute(statement):
        measures = row[1:] if has_key else row
        result[row[0] if has_key else None] = tuple(int(value or 0) for value in measures)
    return result


def _order_days(scope: Scope, grouping: Grouping, zone: ZoneInfo, *measures: Any) -> Any:
    first, last = local_days(scope, zone)
    key = _order_key(grouping)
    statement = select(*([key] if key is not None else []), *measures).where(
        OrderDay.shop_id == scope.shop_id, OrderDay.day >= first, OrderDay.day < last
    )
    if scope.creator_id is not None:
        statement = statement.where(OrderDay.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(OrderDay.campaign_id == scope.campaign_id)
    return statement.group_by(key) if key is not None else statement


_ORDER_MEASURES = (
    OrderDay.orders,
    OrderDay.self_referral_orders,
    OrderDay.gross_revenue_minor,
    OrderDay.refunded_minor,
    OrderDay.new_customers,
    OrderDay.self_referral_revenue_minor,
    OrderDay.click_orders,
    OrderDay.code_orders,
)
_SPEND_MEASURES = (
    OrderDay.commission_minor,
    OrderDay.flat_fee_minor,
    OrderDay.bonus_minor,
    OrderDay.reversal_minor,
    OrderDay.adjustment_minor,
)
Totals = dict[Any, Sequence[int]]


def order_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo, *, attributed: bool = True
) -> Totals:
    """Per group, like metrics_queries.order_totals: (orders, self-referral orders, gross
    revenue, refunded, new customers, self-referral net revenue, click orders, code orders)."""
    statement = _order_days(scope, grouping, zone, *(_sum(m) for m in _ORDER_MEASURES))
    if attributed:
        statement = statement.where(OrderDay.creator_id != NONE)
    else:
        statement = statement.where(OrderDay.creator_id == NONE)
    return _rows(session, statement, grouping != "shop")


def order_and_spend_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo, *, unattributed: bool
) -> tuple[Totals, Totals, Totals]:
    """`order_totals` of the attributed orders, `spend_totals` and (if asked, else {})
    `order_totals(attributed=False)`, in one pass over the period's order-day cells."""
    first, last = local_days(scope, zone)
    key = _order_key(grouping)
    nobody = case((OrderDay.creator_id == NONE, 1), else_=0)
    statement = select(
        key if key is not None else literal(None),
        nobody,
        *(_sum(m) for m in (*_ORDER_MEASURES, *_SPEND_MEASURES)),
    ).where(OrderDay.shop_id == scope.shop_id, OrderDay.day >= first, OrderDay.day < last)
    if scope.creator_id is not None:
        statement = statement.where(OrderDay.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(OrderDay.campaign_id == scope.campaign_id)
    if not unattributed:
        statement = statement.where(OrderDay.creator_id != NONE)
    groups = (key, nobody) if key is not None else (nobody,)
    orders: Totals = {}
    spend: Totals = {}
    others: Totals = {}
    width = len(_ORDER_MEASURES)
    for row in session.execute(statement.group_by(*groups)):
        values = tuple(int(value or 0) for value in row[2:])
        if row[1]:
            others[row[0]] = values[:width]
        else:
            orders[row[0]], spend[row[0]] = values[:width], values[width:]
    return orders, spend, others


def cohort_totals(session: Session, scope: Scope, zone: ZoneInfo) -> dict[Any, Sequence[int]]:
    """Per creator, like metrics_queries.cohort_repeat_totals: (cohort customers, repeat
    customers, repeat orders, repeat revenue) of the customers first credited in the period."""
    first, last = local_days(scope, zone)
    statement = select(
        CohortDay.creator_id,
        _sum(CohortDay.customers),
        _sum(CohortDay.repeat_customers),
        _sum(CohortDay.repeat_orders),
        _sum(CohortDay.repeat_revenue_minor),
    ).where(CohortDay.shop_id == scope.shop_id, CohortDay.day >= first, CohortDay.day < last)
    if scope.creator_id is not None:
        statement = statement.where(CohortDay.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(CohortDay.campaign_id == scope.campaign_id)
    return _rows(session, statement.group_by(CohortDay.creator_id), True)
