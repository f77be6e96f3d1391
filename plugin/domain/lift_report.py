"""Incremental orders, revenue and ROI with their 95 % intervals, and the sentences that say
them in plain words, from an estimate of the incremental share of attributed sales."""

from __future__ import annotations

import math
from dataclasses import dataclass

from plugin.domain.lift_estimators import Interval
from plugin.domain.lift_randomization import TAIL

MIN_ATTRIBUTED_ORDERS = 20
MIN_HOLDOUT_VISITORS = 100
MIN_HOLDOUT_CONVERSIONS = 10


@dataclass(frozen=True)
class Figures:
    """One campaign's or one creator's lift."""

    label: str  # "the campaign's creators", "Maya Ortiz"
    attributed_orders: int
    attributed_revenue_minor: int
    spend_minor: int
    incremental_orders: Interval
    incremental_revenue_minor: Interval
    roi: Interval | None  # (incremental revenue - spend) / spend; None without spend
    sentence: str


def figures(
    label: str,
    *,
    attributed_orders: int,
    attributed_revenue_minor: int,
    spend_minor: int,
    incremental_orders: Interval,
    incremental_revenue_minor: Interval,
) -> Figures:
    return Figures(
        label=label,
        attributed_orders=attributed_orders,
        attributed_revenue_minor=attributed_revenue_minor,
        spend_minor=spend_minor,
        incremental_orders=incremental_orders,
        incremental_revenue_minor=incremental_revenue_minor,
        roi=roi(incremental_revenue_minor, spend_minor),
        sentence=orders_sentence(label, attributed_orders, incremental_orders),
    )


def share_of(attributed: float, share: Interval) -> Interval:
    """The incremental part of `attributed` sales, for an incremental share θ with its interval."""
    return share.scaled(max(attributed, 0.0))


def roi(incremental_revenue_minor: Interval, spend_minor: int) -> Interval | None:
    """(incremental revenue - spend) / spend: a monotone map, so the interval maps end to end."""
    if spend_minor <= 0:
        return None
    return incremental_revenue_minor.scaled(1 / spend_minor, -1.0)


def orders_sentence(label: str, attributed_orders: int, incremental: Interval) -> str:
    if attributed_orders <= 0:
        return f"No orders are credited to {label} yet."
    these = f"these {attributed_orders} orders"
    if not incremental.bounded or math.isnan(incremental.estimate):
        return (
            f"The data cannot yet say how many of {these} would not have happened without {label}."
        )
    low, high = round(incremental.low), round(incremental.high)
    # The share may exceed 100 %: a creator can lift sales they are not credited with (a friend
    # buys without the code). A count of "these orders" stops at all of them, and says so.
    beyond = (
        f" (the range reaches {high}: {label} may also have driven sales not credited to them)"
        if high > attributed_orders
        else ""
    )
    if high > attributed_orders:
        upper, these = f"all {attributed_orders}", "these orders"
    else:
        upper = str(high)
    if low > 0:
        if low >= attributed_orders:
            whole = f"All {attributed_orders} of {these}"
            return f"{whole} would not have happened without {label}{beyond}."
        return (
            f"Between {low} and {upper} of {these} would not have happened without {label}{beyond}."
        )
    if high > 0:
        return (
            f"Up to {upper} of {these} may not have happened without {label}{beyond}, but the "
            "data cannot rule out that customers would have bought anyway."
        )
    return (
        f"None of {these} look extra: customers would most likely have bought anyway "
        f"(95 % interval {low} to {high} orders)."
    )


def staggered_warnings(attributed_orders: int, creators: int, waves_started: int) -> list[str]:
    warnings = []
    if creators < 4:
        warnings.append(f"Only {creators} creators: too few to compare waves reliably.")
    if waves_started < 2:
        warnings.append("Fewer than 2 go-live dates have passed: nothing to compare yet.")
    if attributed_orders < MIN_ATTRIBUTED_ORDERS:
        warnings.append(
            f"Only {attributed_orders} attributed orders so far: too few to say anything yet "
            f"(wait for at least {MIN_ATTRIBUTED_ORDERS})."
        )
    return warnings


def no_randomization_interval(
    creators: int, waves: int, possible_schedules: int, smallest_p: float
) -> str:
    """Why the lottery cannot give a 95 % interval: the design has too few different schedules,
    or too few creators have sold for their dates to make a difference, so even the most extreme
    result would have a chance above 2.5 % each side."""
    if 1 / possible_schedules > TAIL:
        return (
            f"Too thin to say anything: with {creators} creators in {waves} waves the lottery "
            f"has only {possible_schedules} possible schedules, too few for a 95 % range (the "
            f"smallest chance the test can report is {1 / possible_schedules:.0%}, above the "
            "2.5 % each side needs). Add creators, waves or days to a future test."
        )
    return (
        "Too thin to say anything yet: too few of the creators have sold for the lottery's "
        "schedules to differ (the smallest chance the test can report is "
        f"{smallest_p:.0%}, above the 2.5 % each side needs)."
    )


def too_thin(share: Interval) -> str:
    """The lottery-based range has an open end: the sales cannot yet tell the actual schedule's
    effect from the others'."""
    if share.low_bounded:
        bound = f"at least {share.low:.0%} of the attributed orders were extra, but no upper limit"
    elif share.high_bounded:
        bound = f"at most {share.high:.0%} of the attributed orders were extra, but no lower limit"
    else:
        bound = "no limit either way"
    return (
        "Too thin to say anything yet: the sales do not move enough with the random schedule "
        f"for a 95 % range ({bound}). Wait for more days of sales."
    )


def holdout_warnings(holdout_visitors: int, conversions: int) -> list[str]:
    warnings = []
    if holdout_visitors < MIN_HOLDOUT_VISITORS:
        warnings.append(
            f"Only {holdout_visitors} held-out visitors: too few to say anything yet "
            f"(wait for at least {MIN_HOLDOUT_VISITORS})."
        )
    if conversions < MIN_HOLDOUT_CONVERSIONS:
        warnings.append(f"Only {conversions} visitors bought: too few to compare the groups.")
    return warnings


def observational_warnings(pre_days: int, post_days: int) -> list[str]:
    warnings = []
    if pre_days < 28:
        warnings.append(f"Only {pre_days} days of history before launch: a weak baseline.")
    if post_days < 7:
        warnings.append(f"Only {post_days} days since launch: too early to say anything.")
    return warnings
