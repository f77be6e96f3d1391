"""A lift test's result: incremental orders, revenue and ROI per campaign and per creator, each
with a 95 % interval and a sentence, the actual-vs-counterfactual series, warnings, and the
sample-size guidance. The pages, the JSON API and benchmarks/lift_coverage.py all call
`lift_result` and `guidance` here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy.orm import Session

from plugin.domain import lift_report as report
from plugin.domain.lift_design import (
    EXPLANATIONS,
    RANDOMIZED,
    Guidance,
    History,
    holdout_guidance,
    observational_guidance,
    staggered_guidance,
)
from plugin.domain.lift_estimators import (
    ArmCounts,
    Interval,
    conversion_difference,
    mean_difference,
    observational_difference,
)
from plugin.domain.lift_schedule import Rollout, possible_schedules
from plugin.domain.lift_staggered import StaggeredInput, staggered_share
from plugin.domain.metrics import spend_minor
from plugin.models import Creator, LiftTest, utcnow
from plugin.services import lift as lifecycle
from plugin.services.lift_data import (
    daily_series,
    day_start,
    full_days,
    group_visitors,
    link_visitors,
)
from plugin.services.metrics_queries import Scope, spend_totals
from plugin.tenancy import Tenant


@dataclass(frozen=True)
class Chart:
    days: list[date]
    actual: list[float]
    counterfactual: list[float]
    launch_index: int
    measure: str  # what the values are, for the axis and the text equivalent


@dataclass
class LiftResult:
    test_id: int
    design: str
    randomized: bool
    caveat: str | None
    start: datetime
    end: datetime
    campaign: report.Figures | None = None
    creators: list[tuple[int, str, report.Figures]] = field(default_factory=list)
    # staggered: share of attributed orders that were extra, from the randomization (headline)
    incremental_share: Interval | None = None
    model_based_share: Interval | None = None  # staggered: the difference in differences
    randomization: dict[str, Any] | None = None  # staggered: what the headline rests on
    conversion: dict[str, Any] | None = None  # holdout: the two arms
    warnings: list[str] = field(default_factory=list)
    chart: Chart | None = None


def planned_days(test: LiftTest) -> int:
    if test.design == "staggered":
        return max(test.duration_days, test.waves * test.wave_days)
    return test.duration_days


def window(test: LiftTest, now: datetime) -> tuple[datetime, datetime]:
    launched = test.launched_at or now
    start = day_start((launched - timedelta(days=test.baseline_days)).date())
    end = min(now, launched + timedelta(days=planned_days(test)))
    if test.ended_at is not None:
        end = min(end, test.ended_at)
    return start, end


def lift_result(session: Session, test: LiftTest, now: datetime | None = None) -> LiftResult:
    if test.launched_at is None:
        raise ValueError("a draft lift test has no result yet")
    start, end = window(test, now or utcnow())
    result = LiftResult(
        test_id=test.id,
        design=test.design,
        randomized=test.design in RANDOMIZED,
        caveat=EXPLANATIONS[test.design].caveat,
        start=start,
        end=end,
    )
    if test.design == "staggered":
        _staggered(session, test, result)
    elif test.design == "holdout":
        _holdout(session, test, result)
    else:
        _observational(session, test, result)
    return result


def _names(session: Session, test: LiftTest, creator_ids: list[int]) -> dict[int, str]:
    tenant = Tenant(session, test.shop_id)
    rows = tenant.all(Creator, Creator.id.in_(creator_ids)) if creator_ids else []
    return {row.id: row.name or f"@{row.handle}" for row in rows}


def _spend(session: Session, test: LiftTest, start: datetime, end: datetime) -> dict[int, int]:
    scope = Scope(test.shop_id, start, end, campaign_id=test.campaign_id)
    return {
        creator_id: spend_minor(
            commission=row[0], flat_fee=row[1], bonus=row[2], reversal=row[3], adjustment=row[4]
        )
        for creator_id, row in spend_totals(session, scope, "creator").items()
    }


def _staggered(session: Session, test: LiftTest, result: LiftResult) -> None:
    tenant = Tenant(session, test.shop_id)
    # In increasing creator id order, the order the schedule was drawn in.
    rows = sorted(lifecycle.assignments(tenant, test.id), key=lambda row: row.creator_id)
    creator_ids = [row.creator_id for row in rows]
    days = full_days(result.start, result.end)
    series = daily_series(session, test, days, creator_ids)
    launched = test.launched_at or result.start
    launch_day = series.index(launched.date()) if days else 0
    started = len({row.day for row in rows if launch_day + row.day < len(days)})
    attributed_orders = sum(sum(series.creator_orders[c]) for c in creator_ids)
    result.warnings = report.staggered_warnings(int(attributed_orders), len(rows), started)
    if len(days) < 14 or started < 1 or not rows:
        result.warnings.append("Fewer than 2 weeks of data in the window: no estimate yet.")
        return

    def estimate(outcome: list[float], per_creator: dict[int, list[float]], control: Any) -> Any:
        return staggered_share(
            StaggeredInput(
                outcome=outcome,
                attributed=[per_creator[c] for c in creator_ids],
                go_live=[row.day for row in rows],
                launch_day=launch_day,
                waves=test.waves,
                span_days=test.waves * test.wave_days,
                weekday=series.weekday,
                control=control,
                seed=test.seed,
            )
        )

    orders = estimate(series.orders, series.creator_orders, series.control_orders)
    revenue = estimate(series.revenue, series.creator_revenue, series.control_revenue)
    result.incremental_share = orders.share
    result.model_based_share = orders.model_based
    result.randomization = {
        "schedules": orders.schedules,
        "smallest_p_value": orders.smallest_p,
        "interval_possible": orders.interval_possible,
    }
    if not orders.interval_possible:
        result.warnings.append(
            report.no_randomization_interval(
                len(rows),
                test.waves,
                possible_schedules(Rollout(len(rows), test.waves, test.waves * test.wave_days)),
                orders.smallest_p,
            )
        )
    elif not orders.share.bounded:
        result.warnings.append(report.too_thin(orders.share))
    spend = _spend(session, test, launched, result.end)
    names = _names(session, test, creator_ids)

    def figures(label: str, creators: list[int]) -> report.Figures:
        count = sum(sum(series.creator_orders[c]) for c in creators)
        money = sum(sum(series.creator_revenue[c]) for c in creators)
        return report.figures(
            label,
            attributed_orders=int(count),
            attributed_revenue_minor=int(money),
            spend_minor=sum(spend.get(c, 0) for c in creators),
            incremental_orders=report.share_of(count, orders.share),
            incremental_revenue_minor=report.share_of(money, revenue.share),
        )

    result.campaign = figures("the campaign's creators", creator_ids)
    result.creators = [
        (c, names.get(c, str(c)), figures(names.get(c, str(c)), [c])) for c in creator_ids
    ]
    measure = "orders a day of the promoted products"
    if not math.isfinite(orders.share.estimate):  # the counterfactual fell back on the DiD
        measure += " (counterfactual from the model-based figure: the lottery cannot say yet)"
    result.chart = Chart(days, series.orders, list(orders.counterfactual), launch_day, measure)


def _holdout(session: Session, test: LiftTest, result: LiftResult) -> None:
    launched = test.launched_at or result.start
    visitors = link_visitors(session, test, launched, result.end)
    treated = [v for v in visitors if not v.held_out]
    held = [v for v in visitors if v.held_out]
    converted = sum(1 for v in visitors if v.orders)
    result.warnings = report.holdout_warnings(len(held), converted)
    spend = _spend(session, test, launched, result.end)
    names = _names(session, test, sorted({v.creator_id for v in visitors}))

    def figures(label: str, group: list[Any], spent: int) -> tuple[report.Figures, Interval]:
        arm_t = [v for v in group if not v.held_out]
        arm_h = [v for v in group if v.held_out]
        difference = conversion_difference(
            ArmCounts(len(arm_t), sum(1 for v in arm_t if v.orders)),
            ArmCounts(len(arm_h), sum(1 for v in arm_h if v.orders)),
        )
        per_visitor = mean_difference([v.revenue for v in arm_t], [v.revenue for v in arm_h])
        return (
            report.figures(
                label,
                attributed_orders=sum(len(v.orders) for v in arm_t),
                attributed_revenue_minor=int(sum(v.revenue for v in arm_t)),
                spend_minor=spent,
                incremental_orders=difference.scaled(len(arm_t)),
                incremental_revenue_minor=per_visitor.scaled(len(arm_t)),
            ),
            difference,
        )

    result.campaign, difference = figures(
        "the discount on these links", visitors, sum(spend.values())
    )
    result.conversion = {
        "treated_visitors": len(treated),
        "holdout_visitors": len(held),
        "treated_rate": _rate(treated),
        "holdout_rate": _rate(held),
        "difference": difference,
    }
    for creator_id, group in sorted(group_visitors(visitors).items()):
        name = names.get(creator_id, str(creator_id))
        label = f"{name}'s discount"
        result.creators.append(
            (creator_id, name, figures(label, group, spend.get(creator_id, 0))[0])
        )
    days = full_days(launched, result.end) or [launched.date()]
    actual = [float(sum(len(v.orders) for v in treated if v.first_day == day)) for day in days]
    arrivals = [float(sum(1 for v in treated if v.first_day == day)) for day in days]
    rate = _rate(held) or 0.0
    result.chart = Chart(
        days,
        list(accumulate(actual)),
        [count * rate for count in accumulate(arrivals)],
        0,
        "orders so far from visitors who got the discount",
    )


def _rate(group: list[Any]) -> float | None:
    return sum(1 for v in group if v.orders) / len(group) if group else None


def _observational(session: Session, test: LiftTest, result: LiftResult) -> None:
    tenant = Tenant(session, test.shop_id)
    creator_ids = [creator.id for creator in lifecycle.participants(tenant, test.campaign_id)]
    days = full_days(result.start, result.end)
    series = daily_series(session, test, days, creator_ids)
    launched = test.launched_at or result.start
    launch_day = series.index(launched.date()) if days else 0
    result.warnings = report.observational_warnings(launch_day, len(days) - launch_day)
    if len(days) - launch_day < 1 or launch_day < 1:
        return
    orders = observational_difference(
        series.orders, series.weekday, launch_day, series.control_orders
    )
    revenue = observational_difference(
        series.revenue, series.weekday, launch_day, series.control_revenue
    )
    spend = _spend(session, test, launched, result.end)
    names = _names(session, test, creator_ids)
    counts = {c: sum(series.creator_orders[c][launch_day:]) for c in creator_ids}
    money = {c: sum(series.creator_revenue[c][launch_day:]) for c in creator_ids}
    total_orders, total_money = sum(counts.values()), sum(money.values())
    result.campaign = report.figures(
        "the campaign's creators",
        attributed_orders=int(total_orders),
        attributed_revenue_minor=int(total_money),
        spend_minor=sum(spend.values()),
        incremental_orders=orders.incremental,
        incremental_revenue_minor=revenue.incremental,
    )
    for c in creator_ids:
        # Allocated in proportion to attributed sales: the method has no per-creator signal.
        result.creators.append(
            (
                c,
                names.get(c, str(c)),
                report.figures(
                    names.get(c, str(c)),
                    attributed_orders=int(counts[c]),
                    attributed_revenue_minor=int(money[c]),
                    spend_minor=spend.get(c, 0),
                    incremental_orders=orders.incremental.scaled(
                        _fraction(counts[c], total_orders)
                    ),
                    incremental_revenue_minor=revenue.incremental.scaled(
                        _fraction(money[c], total_money)
                    ),
                ),
            )
        )
    result.chart = Chart(
        days,
        series.orders,
        list(orders.counterfactual),
        launch_day,
        "orders a day of the promoted products",
    )


def _fraction(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


# --- guidance before launch ---------------------------------------------------------------


def history(session: Session, test: LiftTest, now: datetime) -> History:
    reference = test.launched_at or now
    days = full_days(reference - timedelta(days=test.baseline_days), reference)
    series = daily_series(session, test, days, [])
    return History(tuple(series.orders), tuple(series.weekday))


def guidance(session: Session, test: LiftTest, now: datetime | None = None) -> Guidance:
    moment = now or utcnow()
    tenant = Tenant(session, test.shop_id)
    if test.design == "staggered":
        creators = len(lifecycle.participants(tenant, test.campaign_id))
        return staggered_guidance(
            history(session, test, moment), creators, test.waves, test.wave_days
        )
    if test.design == "holdout":
        reference = test.launched_at or moment
        recent = link_visitors(session, test, reference - timedelta(days=28), reference)
        conversion = _rate(recent) or 0.02
        return holdout_guidance(len(recent) / 28, conversion, test.holdout_bps, test.duration_days)
    return observational_guidance(history(session, test, moment), test.duration_days)


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
