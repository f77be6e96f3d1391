"""Creator, campaign and shop metrics for a period, from SQL aggregates over clicks, orders and
the ledger (the queries are in plugin.services.metrics_queries; the formulas in
plugin.domain.metrics; the answers' types in plugin.services.metrics_results).

Definitions: plugin.domain.metrics.METRIC_DEFINITIONS (served by the API). Every result says
`currency`; money is integer minor units of the shop currency, rates are integer basis points,
a quotient that is not meaningful is None with its reason in `undefined`.

Periods are whole days in the shop's timezone: [start, end) is widened to the local midnights
around it, and the result echoes the days it covers. Answers come from the daily rollups
(plugin.services.metrics_rollups) by default; `source="raw"` recomputes the same figures from
the raw clicks, orders, refunds and ledger (the reference the rollups are tested against, and
the baseline of benchmarks.metrics_scale), LTV included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain import metrics as formulas
from plugin.models import Campaign, Creator, Shop
from plugin.services import metrics_queries as raw
from plugin.services import metrics_rollups as rollup
from plugin.services.metrics_queries import Grouping, Scope, cohort_repeat_totals
from plugin.services.metrics_results import (
    CampaignMetrics,
    CreatorMetrics,
    Ltv,
    Performance,
    ShopSummary,
    Spend,
    UpliftView,
    Window,
)
from plugin.services.rollups import day_bounds, settle_orders, zone_named

Source = Literal["rollups", "raw"]

ALWAYS_ON = "always-on"
UPLIFT_METHOD = "pre_post_with_unattributed_control"
UPLIFT_CAVEAT = (
    "Observational comparison, not an experiment: the attributed figures are compared with the "
    "same scope's equally long period just before, and with the shop's unattributed orders over "
    "both periods as a rough control. Seasonality, other marketing and discount-code leakage "
    "all confound it; attributed orders include shoppers who would have bought anyway. Read it "
    "as correlation; only a holdout test measures causal uplift."
)


def _check_period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if start >= end:
        raise ValueError("start must be before end")


def day_aligned(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) widened to whole shop-local days: the local midnight at or before start,
    the local midnight at or after end."""
    _check_period(start, end)
    first = day_bounds(start.astimezone(zone).date(), zone)[0]
    last_day = end.astimezone(zone).date()
    last = day_bounds(last_day, zone)[0]
    return first, last if last >= end else day_bounds(last_day, zone)[1]


def _performance(
    currency: str, scope: Scope, clicks: Any, orders: Any, spend: Any, *, approximate: bool
) -> Performance:
    click_count, visitors = clicks or (0, 0)
    order_count, self_orders, gross, refunded, new_customers, _own, click_orders, code_orders = (
        orders or (0,) * 8
    )
    commission, flat_fee, bonus, reversal, adjustment = spend or (0, 0, 0, 0, 0)
    total = formulas.spend_minor(
        commission=commission,
        flat_fee=flat_fee,
        bonus=bonus,
        reversal=reversal,
        adjustment=adjustment,
    )
    revenue = gross - refunded
    return Performance(
        currency=currency,
        start=scope.start.astimezone(UTC),
        end=scope.end.astimezone(UTC),
        clicks=int(click_count),
        unique_visitors=int(visitors),
        unique_visitors_approximate=approximate,
        orders=int(order_count),
        click_orders=int(click_orders),
        code_orders=int(code_orders),
        self_referral_orders=int(self_orders),
        conversion_rate_bps=formulas.conversion_rate_bps(click_orders, click_count),
        gross_revenue_minor=int(gross),
        refunded_minor=int(refunded),
        revenue_minor=int(revenue),
        average_order_value_minor=formulas.average_order_value_minor(revenue, order_count),
        spend=Spend(
            int(commission), int(flat_fee), int(bonus), int(reversal), int(adjustment), total
        ),
        spend_minor=total,
        new_customers=int(new_customers),
        cac_minor=formulas.customer_acquisition_cost_minor(total, new_customers),
        roi_bps=formulas.return_on_investment_bps(revenue, total),
        undefined=formulas.undefined_reasons(
            clicks=int(click_count),
            orders=int(order_count),
            new_customers=int(new_customers),
            spend=total,
        ),
    )


