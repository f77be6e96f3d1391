"""The staggered launch's headline interval: a randomization test of "incremental share = τ"
inverted over schedules re-drawn from the design's own distribution."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from plugin.domain.lift_design import History, staggered_guidance
from plugin.domain.lift_randomization import (
    DRAWS,
    RANDOMIZATION_STREAM,
    TAIL,
    invert,
    p_values,
    schedules,
)
from plugin.domain.lift_schedule import (
    Rollout,
    assign,
    draw,
    draw_many,
    live_probability,
    possible_schedules,
)
from plugin.domain.lift_staggered import (
    StaggeredInput,
    creator_rates,
    exposure,
    staggered_design,
    staggered_share,
)


def _store(
    theta: float, seed: int = 0, creators: int = 12, waves: int = 4, wave_days: int = 7
) -> StaggeredInput:
    """4 weeks before launch, then the rollout; the schedule drawn from `seed`; creators' reach
    differs 27-fold; about 5 baseline orders a day (Poisson, Saturdays 11) and each attributed
    order extra with probability θ."""
    rng = np.random.default_rng(seed)
    span = waves * wave_days
    days = 28 + span
    schedule = assign(list(range(creators)), waves, span, seed)
    go_live = [schedule[creator][1] for creator in range(creators)]
    reach = np.geomspace(0.3, 0.3 * 27, creators)
    rng.shuffle(reach)
    attributed = [
        [
            float(rng.poisson(reach[creator])) if day >= 28 + go_live[creator] else 0.0
            for day in range(days)
        ]
        for creator in range(creators)
    ]
    total = np.sum(attributed, axis=0)
    outcome = [
        float(rng.poisson(5.0 + 6 * (day % 7 == 5))) + float(rng.binomial(int(total[day]), theta))
        for day in range(days)
    ]
    weekday = [day % 7 for day in range(days)]
    return StaggeredInput(outcome, attributed, go_live, 28, waves, span, weekday, None, seed)


def test_the_interval_covers_a_known_effect_in_a_simulated_store() -> None:
    # given a store where 60 % of attributed orders are extra
    # when
    estimate = staggered_share(_store(0.6))
    # then the headline (randomization) interval is bounded, covers 0.6 and rules out "no lift"
    share = estimate.share
    assert share.bounded
    assert share.covers(0.6)
    assert share.low > 0
    assert share.low <= share.estimate <= share.high
    assert estimate.interval_possible
    assert estimate.schedules == DRAWS + 1
    # and the model-based figure (difference in differences) covers it too, narrower
    assert estimate.model_based.covers(0.6)
    width = estimate.model_based.high - estimate.model_based.low
    assert width < share.high - share.low


def test_without_lift_the_interval_covers_zero() -> None:
    share = staggered_share(_store(0.0)).share
    assert share.bounded
    assert share.covers(0.0)


def test_the_inversion_keeps_exactly_the_values_between_its_ends() -> None:
    # given the test's p-values on a grid around the interval
    data = _store(0.6)
    share = staggered_share(data).share
    design = staggered_design(data)
    grid = np.linspace(share.low - 1, share.high + 1, 121)

    def kept(tau: float) -> bool:
        upper, lower = p_values(
            design.recentred, design.outcome_recentred, design.recentred[0], design.lags, tau
        )
        return min(upper, lower) > TAIL

    # then every τ inside is kept, every τ outside rejected, and the ends are crossings
    assert [kept(float(tau)) for tau in grid] == [
        bool(share.low <= tau <= share.high) for tau in grid
    ]
    assert kept(share.low)
    assert kept(share.high)
    assert not kept(share.low - 1e-6)
    assert not kept(share.high + 1e-6)


def test_adding_a_known_share_of_the_exposure_moves_the_interval_by_it() -> None:
    # given the same store with half an order more for each order its live creators bring
    data = _store(0.6)
    attributed = np.asarray(data.attributed)
    starts = data.launch_day + np.asarray(data.go_live)
    rates = creator_rates(attributed, starts.tolist())
    extra = exposure(rates, starts, len(data.outcome))[0]
    shifted = StaggeredInput(
        [value + 0.5 * more for value, more in zip(data.outcome, extra, strict=True)],
        data.attributed,
        data.go_live,
        data.launch_day,
        data.waves,
        data.span_days,
        data.weekday,
        None,
        data.seed,
    )
    # then the interval (a test inversion, so equivariant) moves by exactly 0.5
    before = staggered_share(data).share
    after = staggered_share(shifted).share
    assert after.low == pytest.approx(before.low + 0.5, abs=1e-6)
    assert after.high == pytest.approx(before.high + 0.5, abs=1e-6)


def test_too_few_schedules_for_a_95_percent_interval_is_reported() -> None:
    # given 4 creators in 2 waves of 1 day: 6 memberships x 3 date pairs = 18 schedules
    assert possible_schedules(Rollout(4, 2, 2)) == 18
    estimate = staggered_share(_store(0.6, creators=4, waves=2, wave_days=1))
    # then no τ can be rejected at 2.5 % a side, and the estimate says so
    assert not estimate.interval_possible
    assert estimate.smallest_p > TAIL
    assert not estimate.share.bounded
    # while 12 creators over 4 weeks can give one
    assert staggered_share(_store(0.6)).interval_possible


def test_the_re_draws_are_the_designs_own_draw_on_a_separate_stream() -> None:
    rollout = Rollout(12, 4, 28)
    actual = assign(list(range(12)), 4, 28, seed=5)
    rows = schedules([actual[c][1] for c in range(12)], rollout, seed=5)
    # row 0 is the actual schedule; the others are `draw`, seeded from the test's seed
    assert rows.shape == (DRAWS + 1, 12)
    assert rows[0].tolist() == [actual[c][1] for c in range(12)]
    expected = draw_many(rollout, np.random.default_rng([5, RANDOMIZATION_STREAM]), DRAWS)
    assert np.array_equal(rows[1:], expected)
    # reproducible, decided by the seed, and not the launch's own stream repeated
    assert np.array_equal(rows, schedules(rows[0].tolist(), rollout, seed=5))
    assert not np.array_equal(rows[1:], schedules(rows[0].tolist(), rollout, seed=6)[1:])
    assert rows[1].tolist() != draw(rollout, np.random.default_rng(5))[1].tolist()


def test_the_re_draws_follow_the_distribution_the_launch_draws_from() -> None:
    # given the launch's draws over 2,000 seeds and one test's 1,999 re-draws
    rollout = Rollout(10, 4, 28)
    launches = np.array(
        [[day for _, day in assign(list(range(10)), 4, 28, seed).values()] for seed in range(2000)]
    )
    redrawn = schedules(launches[0].tolist(), rollout, seed=99)[1:]
    # then a creator's go-live day has the same distribution in both, and the exact one
    # the recentring uses (live_probability)
    exact = live_probability(rollout, np.arange(28, dtype=np.float64))
    for sample in (launches, redrawn):
        empirical = np.array([np.mean(sample[:, 0] <= day) for day in range(28)])
        assert np.max(np.abs(empirical - exact)) < 0.04
    # and so does how often two creators share a go-live day (waves share a date, and
    # two waves' dates may coincide)
    shared = [float(np.mean(sample[:, 0] == sample[:, 1])) for sample in (launches, redrawn)]
    assert shared[0] == pytest.approx(shared[1], abs=0.04)
    # same wave (waves of 3, 3, 2, 2: 16 of 90 ordered pairs), or two waves on one date
    assert 16 / 90 < shared[0] < 16 / 90 + 0.08


def test_planning_sizes_the_headline_and_warns_when_the_lottery_is_too_small() -> None:
    history = History(tuple([20.0, 25.0] * 14), tuple(day % 7 for day in range(28)))
    tiny = staggered_guidance(history, creators=2, waves=2, wave_days=1)
    assert tiny.detectable_lift is not None
    assert not tiny.enough
    assert (
        "The lottery has only 6 possible schedules: too few for a 95 % interval (it needs at "
        "least 40). "
    ) in tiny.sentence
    usual = staggered_guidance(history, creators=20, waves=4, wave_days=7)
    longer = staggered_guidance(history, creators=20, waves=4, wave_days=14)
    assert usual.detectable_lift is not None
    assert longer.detectable_lift is not None
    assert "possible schedules" not in usual.sentence
    assert usual.sentence.startswith(
        "With 20 creators in 4 waves over 28 days and about 22 orders a day of these products, "
        "the headline (from the lottery alone) can detect a lift of about "
    )
    # a longer rollout spreads the random dates more: a smaller detectable lift
    assert longer.detectable_lift < usual.detectable_lift


def test_the_point_estimate_is_where_the_actual_statistic_is_zero() -> None:
    # given an actual recentred exposure e = (3, 1, 0, -1, -1, -2), every other ordering of it
    # as the re-drawn schedules (360 in all), and an outcome y = (4, 2, 1, 0, -1, -6)
    actual = (3.0, 1.0, 0.0, -1.0, -1.0, -2.0)
    rows = [actual, *sorted(set(itertools.permutations(actual)) - {actual})]
    exposed = np.array(rows)
    outcome = np.array([4.0, 2.0, 1.0, 0.0, -1.0, -6.0])
    # when
    inversion = invert(exposed, outcome, exposed[0], 1, guess=0.0, scale=1.0)
    # then the estimate is e·y / e·e = (12 + 2 + 0 + 0 + 1 + 12) / (9 + 1 + 0 + 1 + 1 + 4)
    # = 27/16, not where the statistic sits mid-distribution (about 1.636 here)
    assert inversion.schedules == 360
    assert inversion.estimate == pytest.approx(27 / 16, abs=1e-12)
    assert inversion.low < 27 / 16 < inversion.high
    assert not inversion.clamped


def test_a_rejected_root_is_reported_as_the_nearer_end_of_the_interval() -> None:
    # given re-drawn exposures that all lean the same way against the residual at the actual
    # schedule's root (each the actual one, plus twice the residual's direction, plus noise)
    rng = np.random.default_rng(0)
    actual = rng.normal(size=30)
    outcome = rng.normal(size=30) + actual
    root = float(actual @ outcome / (actual @ actual))
    lean = outcome - root * actual
    lean /= np.linalg.norm(lean)
    others = [actual + 2.0 * lean + 0.5 * rng.normal(size=30) for _ in range(199)]
    exposed = np.array([actual, *others])
    # when
    inversion = invert(exposed, outcome, exposed[0], 1, guess=0.0, scale=1.0)
    # then the test rejects the root, and the estimate shown is the interval's nearer end
    assert root > inversion.high
    assert inversion.clamped
    assert inversion.estimate == inversion.high
    assert inversion.low < inversion.high
