"""The staggered launch's 95 % interval from its randomization alone: a test inversion.

For a hypothesized incremental share τ, the sharp null "every attributed sale brings τ extra
sales" makes Y - τ·A (what would have sold without the creators) the same whatever wave
assignment the lottery had drawn. The observed statistic is then one draw among the statistics
of every assignment the lottery could have made, so its rank is a p-value that needs no model of
the sales; the interval is every τ this test keeps at 5 % (2.5 % in each tail).

- Assignments: every one the design could have drawn (the creators dealt into waves of the
  actual sizes) when there are at most EXHAUSTIVE_LIMIT, otherwise DRAWS seeded re-draws, each a
  uniform shuffle of the actual wave labels, which is the same distribution as the design's
  seeded order dealt round-robin.
- Statistic: the t-statistic of the regression of Y - τ·A on the assignment's design exposure
  (after the weekday and the store-wide control, as in the difference in differences), with the
  larger of the classical and the Newey-West variance. Studentizing keeps the test valid, for
  large samples, under the weaker null that only the *average* share is τ (creators differing
  in how incremental they are; Wu & Ding 2021, JASA), which a raw coefficient does not.
- Another assignment's exposure puts each creator's observed attributed sales per live day
  at that assignment's go-live date: creators' rates are taken as fixed, not as caused by
  their dates. Wave dates are fixed, so assignments differ only in which creators share a date:
  the test uses that variation alone, which is why its interval is much wider than the
  difference in differences' (measured in benchmarks/lift_coverage.py).
- Everything in the statistic is linear in τ or quadratic under the root, so each assignment's
  statistic at any τ costs a few multiplications: the interval's ends are found by bisection.
- With few creators or waves there are few distinct assignments (or many give the same
  exposure), and the smallest p-value the test can reach may exceed 2.5 %: then no 95 %
  interval exists, and the result says so (`possible` is False) instead of reporting one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]
EXHAUSTIVE_LIMIT = 5_000
DRAWS = 1_999
TAIL = 0.025  # each tail of a two-sided 95 % interval
SEARCH_STEPS = 60
MIN_STEP = 1e-3
REACH = 1e5  # search out to this many rough standard errors; beyond: unbounded


@dataclass(frozen=True)
class Inversion:
    estimate: float  # where the observed statistic sits mid-distribution (Hodges-Lehmann)
    low: float  # -inf / +inf when the data cannot bound that end
    high: float
    assignments: int  # compared, the actual one included
    exhaustive: bool
    smallest_p: float  # the smallest one-sided p-value any τ can give

    @property
    def possible(self) -> bool:
        """Whether the design can reject anything at 2.5 % per tail."""
        return self.smallest_p <= TAIL


def distinct_assignments(wave_sizes: Sequence[int]) -> int:
    """How many ways the creators can be dealt into waves of these sizes (a multinomial)."""
    total, remaining = 1, sum(wave_sizes)
    for size in wave_sizes:
        total *= math.comb(remaining, size)
        remaining -= size
    return total


def _partitions(pool: tuple[int, ...], sizes: Sequence[int]) -> Iterator[list[tuple[int, ...]]]:
    if not sizes:
        yield []
        return
    for chosen in combinations(pool, sizes[0]):
        rest = tuple(index for index in pool if index not in chosen)
        for tail in _partitions(rest, sizes[1:]):
            yield [chosen, *tail]


def assignments(actual: Sequence[int], seed: int) -> tuple[Labels, bool]:
    """Row 0 the actual wave per creator, then every possible assignment (exhaustive, True) or
    DRAWS seeded re-draws (False)."""
    labels = np.asarray(actual, dtype=np.int64)
    waves = int(labels.max()) + 1 if labels.size else 0
    sizes = [int(np.count_nonzero(labels == wave)) for wave in range(waves)]
    if distinct_assignments(sizes) <= EXHAUSTIVE_LIMIT:
        rows = [labels]
        for groups in _partitions(tuple(range(labels.size)), sizes):
            row = np.empty(labels.size, dtype=np.int64)
            for wave, members in enumerate(groups):
                row[list(members)] = wave
            if not np.array_equal(row, labels):
                rows.append(row)
        return np.vstack(rows), True
    rng = np.random.default_rng(seed)
    drawn = [labels, *(rng.permutation(labels) for _ in range(DRAWS))]
    return np.vstack(drawn), False


@dataclass(frozen=True)
class _Parts:
    """Per assignment: t(τ) = (n_y - τ n_a) / sqrt(max(robust(τ), classical(τ))), each variance
    a quadratic c0 - 2τ c1 + τ² c2."""

    n_y: Vector
    n_a: Vector
    robust: tuple[Vector, Vector, Vector]
    classical: tuple[Vector, Vector, Vector]

    def statistic(self, tau: float) -> Vector:
        robust = self.robust[0] - 2 * tau * self.robust[1] + tau * tau * self.robust[2]
        classical = self.classical[0] - 2 * tau * self.classical[1] + tau * tau * self.classical[2]
        spread = np.sqrt(np.maximum(np.maximum(robust, classical), 1e-300))
        result: Vector = (self.n_y - tau * self.n_a) / spread
        return result


def _parts(exposed: Vector, outcome: Vector, attributed: Vector, lags: int) -> _Parts:
    energy = np.maximum(np.einsum("at,at->a", exposed, exposed), 1e-300)
    n_y, n_a = exposed @ outcome, exposed @ attributed
    # Residuals of Y - τA on each exposure: p - τ q.
    p = outcome[None, :] - (n_y / energy)[:, None] * exposed
    q = attributed[None, :] - (n_a / energy)[:, None] * exposed
    u, v = exposed * p, exposed * q

    def newey_west(x: Vector, z: Vector) -> Vector:
        total: Vector = np.einsum("at,at->a", x, z)
        for lag in range(1, lags + 1):
            weight = 1 - lag / (lags + 1)
            total = total + weight * (
                np.einsum("at,at->a", x[:, lag:], z[:, :-lag])
                + np.einsum("at,at->a", z[:, lag:], x[:, :-lag])
            )
        return total

    def inner(x: Vector, z: Vector) -> Vector:
        result: Vector = np.einsum("at,at->a", x, z) * energy
        return result

    return _Parts(
        n_y=n_y,
        n_a=n_a,
        robust=(newey_west(u, u), newey_west(u, v), newey_west(v, v)),
        classical=(inner(p, p), inner(p, q), inner(q, q)),
    )


def _tails(statistics: Vector) -> tuple[float, float]:
    """One-sided p-values of row 0 among all rows (ties count as at least as extreme)."""
    observed = statistics[0]
    tolerance = 1e-9 * max(abs(float(observed)), 1.0)
    total = statistics.size
    upper = np.count_nonzero(statistics >= observed - tolerance) / total
    lower = np.count_nonzero(statistics <= observed + tolerance) / total
    return float(upper), float(lower)


def p_values(
    exposed: Vector, outcome: Vector, attributed: Vector, lags: int, tau: float
) -> tuple[float, float]:
    """The one-sided p-values (upper, lower) of the sharp null "incremental share = tau"."""
    return _tails(_parts(exposed, outcome, attributed, lags).statistic(tau))


def invert(
    exposed: Vector,
    outcome: Vector,
    attributed: Vector,
    lags: int,
    *,
    exhaustive: bool,
    guess: float,
    scale: float,
) -> Inversion:
    """`exposed`: residual design exposure per assignment (row 0 the actual one); `outcome`,
    `attributed`: residual Y and A. `guess` and `scale` (an estimate and its rough standard
    error) only place the search; the interval does not depend on them beyond rounding."""
    rows = exposed.shape[0]
    parts = _parts(exposed, outcome, attributed, lags)
    same = np.all(np.isclose(exposed, exposed[0], rtol=1e-9, atol=1e-12), axis=1)
    smallest = float(np.count_nonzero(same)) / rows
    if smallest > TAIL or float(exposed[0] @ exposed[0]) <= 1e-18:
        return Inversion(math.nan, -math.inf, math.inf, rows, exhaustive, smallest)

    def kept(tau: float) -> bool:
        return min(_tails(parts.statistic(tau))) > TAIL

    # θ is a share of attributed sales: a step under 0.1 % of one would only search noise.
    step = max(scale, MIN_STEP) if math.isfinite(scale) else 1.0
    centre = guess if math.isfinite(guess) else 0.0
    estimate = _median_point(parts, centre - REACH * step, centre + REACH * step)
    # The kept set need not be one piece: scan a grid from far left to far right (through the
    # estimate, which is kept whenever anything is), then refine its outermost kept points.
    multiples = np.geomspace(0.01, REACH, 200)
    offsets = np.concatenate([-multiples[::-1], [0.0], multiples])
    grid = sorted(
        {*(centre + offsets * step).tolist(), estimate if math.isfinite(estimate) else centre}
    )
    flags = [kept(tau) for tau in grid]
    if not any(flags):
        return Inversion(estimate, math.nan, math.nan, rows, exhaustive, smallest)
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    low = -math.inf if first == 0 else _crossing(kept, grid[first], grid[first - 1])
    high = math.inf if last == len(grid) - 1 else _crossing(kept, grid[last], grid[last + 1])
    return Inversion(estimate, low, high, rows, exhaustive, smallest)


def _crossing(kept: Callable[[float], bool], inside: float, outside: float) -> float:
    """Bisect between a kept τ and a rejected one; the kept side is returned."""
    for _ in range(SEARCH_STEPS):
        middle = (inside + outside) / 2
        if kept(middle):
            inside = middle
        else:
            outside = middle
    return inside


def _median_point(parts: _Parts, left: float, right: float) -> float:
    """τ where the observed statistic is mid-distribution: the upper-tail count rises with τ."""

    def balance(tau: float) -> float:
        upper, lower = _tails(parts.statistic(tau))
        return upper - lower

    if balance(left) > 0 or balance(right) < 0:
        return math.nan
    for _ in range(SEARCH_STEPS):
        middle = (left + right) / 2
        if balance(middle) < 0:
            left = middle
        else:
            right = middle
    return (left + right) / 2
