"""Creator, campaign and shop metrics for a period, from SQL aggregates over clicks, orders and
the ledger (the queries are in plugin.services.metrics_queries; the formulas in
plugin.domain.metrics).

Definitions (every result says `currency`; money is integer minor units of the shop currency,
rates are integer basis points, a quotient over zero is None; see plugin.domain.metrics):
- period: [start, end), aware datetimes, compared in UTC;
- clicks / unique_visitors: stored clicks (bots, previews, HEAD never are) in the period;
  unique visitors = distinct visitor hashes;
- orders: paid orders (paid, partially or fully refunded; never cancelled, pending or test)
  placed in the period and credited to a creator; the creator's own orders (self-referrals)
  are counted apart in `self_referral_orders` and left out of everything else;
- revenue: net item revenue of those orders (after discounts, without tax and shipping), minus
  their refunded item revenue whenever the refund happened (`gross_revenue_minor`,
  `refunded_minor` give both parts);
- conversion_rate_bps = orders / unique visitors; AOV = revenue / orders;
- spend = commissions + flat fees + bonuses - reversals ± adjustments, from the ledger; an entry
  about an order falls in the period of that order, others in the period they were posted;
- new_customers: orders flagged as the customer's first; CAC = spend / new customers;
  ROI = (revenue - spend) / spend;
- ltv (creators only): the first-attributed-creator cohort, see `cohort_repeat_totals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain import metrics as formulas
from plugin.models import Campaign, Creator, Shop
from plugin.services.metrics_queries import (
    Grouping,
    Scope,
    click_totals,
    cohort_repeat_totals,
    order_totals,
    spend_totals,
)

ALWAYS_ON = "always-on"
UPLIFT_METHOD = "pre_post_with_unattributed_control"
UPLIFT_CAVEAT = (
    "Observational comparison, not an experiment: the attributed figures are compared with the "
    "same scope's equally long period just before, and with the shop's unattributed orders over "
    "both periods as a rough control. Seasonality, other marketing and discount-code leakage "
    "all confound it; attributed orders include shoppers who would have bought anyway. Read it "
    "as correlation; only a holdout test measures causal uplift."
)


def _serialise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _serialise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_serialise(item) for item in value]
    return value


class _JsonMixin:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings)."""
        data: dict[str, Any] = _serialise(asdict(self))  # type: ignore[call-overload]
        return data


@dataclass(frozen=True)
class Spend(_JsonMixin):
    commission_minor: int = 0
    flat_fee_minor: int = 0
    bonus_minor: int = 0
    reversal_minor: int = 0  # magnitude of reversals (subtracted)
    adjustment_minor: int = 0  # signed
    total_minor: int = 0


@dataclass(frozen=True)
class Ltv(_JsonMixin):
    cohort_customers: int = 0
    repeat_customers: int = 0
    repeat_orders: int = 0
    repeat_revenue_minor: int = 0
    repeat_revenue_per_customer_minor: int | None = None


@dataclass(frozen=True)
class Performance(_JsonMixin):
    currency: str
    start: datetime
    end: datetime
    clicks: int
    unique_visitors: int
    orders: int
    self_referral_orders: int
    conversion_rate_bps: int | None
    gross_revenue_minor: int
    refunded_minor: int
    revenue_minor: int
    average_order_value_minor: int | None
    spend: Spend
    spend_minor: int
    new_customers: int
    cac_minor: int | None
    roi_bps: int | None


@dataclass(frozen=True)
class CreatorMetrics(_JsonMixin):
    creator_id: int
    handle: str
    performance: Performance
    ltv: Ltv = field(default_factory=Ltv)


@dataclass(frozen=True)
class CampaignMetrics(_JsonMixin):
    campaign_id: int | None  # None: links and orders outside any campaign ("always-on")
    name: str
    performance: Performance


@dataclass(frozen=True)
class ShopSummary(_JsonMixin):
    shop_id: int
    attributed: Performance
    all_orders: int  # every paid order in the period, attributed or not
    all_revenue_minor: int
    attributed_revenue_share_bps: int | None


@dataclass(frozen=True)
class Window(_JsonMixin):
    start: datetime
    end: datetime
    orders: int
    revenue_minor: int
    revenue_per_day_minor: int | None


@dataclass(frozen=True)
class UpliftView(_JsonMixin):
    method: str
    caveat: str
    currency: str
    creator_id: int | None
    campaign_id: int | None
    attributed: Window
    attributed_baseline: Window  # the same scope, the equally long period just before
    unattributed: Window  # the shop's orders no creator was credited with
    unattributed_baseline: Window
    attributed_revenue_change_bps: int | None
    unattributed_revenue_change_bps: int | None
    attributed_revenue_share_bps: int | None