def _shop(session: Session, shop_id: int) -> tuple[str, ZoneInfo]:
    settle_orders(session)  # this session's own order writes count in what it reads
    found = session.execute(select(Shop.currency, Shop.timezone).where(Shop.id == shop_id)).first()
    if found is None:
        raise LookupError(f"no shop {shop_id}")
    return found[0], zone_named(found[1])


def _order_totals(
    session: Session, scope: Scope, grouping: Grouping, zone: ZoneInfo, source: Source, **kw: Any
) -> dict[Any, Sequence[int]]:
    if source == "raw":
        return raw.order_totals(session, scope, grouping, **kw)
    return rollup.order_totals(session, scope, grouping, zone, **kw)


@dataclass(frozen=True)
class _Report:
    """A period's totals grouped one way (per creator, campaign or the whole shop)."""

    currency: str
    zone: ZoneInfo
    source: Source
    scope: Scope
    clicks: dict[Any, Sequence[int]]
    orders: dict[Any, Sequence[int]]
    spend: dict[Any, Sequence[int]]
    # The unattributed orders, when the same pass over the cells already summed them.
    unattributed: dict[Any, Sequence[int]] | None = None

    @classmethod
    def open(
        cls, session: Session, scope: Scope, grouping: Grouping, source: Source = "rollups"
    ) -> _Report:
        currency, zone = _shop(session, scope.shop_id)
        start, end = day_aligned(scope.start, scope.end, zone)
        scope = Scope(scope.shop_id, start, end, scope.creator_id, scope.campaign_id)
        unattributed: dict[Any, Sequence[int]] | None = None
        if source == "raw":
            clicks = raw.click_totals(session, scope, grouping)
            spend = raw.spend_totals(session, scope, grouping)
            orders = raw.order_totals(session, scope, grouping)
        else:
            clicks = rollup.click_totals(session, scope, grouping, zone)
            orders, spend, unattributed = rollup.order_and_spend_totals(
                session, scope, grouping, zone, unattributed=grouping == "shop"
            )
        return cls(currency, zone, source, scope, clicks, orders, spend, unattributed)

    def performance(self, key: Any) -> Performance:
        return _performance(
            self.currency,
            self.scope,
            self.clicks.get(key),
            self.orders.get(key),
            self.spend.get(key),
            approximate=self.source == "rollups",
        )


def creator_metrics(
    session: Session,
    shop_id: int,
    *,
    start: datetime,
    end: datetime,
    creator_id: int | None = None,
    campaign_id: int | None = None,
    source: Source = "rollups",
) -> list[CreatorMetrics]:
    """One row per creator of the shop (or just `creator_id`), by creator id."""
    report = _Report.open(
        session, Scope(shop_id, start, end, creator_id, campaign_id), "creator", source
    )
    creators = select(Creator.id, Creator.handle).where(Creator.shop_id == shop_id)
    if creator_id is not None:
        creators = creators.where(Creator.id == creator_id)
    if source == "raw":
        cohorts = cohort_repeat_totals(session, report.scope)
    else:
        cohorts = rollup.cohort_totals(session, report.scope, report.zone)
    rows = []
    for cid, handle in session.execute(creators.order_by(Creator.id)):
        size, repeaters, repeat_orders, repeat_revenue = cohorts.get(cid, (0, 0, 0, 0))
        rows.append(
            CreatorMetrics(
                creator_id=cid,
                handle=handle,
                performance=report.performance(cid),
                ltv=Ltv(
                    cohort_customers=int(size),
                    repeat_customers=int(repeaters),
                    repeat_orders=int(repeat_orders),
                    repeat_revenue_minor=int(repeat_revenue),
                    repeat_revenue_per_customer_minor=formulas.per_unit_minor(
                        int(repeat_revenue), int(size)
                    ),
                ),
            )
        )
    return rows


