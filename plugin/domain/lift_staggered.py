"""The staggered launch's estimates: the incremental share of attributed sales, with its 95 %
interval from the randomization (the headline) and from a difference in differences (a
model-based second figure).

The estimand is the *incremental share* θ: the fraction of the campaign's attributed sales that
would not have happened without the creators (θ = 1: every attributed order was caused by them;
θ = 0: the customers would have bought anyway; θ > 1: halo sales beyond the tracked ones).
Model: Y_t = Y0_t + θ·A_t, where Y is the sales of the promoted products (or the store), A the
sales attributed to the campaign's creators and Y0 what would have sold without them.

Exposure: E_t = Σ_i r_i·1[t ≥ go-live day of creator i], r_i creator i's attributed sales per
live day. Y and A are divided by the control series (non-promoted products) relative to its
mean, when there is one (store-wide swings, taken as proportional); E is not: dividing it by
the same noisy daily control gave it the control's day-to-day noise, shared with Y/control, and
that common noise biased the estimate upwards (measured: +25 % of the true lift on simulated
stores; about 0 once E is left alone, where it is a fixed function of the schedule).

Headline (design-based, lift_randomization.py): under the hypothesis "the campaign's live
creators add τ orders for each order they are expected to bring" (τ·E_t a day, E the actual
schedule's exposure), Y - τ·E would have been the same under any schedule the design could have
drawn, so the actual schedule's statistic is ranked among re-drawn schedules' (a studentized
regression on each schedule's exposure, recentred on its design expectation, computed exactly
from lift_schedule.live_probability). The interval is every τ kept. E rather than A (the
attributed sales themselves) is what τ multiplies because A carries each day's Poisson noise:
with a few attributed orders a day that noise hid the schedule, and the interval stayed
unbounded in a third of simulated stores; E is a fixed function of the schedule, so a large
enough |τ| is always rejected. The rates in E are estimated from the sales, taken as fixed.
The outcome is divided by the control's weekly level (its daily noise would widen the
interval; any adjustment that the schedule cannot change keeps the test valid). The estimate is
the share at which the actual schedule's statistic is zero (the outcome's regression on the
recentred exposure), moved to the nearer end in the rare case the test rejects it. The
interval needs no model of the sales: only that the schedule was drawn at random, as recorded.

Model-based figure (difference in differences): θ̂ = Ẽ·Ỹ / Ẽ·Ã with the uncentred exposure, ~
meaning after an intercept and the weekday, Student t interval from the larger of the classical
and the Newey-West variance. It also uses the days before launch against the days after, so it
is narrower, but only valid if the control (or the weekday pattern) tracks what the promoted
products would have sold ("parallel trends"), which the randomization does not guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from plugin.domain.lift_estimators import (
    Interval,
    controls,
    difference_in_differences,
    newey_west_lags,
    relative_level,
    residualize,
)
from plugin.domain.lift_randomization import invert, schedules
from plugin.domain.lift_schedule import Rollout, live_probability

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StaggeredInput:
    outcome: Sequence[float]  # Y_t: promoted products' (or the store's) daily sales
    attributed: Sequence[Sequence[float]]  # A_it: creator i's attributed sales on day t
    go_live: Sequence[int]  # per creator: the drawn go-live day, in days after the launch day
    launch_day: int  # index of the launch day in the series
    waves: int  # the design the schedule was drawn from (lift_schedule.Rollout)
    span_days: int
    weekday: Sequence[int]  # per day: 0 = Monday
    control: Sequence[float] | None = None  # non-promoted products' daily sales, if any
    seed: int = 0  # the test's recorded seed: the re-drawn schedules come from it


@dataclass(frozen=True)
class StaggeredEstimate:
    share: Interval  # θ by randomization inference: the headline
    model_based: Interval  # θ by difference in differences, Newey-West: shown as secondary
    attributed_total: float
    counterfactual: tuple[float, ...]  # Y_t - θ̂·A_t, θ̂ the headline's (else the model's)
    schedules: int  # compared by the randomization test, the actual one included
    smallest_p: float  # the smallest one-sided p-value the test can reach
    interval_possible: bool  # False: too few different schedules for any 95 % interval


@dataclass(frozen=True)
class StaggeredDesign:
    """The series the staggered estimators compare."""

    # Randomization inference: after the weekday and the design's expected exposure.
    recentred: Vector  # exposure of each schedule (row 0: the actual one)
    outcome_recentred: Vector  # Y over the control's weekly level
    # Difference in differences: after the weekday only.
    exposed: Vector  # exposure of the actual schedule (the instrument)
    outcome: Vector  # Y over the control's daily level
    attributed: Vector  # A over the control's daily level
    parameters: int  # nuisance terms the DiD removed
    lags: int  # Newey-West


def creator_rates(attributed: Vector, go_live_day: Sequence[int]) -> Vector:
    """Each creator's attributed sales per live day (0 for a creator never live in the window)."""
    days = attributed.shape[1]
    rates = np.zeros(attributed.shape[0])
    for index, start in enumerate(go_live_day):
        live = days - max(start, 0)
        if live > 0:
            rates[index] = attributed[index, max(start, 0) :].sum() / live
    return rates


