"""The lift estimators against cases computed by hand (or by an independent published source)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from plugin.domain.lift_estimators import (
    ArmCounts,
    Interval,
    conversion_difference,
    difference_in_differences,
    mean_difference,
    observational_difference,
    wilson,
)
from plugin.domain.lift_report import orders_sentence, roi, share_of
from plugin.domain.lift_schedule import assign
from plugin.domain.lift_staggered import StaggeredInput, staggered_design, staggered_share


def test_newcombe_hybrid_score_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10.
    interval = conversion_difference(ArmCounts(70, 56), ArmCounts(80, 48))
    assert interval.estimate == pytest.approx(0.2)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.0524, 0.3339)


def test_wilson_interval_by_hand() -> None:
    # 5 of 10, z = 2: centre (0.5 + 4/20)/(1 + 4/10) = 0.5; half = 2*sqrt(0.025 + 0.01)/1.4.
    low, high = wilson(5, 10, 2.0)
    half = 2 * math.sqrt(0.025 + 0.01) / 1.4
    assert (low, high) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))


def test_no_visitors_in_an_arm_gives_an_unbounded_interval() -> None:
    interval = conversion_difference(ArmCounts(100, 5), ArmCounts(0, 0))
    assert not interval.bounded


def test_welch_interval_matches_an_independent_computation() -> None:
    treated, holdout = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]
    # by hand: means 2.5 and 5; variances of the means 5/12 and 5/3; Welch df 4.4118
    interval = mean_difference(treated, holdout)
    expected = stats.ttest_ind(treated, holdout, equal_var=False).confidence_interval(0.95)
    assert interval.estimate == -2.5
    assert (interval.low, interval.high) == (
        pytest.approx(expected.low),
        pytest.approx(expected.high),
    )
    assert math.sqrt(5 / 12 + 5 / 3) * stats.t.ppf(0.975, 4.4118) == pytest.approx(
        interval.high + 2.5, rel=1e-4
    )


def test_observational_prediction_interval_by_hand() -> None:
    # given: two weeks at 9, 11, 9, 11 ... (each weekday sees both), then a week at 12
    pre = [9.0 if day % 2 == 0 else 11.0 for day in range(14)]
    weekday = [day % 7 for day in range(21)]
    # when
    estimate = observational_difference([*pre, *[12.0] * 7], weekday, 14)
    # then: predicted 10 a day, so 7 x 2 = 14 extra; residuals +-1 with 14 - 7 = 7 df, s^2 = 2;
    # each weekday mean rests on 2 days, so Var(sum) = 2 * (7 + 7/2) = 21.
    half = stats.t.ppf(0.975, 7) * math.sqrt(21)
    assert estimate.incremental.estimate == pytest.approx(14)
    assert estimate.incremental.low == pytest.approx(14 - half)
    assert estimate.incremental.high == pytest.approx(14 + half)
    assert estimate.counterfactual[15] == pytest.approx(10)


def test_a_flat_history_gives_an_exact_counterfactual() -> None:
    estimate = observational_difference([10.0] * 14 + [13.0] * 7, [d % 7 for d in range(21)], 14)
    assert (estimate.incremental.low, estimate.incremental.high) == (
        pytest.approx(21),
        pytest.approx(21),
    )


def test_difference_in_differences_by_hand() -> None:
    # residual exposure e, attributed a, outcome y = 0.5 a + noise n with e.n = 0
    e = np.array([-1.0, -1.0, 1.0, 1.0, -1.0, 1.0])
    a = np.array([0.0, 0.0, 4.0, 4.0, 0.0, 4.0])
    noise = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0])
    y = 0.5 * a + noise
    interval = difference_in_differences(e, y, a, parameters=1)
    # theta = e.y / e.a = 6 / 12; residual = noise; classical variance
    # (n.n)(e.e) / df / (e.a)^2 = 4 * 6 / 4 / 144 with df = 6 - 1 - 1 = 4
    assert interval.estimate == pytest.approx(0.5)
    half = stats.t.ppf(0.975, 4) * math.sqrt(4 * 6 / 4 / 144)
    assert interval.high - interval.estimate == pytest.approx(half)


def _staggered_store(theta: float) -> StaggeredInput:
    """3 weeks before launch, 3 waves over 21 days drawn from seed 7; creator i sells i + 1
    orders every live day; the rest of the outcome is an exact weekday pattern."""
    days, creators, launch = 42, 6, 21
    weekday = [day % 7 for day in range(days)]
    schedule = assign(list(range(creators)), 3, 21, seed=7)
    go_live = [schedule[creator][1] for creator in range(creators)]
    attributed = [
        [float(1 + creator) if day >= launch + go_live[creator] else 0.0 for day in range(days)]
        for creator in range(creators)
    ]
    outcome = [
        20.0 + 3 * (day % 7) + theta * sum(row[day] for row in attributed) for day in range(days)
    ]
    return StaggeredInput(outcome, attributed, go_live, launch, 3, 21, weekday, None, 7)


@pytest.mark.parametrize("theta", [0.0, 0.4, 1.0])
def test_staggered_recovers_the_incremental_share_without_noise(theta: float) -> None:
    estimate = staggered_share(_staggered_store(theta))
    # Without noise only τ = θ leaves an outcome the schedule cannot move: the headline
    # (randomization inference) collapses on θ.
    assert estimate.share.estimate == pytest.approx(theta, abs=1e-6)
    assert (estimate.share.low, estimate.share.high) == (
        pytest.approx(theta, abs=1e-6),
        pytest.approx(theta, abs=1e-6),
    )
    # and the model-based difference in differences finds it too
    assert estimate.model_based.estimate == pytest.approx(theta, abs=1e-9)
    assert estimate.model_based.low == pytest.approx(theta, abs=1e-6)
    assert estimate.attributed_total == pytest.approx(sum(map(sum, _staggered_store(0).attributed)))


def test_staggered_randomization_is_seeded() -> None:
    first = staggered_share(_staggered_store(0.5))
    second = staggered_share(_staggered_store(0.5))
    assert first == second


def test_the_campaign_figures_scale_the_share_and_roi_maps_the_interval() -> None:
    share = Interval(0.5, 0.25, 0.75)
    assert share_of(58, share) == Interval(29.0, 14.5, 43.5)
    revenue = Interval(30_000, 10_000, 50_000)
    assert roi(revenue, 20_000) == Interval(0.5, -0.5, 1.5)
    assert roi(revenue, 0) is None


@pytest.mark.parametrize(
    ("interval", "sentence"),
    [
        (
            Interval(20, 12, 31),
            "Between 12 and 31 of these 58 orders would not have happened without Maya.",
        ),
        (
            Interval(5, -3, 14),
            "Up to 14 of these 58 orders may not have happened without Maya, but the data "
            "cannot rule out that customers would have bought anyway.",
        ),
        (
            Interval(math.nan, -math.inf, math.inf),
            "The data cannot yet say how many of these 58 orders would not have happened "
            "without Maya.",
        ),
        (
            Interval(30, -40, 90),
            "Up to all 58 of these orders may not have happened without Maya (the range "
            "reaches 90: Maya may also have driven sales not credited to them), but the data "
            "cannot rule out that customers would have bought anyway.",
        ),
        (
            Interval(50, 20, 75),
            "Between 20 and all 58 of these orders would not have happened without Maya "
            "(the range reaches 75: Maya may also have driven sales not credited to them).",
        ),
        (
            Interval(70, 60, 80),
            "All 58 of these orders would not have happened without Maya (the range reaches 80: "
            "Maya may also have driven sales not credited to them).",
        ),
        (
            Interval(-2, -5, -1),
            "None of these 58 orders look extra: customers would most likely have bought "
            "anyway (95 % interval -5 to -1 orders).",
        ),
    ],
)
def test_the_plain_sentence(interval: Interval, sentence: str) -> None:
    assert orders_sentence("Maya", 58, interval) == sentence


def test_the_sentence_for_a_creator_without_credited_orders() -> None:
    assert orders_sentence("Maya", 0, Interval(0, 0, 0)) == "No orders are credited to Maya yet."


def test_the_exposure_is_not_divided_by_the_noisy_control() -> None:
    # given the same store without and with a noisy control series (the rest of the store)
    plain = _staggered_store(0.5)
    noisy = np.random.default_rng(3).poisson(60, size=len(plain.outcome)).astype(float)
    with_control = StaggeredInput(
        plain.outcome,
        plain.attributed,
        plain.go_live,
        plain.launch_day,
        plain.waves,
        plain.span_days,
        plain.weekday,
        noisy.tolist(),
        plain.seed,
    )
    # when
    before, after = staggered_design(plain), staggered_design(with_control)
    # then the outcome and attributed sales are taken relative to the control, but the
    # exposure (a function of the schedule only) is not: dividing it too gave it the control's
    # daily noise, shared with the outcome's, which biased the share upwards (+25 % measured)
    assert not np.allclose(before.outcome, after.outcome)
    assert np.allclose(before.exposed, after.exposed)
    assert np.allclose(before.recentred, after.recentred)
