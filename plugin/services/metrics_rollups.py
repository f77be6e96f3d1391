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

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.domain.metric_cells import NONE
from plugin.models import ClickDay, CohortDay, OrderDay, ReferralLink
from plugin.services.metrics_queries import Grouping, Scope


def local_days(scope: Scope, zone: ZoneInfo) -> tuple[date, date]:
    """The shop-local days [first, last) a day-aligned scope covers."""
    return scope.start.astimezone(zone).date(), scope.end.astimezone(zone).date()


def visitors_estimate(sketches: Iterable[bytes]) -> int:
    """Unique visitors in the union of sketches (a HyperLogLog estimate)."""
    dense = np.zeros(hll.REGISTERS, dtype=np.uint8)
    sparse: list[bytes] = []
    for sketch in sketches:
        if not sketch or len(sketch) <= 1:
            continue
        if sketch[:1] == hll.DENSE:
            np.maximum(dense, np.frombuffer(sketch, dtype=np.uint8, offset=1), out=dense)
        else:
            sparse.append(sketch[1:])
    if sparse:
        packed = np.frombuffer(b"".join(sparse), dtype="<u4")
        np.maximum.at(dense, packed >> 8, (packed & 0xFF).astype(np.uint8))
    histogram = np.bincount(dense, minlength=hll.MAX_RANK + 1)
    return hll.estimate([int(count) for count in histogram])


def _click_key(grouping: Grouping) -> Any | None:
    return {"creator": ClickDay.creator_id, "campaign": ReferralLink.campaign_id, "shop": None}[
        grouping
    ]


def click_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo
) -> dict[Any, Sequence[int]]:
    """(clicks, unique visitors) per group."""
    first, last = local_days(scope, zone)
    key = _click_key(grouping)
    statement = (
        select(
            key if key is not None else ClickDay.shop_id,
            ClickDay.clicks,
            ClickDay.visitors_sketch,
        )
        .select_from(ClickDay)
        .where(ClickDay.shop_id == scope.shop_id, ClickDay.day >= first, ClickDay.day < last)
    )
    if grouping == "campaign" or scope.campaign_id is not None:
        statement = statement.join(
            ReferralLink,
            and_(ReferralLink.id == ClickDay.link_id, ReferralLink.shop_id == ClickDay.shop_id),
        )
    if scope.creator_id is not None:
        statement = statement.where(ClickDay.creator_id == scope.creator_id)
    if scope.campaign_id is not None:
        statement = statement.where(ReferralLink.campaign_id == scope.campaign_id)
    clicks: dict[Any, int] = defaultdict(int)
    sketches: dict[Any, list[bytes]] = defaultdict(list)
    for group, count, sketch in session.execute(statement):
        group = group if key is not None else None
        clicks[group] += int(count)
        sketches[group].append(sketch)
    return {group: (clicks[group], visitors_estimate(sketches[group])) for group in clicks}


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


def order_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo, *, attributed: bool = True
) -> dict[Any, Sequence[int]]:
    """Per group, like metrics_queries.order_totals: (orders, self-referral orders, gross
    revenue, refunded, new customers, self-referral net revenue, click orders, code orders)."""
    statement = _order_days(
        scope,
        grouping,
        zone,
        _sum(OrderDay.orders),
        _sum(OrderDay.self_referral_orders),
        _sum(OrderDay.gross_revenue_minor),
        _sum(OrderDay.refunded_minor),
        _sum(OrderDay.new_customers),
        _sum(OrderDay.self_referral_revenue_minor),
        _sum(OrderDay.click_orders),
        _sum(OrderDay.code_orders),
    )
    if attributed:
        statement = statement.where(OrderDay.creator_id != NONE)
    else:
        statement = statement.where(OrderDay.creator_id == NONE)
    return _rows(session, statement, grouping != "shop")


def spend_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo
) -> dict[Any, Sequence[int]]:
    """Per group: (commission, flat fee, bonus, reversal magnitude, adjustment)."""
    statement = _order_days(
        scope,
        grouping,
        zone,
        _sum(OrderDay.commission_minor),
        _sum(OrderDay.flat_fee_minor),
        _sum(OrderDay.bonus_minor),
        _sum(OrderDay.reversal_minor),
        _sum(OrderDay.adjustment_minor),
    ).where(OrderDay.creator_id != NONE)
    return _rows(session, statement, grouping != "shop")


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
