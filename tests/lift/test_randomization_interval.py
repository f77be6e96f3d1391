"""The staggered launch's design-based check beside the headline: a randomization test of
"incremental share = τ" inverted over the wave assignments the lottery could have drawn."""

from __future__ import annotations

import numpy as np
import pytest

from plugin.domain.lift_design import History, staggered_guidance
from plugin.domain.lift_estimators import StaggeredInput, staggered_design, staggered_share
from plugin.domain.lift_randomization import (
    DRAWS,
    TAIL,
    assignments,
    distinct_assignments,
    p_values,
)


def _store(theta: float, seed: int = 0, creators: int = 12, waves: int = 4) -> StaggeredInput:
    """4 weeks before launch, then a week per wave; creators' reach differs 27-fold; about 5
    baseline orders a day (Poisson) and each attributed order extra with probability θ."""
    rng = np.random.default_rng(seed)
    days = 28 + 7 * waves
    wave_of = [creator % waves for creator in range(creators)]
    wave_start = [28 + 7 * wave for wave in range(waves)]
    reach = np.geomspace(0.3, 0.3 * 27, creators)
    rng.shuffle(reach)
    attributed = [
        [
            float(rng.poisson(reach[creator])) if day >= wave_start[wave_of[creator]] else 0.0
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
    return StaggeredInput(outcome, attributed, wave_of, wave_start, weekday, None, seed)


def test_the_interval_covers_a_known_effect_in_a_simulated_store() -> None:
    # given a store where 60 % of attributed orders are extra
    # when
    estimate = staggered_share(_store(0.6))
    # then the randomization interval is bounded, covers 0.6 and rules out "no lift"
    share = estimate.randomization
    assert share.bounded
    assert share.covers(0.6)
    assert share.low > 0
    assert share.low <= share.estimate <= share.high
    assert estimate.interval_possible
    assert not estimate.exhaustive  # 12 creators in 4 waves: 369,600 assignments, so re-drawn
    assert estimate.assignments == DRAWS + 1
    # and the headline (difference in differences) covers it too, narrower
    assert estimate.share.covers(0.6)
    assert estimate.share.high - estimate.share.low < share.high - share.low


def test_without_lift_the_interval_covers_zero() -> None:
    share = staggered_share(_store(0.0)).randomization
    assert share.bounded
    assert share.covers(0.0)


def test_the_inversion_keeps_exactly_the_values_between_its_ends() -> None:
    # given the test's p-values on a grid around the interval
    data = _store(0.6)
    share = staggered_share(data).randomization
    design = staggered_design(data)
    grid = np.linspace(share.low - 1, share.high + 1, 121)

    def kept(tau: float) -> bool:
        upper, lower = p_values(design.exposed, design.outcome, design.attributed, design.lags, tau)
        return min(upper, lower) > TAIL

    # then every τ inside is kept, every τ outside rejected, and the ends are crossings
    assert [kept(float(tau)) for tau in grid] == [
        bool(share.low <= tau <= share.high) for tau in grid
    ]
    assert kept(share.low)
    assert kept(share.high)
    assert not kept(share.low - 1e-6)
    assert not kept(share.high + 1e-6)


def test_adding_a_known_share_of_attributed_sales_moves_the_interval_by_it() -> None:
    # given the same store with every attributed order counted 0.5 more times in the outcome
    data = _store(0.6)
    total = np.sum(data.attributed, axis=0)
    shifted = StaggeredInput(
        [value + 0.5 * extra for value, extra in zip(data.outcome, total, strict=True)],
        data.attributed,
        data.wave_of,
        data.wave_start_day,
        data.weekday,
        None,
        data.seed,
    )
    # then the interval (a test inversion, so equivariant) moves by exactly 0.5
    before = staggered_share(data).randomization
    after = staggered_share(shifted).randomization
    assert after.low == pytest.approx(before.low + 0.5, abs=1e-6)
    assert after.high == pytest.approx(before.high + 0.5, abs=1e-6)


def test_too_few_creators_for_a_95_percent_interval_is_reported() -> None:
    # given 4 creators in 2 waves: the lottery had only 6 possible outcomes
    estimate = staggered_share(_store(0.6, creators=4, waves=2))
    # then no τ can be rejected at 2.5 % a side, and the estimate says so
    assert not estimate.interval_possible
    assert estimate.smallest_p == pytest.approx(1 / 6)
    assert estimate.exhaustive
    assert estimate.assignments == 6
    assert not estimate.randomization.bounded
    # while the headline still gives an interval
    assert estimate.share.bounded
    # and 6 creators in 3 waves (90 outcomes) can give one
    assert staggered_share(_store(0.6, creators=6, waves=3)).interval_possible


def test_every_assignment_is_listed_when_there_are_few() -> None:
    actual = [1, 0, 0, 1, 2]
    rows, exhaustive = assignments(actual, seed=3)
    assert exhaustive
    assert distinct_assignments([2, 2, 1]) == 30
    assert rows.shape == (30, 5)
    assert rows[0].tolist() == actual
    assert len({tuple(row) for row in rows.tolist()}) == 30
    assert all(sorted(row) == [0, 0, 1, 1, 2] for row in rows.tolist())


def test_many_assignments_are_seeded_re_draws_of_the_same_wave_sizes() -> None:
    actual = [creator % 4 for creator in range(20)]
    rows, exhaustive = assignments(actual, seed=11)
    again, _ = assignments(actual, seed=11)
    other, _ = assignments(actual, seed=12)
    assert not exhaustive
    assert rows.shape == (DRAWS + 1, 20)
    assert np.array_equal(rows, again)
    assert not np.array_equal(rows, other)
    assert all(np.bincount(row).tolist() == [5, 5, 5, 5] for row in rows)


def test_planning_sizes_the_headline_and_warns_when_the_check_cannot_bind() -> None:
    history = History(tuple([20.0, 25.0] * 14), tuple(day % 7 for day in range(28)))
    few = staggered_guidance(history, creators=4, waves=4, wave_days=7)
    # the headline (difference in differences) is sized even with 24 possible schedules
    assert few.detectable_lift is not None
    assert (
        "The lottery has only 24 possible schedules: too few for the design-based check's own "
        "95 % interval (it needs at least 40). "
    ) in few.sentence
    enough = staggered_guidance(history, creators=8, waves=4, wave_days=7)
    assert enough.detectable_lift is not None
    assert "possible schedules" not in enough.sentence
    assert "the headline (difference in differences) can detect a lift of about" in enough.sentence
    assert enough.sentence.endswith(
        "The design-based check beside it only uses which creators share a date, so it needs "
        "a lift several times larger; more creators and waves make it bind."
    )
