"""The staggered launch's random schedule: who goes in which wave, and when each wave goes live.

One function draws a schedule (`draw`); the launch calls it once with the test's recorded seed,
and the randomization test calls the same function for its re-draws, so the test compares the
actual schedule with schedules from exactly the distribution it was drawn from.

The draw, for n creators (in increasing id order) and K waves over a rollout of S days:
1. a seeded random order of the creators, dealt round-robin into the waves (sizes differ by at
   most one);
2. each wave's go-live day drawn uniformly from the S days (0 = the launch day), independently,
   then sorted so that wave 1 is the earliest (two waves may share a day).

Why dates are drawn over the whole rollout, not only the lottery of who goes first: the result
is a store-level series, and with fixed wave dates a different lottery only changes *which*
creators share a date, which moves the store's sales very little; the randomization test then
could not tell the actual schedule from the others (measured: unbounded in 181 of 200 simulated
stores). Its power grows with how much the design moves the number of creators live on a day:
summed over days, that variance is about S/(6K) of the creators' combined reach with dates drawn
over the rollout, S/(6K²) with each wave's date drawn within its own slot of S/K days, and
S/(6n) with every creator's own day drawn (it averages out over many creators).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

Days = npt.NDArray[np.int64]
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Rollout:
    creators: int
    waves: int
    span_days: int  # go-live days are drawn from 0 .. span_days - 1 after the launch

    def __post_init__(self) -> None:
        if self.waves < 1 or self.span_days < 1 or self.creators < 0:
            raise ValueError("a rollout needs at least 1 wave and 1 day")

    @property
    def sizes(self) -> list[int]:
        base, extra = divmod(self.creators, self.waves)
        return [base + (1 if wave < extra else 0) for wave in range(self.waves)]


def draw(rollout: Rollout, rng: np.random.Generator) -> tuple[Days, Days]:
    """(wave per creator, go-live day per creator), creators in increasing id order."""
    order = rng.permutation(rollout.creators)
    wave_of = np.empty(rollout.creators, dtype=np.int64)
    wave_of[order] = np.arange(rollout.creators) % rollout.waves
    dates = np.sort(rng.integers(rollout.span_days, size=rollout.waves))
    go_live: Days = dates[wave_of]
    return wave_of, go_live


def draw_many(rollout: Rollout, rng: np.random.Generator, count: int) -> Days:
    """`count` go-live days per creator, one row per draw, each from `draw`."""
    rows = [draw(rollout, rng)[1] for _ in range(count)]
    result: Days = np.vstack(rows) if rows else np.empty((0, rollout.creators), dtype=np.int64)
    return result


def assign(
    creator_ids: Sequence[int], waves: int, span_days: int, seed: int
) -> dict[int, tuple[int, int]]:
    """creator id -> (wave, go-live day after launch), drawn once from the test's seed. The same
    ids (in any order) and seed always give the same schedule."""
    ordered = sorted(set(creator_ids))
    wave_of, go_live = draw(Rollout(len(ordered), waves, span_days), np.random.default_rng(seed))
    return {
        creator: (int(wave), int(day))
        for creator, wave, day in zip(ordered, wave_of, go_live, strict=True)
    }


def live_probability(rollout: Rollout, days_since_launch: Vector) -> Vector:
    """P(a creator is live by each day) under the design, the same for every creator: wave w
    (0-based) goes live on the (w+1)-th smallest of K uniform days, and a creator is in wave w
    with probability size_w / n."""
    covered = np.clip((np.floor(days_since_launch) + 1) / rollout.span_days, 0.0, 1.0)
    total = max(rollout.creators, 1)
    result = np.zeros_like(covered)
    for wave, size in enumerate(rollout.sizes):
        # at least wave+1 of the K dates fall on or before the day
        result += size / total * stats.binom.sf(wave, rollout.waves, covered)
    return np.asarray(result, dtype=np.float64)


def possible_schedules(rollout: Rollout) -> int:
    """How many different schedules the draw can make: wave memberships times sorted dates."""
    memberships, remaining = 1, rollout.creators
    for size in rollout.sizes:
        memberships *= math.comb(remaining, size)
        remaining -= size
    return memberships * math.comb(rollout.span_days + rollout.waves - 1, rollout.waves)