def campaign_metrics(
    session: Session,
    shop_id: int,
    *,
    start: datetime,
    end: datetime,
    campaign_id: int | None = None,
    creator_id: int | None = None,
    source: Source = "rollups",
) -> list[CampaignMetrics]:
    """One row per campaign of the shop (or just `campaign_id`), by id, then "always-on"."""
    report = _Report.open(
        session, Scope(shop_id, start, end, creator_id, campaign_id), "campaign", source
    )
    campaigns = select(Campaign.id, Campaign.name).where(Campaign.shop_id == shop_id)
    if campaign_id is not None:
        campaigns = campaigns.where(Campaign.id == campaign_id)
    keyed: list[tuple[int | None, str]] = [
        (row_id, name) for row_id, name in session.execute(campaigns.order_by(Campaign.id))
    ]
    if campaign_id is None:
        keyed.append((None, ALWAYS_ON))
    return [
        CampaignMetrics(campaign_id=key, name=name, performance=report.performance(key))
        for key, name in keyed
    ]


def shop_summary(
    session: Session,
    shop_id: int,
    *,
    start: datetime,
    end: datetime,
    source: Source = "rollups",
) -> ShopSummary:
    """The shop's creator program over the period, with its share of all paid orders."""
    report = _Report.open(session, Scope(shop_id, start, end), "shop", source)
    attributed = report.performance(None)
    own_revenue = int((report.orders.get(None) or (0,) * 8)[5])
    others = report.unattributed
    if others is None:
        others = _order_totals(session, report.scope, "shop", report.zone, source, attributed=False)
    other = others.get(None) or (0,) * 8
    # Self-referrals are nobody's commission but still the shop's sales.
    all_revenue = attributed.revenue_minor + own_revenue + int(other[2]) - int(other[3])
    return ShopSummary(
        shop_id=shop_id,
        attributed=attributed,
        all_orders=attributed.orders + attributed.self_referral_orders + int(other[0]),
        all_revenue_minor=all_revenue,
        attributed_revenue_share_bps=formulas.ratio_bps(attributed.revenue_minor, all_revenue),
    )


def _window(
    session: Session, scope: Scope, zone: ZoneInfo, source: Source, *, attributed: bool
) -> Window:
    totals = _order_totals(session, scope, "shop", zone, source, attributed=attributed).get(None)
    orders, _self, gross, refunded, *_rest = totals or (0,) * 8
    revenue = int(gross) - int(refunded)
    first, last = rollup.local_days(scope, zone)
    days = max((last - first).days, 1)
    return Window(
        start=scope.start.astimezone(UTC),
        end=scope.end.astimezone(UTC),
        orders=int(orders),
        revenue_minor=revenue,
        revenue_per_day_minor=formulas.per_day(revenue, days),
    )


def uplift(
    session: Session,
    shop_id: int,
    *,
    start: datetime,
    end: datetime,
    creator_id: int | None = None,
    campaign_id: int | None = None,
    source: Source = "rollups",
) -> UpliftView:
    """Attributed revenue against two baselines, named by `method`, with an honest caveat."""
    currency, zone = _shop(session, shop_id)
    start, end = day_aligned(start, end, zone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    before = day_bounds(first - (last - first), zone)[0]
    current = Scope(shop_id, start, end, creator_id, campaign_id)
    previous = Scope(shop_id, before, start, creator_id, campaign_id)
    attributed = _window(session, current, zone, source, attributed=True)
    attributed_before = _window(session, previous, zone, source, attributed=True)
    unattributed = _window(session, Scope(shop_id, start, end), zone, source, attributed=False)
    unattributed_before = _window(
        session, Scope(shop_id, before, start), zone, source, attributed=False
    )
    return UpliftView(
        method=UPLIFT_METHOD,
        caveat=UPLIFT_CAVEAT,
        currency=currency,
        creator_id=creator_id,
        campaign_id=campaign_id,
        attributed=attributed,
        attributed_baseline=attributed_before,
        unattributed=unattributed,
        unattributed_baseline=unattributed_before,
        attributed_revenue_change_bps=formulas.change_bps(
            attributed.revenue_minor, attributed_before.revenue_minor
        ),
        unattributed_revenue_change_bps=formulas.change_bps(
            unattributed.revenue_minor, unattributed_before.revenue_minor
        ),
        attributed_revenue_share_bps=formulas.ratio_bps(
            attributed.revenue_minor, attributed.revenue_minor + unattributed.revenue_minor
        ),
    )