def exposure(rates: Vector, starts: npt.NDArray[np.int64], days: int) -> Vector:
    """E_t for one or many schedules: `starts` is (creators,) or (schedules, creators)."""
    timeline = np.arange(days)
    live = timeline[None, None, :] >= np.atleast_2d(starts)[:, :, None]
    result: Vector = np.einsum("c,act->at", rates, live.astype(np.float64))
    return result


def weekly_level(relative: Vector) -> Vector:
    """The control's level averaged over a centred week (shorter at the ends): its slow swings
    without most of its day-to-day noise, which would otherwise add to the outcome's."""
    kernel = np.ones(7)
    smooth: Vector = np.convolve(relative, kernel, "same") / np.convolve(
        np.ones(relative.size), kernel, "same"
    )
    return smooth


def staggered_design(data: StaggeredInput) -> StaggeredDesign:
    outcome = np.asarray(data.outcome, dtype=np.float64)
    days = outcome.size
    attributed = np.asarray(data.attributed, dtype=np.float64).reshape(-1, days)
    go_live = np.asarray(data.go_live, dtype=np.int64)
    rates = creator_rates(attributed, (data.launch_day + go_live).tolist())
    rollout = Rollout(go_live.size, data.waves, data.span_days)
    starts = data.launch_day + schedules(go_live.tolist(), rollout, data.seed)
    exposures = exposure(rates, starts, days)
    since_launch = np.arange(days, dtype=np.float64) - data.launch_day
    expected = float(rates.sum()) * live_probability(rollout, since_launch)
    daily = relative_level(data.control, days, days)
    nuisance = controls(data.weekday)
    # Recentring the exposure on its design expectation is controlling for that expectation
    # (Borusyak & Hull 2023): it is regressed out of every series the test compares.
    recentring = np.column_stack([nuisance, expected])
    return StaggeredDesign(
        recentred=residualize(recentring, exposures),
        outcome_recentred=residualize(recentring, outcome / weekly_level(daily)),
        exposed=residualize(nuisance, exposures[0]),
        outcome=residualize(nuisance, outcome / daily),
        attributed=residualize(nuisance, attributed.sum(axis=0) / daily),
        parameters=nuisance.shape[1],
        lags=newey_west_lags(days),
    )


def staggered_share(data: StaggeredInput) -> StaggeredEstimate:
    design = staggered_design(data)
    model = difference_in_differences(
        design.exposed, design.outcome, design.attributed, design.parameters
    )
    usable = model.bounded and model.high > model.low
    inversion = invert(
        design.recentred,
        design.outcome_recentred,
        design.recentred[0],
        design.lags,
        guess=model.estimate if usable else 0.0,
        scale=(model.high - model.low) / 4 if usable else 1.0,
    )
    share = Interval(inversion.estimate, inversion.low, inversion.high)
    point = next((v for v in (share.estimate, model.estimate) if math.isfinite(v)), 0.0)
    outcome = np.asarray(data.outcome, dtype=np.float64)
    total = np.asarray(data.attributed, dtype=np.float64).reshape(-1, outcome.size).sum(axis=0)
    return StaggeredEstimate(
        share=share,
        model_based=model,
        attributed_total=float(total.sum()),
        counterfactual=tuple((outcome - point * total).tolist()),
        schedules=inversion.schedules,
        smallest_p=inversion.smallest_p,
        interval_possible=inversion.possible,
    )