def _check_period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if start >= end:
        raise ValueError("start must be before end")


def _performance(currency: str, scope: Scope, clicks: Any, orders: Any, spend: Any) -> Performance:
    click_count, visitors = clicks or (0, 0)
    order_count, self_orders, gross, refunded, new_customers, _own = orders or (0,) * 6
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
        orders=int(order_count),
        self_referral_orders=int(self_orders),
        conversion_rate_bps=formulas.conversion_rate_bps(order_count, visitors),
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
    )


def _currency(session: Session, shop_id: int) -> str:
    currency = session.scalar(select(Shop.currency).where(Shop.id == shop_id))
    if currency is None:
        raise LookupError(f"no shop {shop_id}")
    return currency


@dataclass(frozen=True)
class _Report:
    """A period's totals grouped one way (per creator, campaign or the whole shop)."""

    currency: str
    scope: Scope
    clicks: dict[Any, Sequence[int]]
    orders: dict[Any, Sequence[int]]
    spend: dict[Any, Sequence[int]]

    @classmethod
    def open(cls, session: Session, scope: Scope, grouping: Grouping) -> _Report:
        _check_period(scope.start, scope.end)
        return cls(
            currency=_currency(session, scope.shop_id),
            scope=scope,
            clicks=click_totals(session, scope, grouping),
            orders=order_totals(session, scope, grouping),
            spend=spend_totals(session, scope, grouping),
        )

    def performance(self, key: Any) -> Performance:
        return _performance(
            self.currency,
            self.scope,
            self.clicks.get(key),
            self.orders.get(key),
            self.spend.get(key),
        )


def creator_metrics(
    session: Session,
    shop_id: int,
    *,
    start: datetime,
    end: datetime,
    creator_id: int | None = None,
    campaign_id: int | None = None,
) -> list[CreatorMetrics]:
    """One row per creator of the shop (or just `creator_id`), by creator id."""
    report = _Report.open(session, Scope(shop_id, start, end, creator_id, campaign_id), "creator")
    creators = select(Creator.id, Creator.handle).where(Creator.shop_id == shop_id)
    if creator_id is not None:
        creators = creators.where(Creator.id == creator_id)
    cohorts = cohort_repeat_totals(session, report.scope)
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
) -> list[CampaignMetrics]:
    """One row per campaign of the shop (or just `campaign_id`), by id, then "always-on"."""
    report = _Report.open(session, Scope(shop_id, start, end, creator_id, campaign_id), "campaign")
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


def shop_summary(session: Session, shop_id: int, *, start: datetime, end: datetime) -> ShopSummary:
    """The shop's creator program over the period, with its share of all paid orders."""
    report = _Report.open(session, Scope(shop_id, start, end), "shop")
    attributed = report.performance(None)
    own_revenue = int((report.orders.get(None) or (0,) * 6)[5])
    other = order_totals(session, report.scope, "shop", attributed=False).get(None) or (0,) * 6
    # Self-referrals are nobody's commission but still the shop's sales.
    all_revenue = attributed.revenue_minor + own_revenue + int(other[2]) - int(other[3])
    return ShopSummary(
        shop_id=shop_id,
        attributed=attributed,
        all_orders=attributed.orders + attributed.self_referral_orders + int(other[0]),
        all_revenue_minor=all_revenue,
        attributed_revenue_share_bps=formulas.ratio_bps(attributed.revenue_minor, all_revenue),
    )


def _window(session: Session, scope: Scope, *, attributed: bool) -> Window:
    totals = order_totals(session, scope, "shop", attributed=attributed).get(None)
    orders, _self, gross, refunded, _new, _own = totals or (0,) * 6
    revenue = int(gross) - int(refunded)
    days = max(round((scope.end - scope.start) / timedelta(days=1)), 1)
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
) -> UpliftView:
    """Attributed revenue against two baselines, named by `method`, with an honest caveat."""
    _check_period(start, end)
    currency = _currency(session, shop_id)
    before = start - (end - start)
    current = Scope(shop_id, start, end, creator_id, campaign_id)
    previous = Scope(shop_id, before, start, creator_id, campaign_id)
    attributed = _window(session, current, attributed=True)
    attributed_before = _window(session, previous, attributed=True)
    unattributed = _window(session, Scope(shop_id, start, end), attributed=False)
    unattributed_before = _window(session, Scope(shop_id, before, start), attributed=False)
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
