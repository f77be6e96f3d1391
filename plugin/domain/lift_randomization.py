"""The staggered launch's headline 95 % interval, from its randomization alone: a test inversion.

For a hypothesized incremental share τ, the sharp null "the live creators add τ extra sales for
each sale they are expected to bring" makes Y - τ·E (what would have sold without the creators;
E the actual schedule's exposure, see lift_staggered.py) the same whatever schedule the launch
had drawn. The observed statistic is then one draw among the statistics of the schedules
the design could have drawn, so its rank is a p-value that needs no model of the sales; the
interval is every τ this test keeps at 5 % (2.5 % in each tail).

- Schedules: the actual one and DRAWS re-draws by the design's own `lift_schedule.draw` (wave
  lottery and random wave dates), seeded from the test's seed on a separate stream: a Monte
  Carlo randomization test, exact with the actual schedule counted among the draws.
- Statistic: the t-statistic of the regression of Y - τ·E on the schedule's exposure, recentred
  on its expectation under the design (Borusyak & Hull 2023: only the part of the exposure the
  randomization decided is used), after the weekday and the store-wide control, with the larger
  of the classical and the Newey-West variance. Studentizing keeps the test valid, for large
  samples, under the weaker null that only the *average* share is τ (creators differing in how
  incremental they are; Wu & Ding 2021, JASA), which a raw coefficient does not.
- A schedule's exposure puts each creator's observed attributed sales per live day at that
  schedule's go-live day: creators' rates are taken as fixed, not as caused by their dates.
- Everything in the statistic is linear in τ or quadratic under the root, so each schedule's
  statistic at any τ costs a few multiplications: the interval's ends are found by bisection.
- The point estimate is the τ at which the actual schedule's statistic is zero (n_y - τ n_a =
  0: the regression of Y on the actual recentred exposure, per unit of dose), a closed form
  that does not depend on the re-drawn schedules. (The τ at which it sits mid-distribution,
  Hodges-Lehmann, was used before: over 2,400 simulated stores both have the same mean error,
  within 0.2 orders a store.) The root is inside the interval unless 97.5 % of the re-drawn
  statistics share a sign there; then the nearer end is reported (`clamped`).
- With few creators or rollout days many draws repeat the actual exposure, and the smallest
  p-value the test can reach may exceed 2.5 %: then no 95 % interval exists, and the result
  says so (`possible` is False) instead of reporting one. When the sales cannot tell the actual
  schedule from the others an end stays unbounded, and the pages say the data are too thin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from plugin.domain.lift_schedule import Days, Rollout, draw_many

Vector = npt.NDArray[np.float64]
DRAWS = 1_999
TAIL = 0.025  # each tail of a two-sided 95 % interval
SEARCH_STEPS = 60
MIN_STEP = 1e-3
REACH = 1e5  # search out to this many rough standard errors; beyond: unbounded


@dataclass(frozen=True)
class Inversion:
    estimate: float  # where the observed statistic is zero, moved into [low, high] if needed
    low: float  # -inf / +inf when the data cannot bound that end
    high: float
    schedules: int  # compared, the actual one included
    smallest_p: float  # the smallest one-sided p-value any τ can give
    clamped: bool = False  # the root was rejected by the test: the estimate is the nearer end

    @property
    def possible(self) -> bool:
        """Whether the design can reject anything at 2.5 % per tail."""
        return self.smallest_p <= TAIL


RANDOMIZATION_STREAM = 1  # the re-draws' generator: the test's seed and this, never the launch's


def schedules(actual: Sequence[int], rollout: Rollout, seed: int) -> Days:
    """Row 0 the actual go-live day per creator (days after launch), then DRAWS schedules drawn
    by the design's own `draw` from a generator seeded with the test's seed (a separate stream
    from the launch's draw, so the actual schedule is not simply repeated)."""
    first = np.asarray(actual, dtype=np.int64).reshape(1, -1)
    rng = np.random.default_rng([seed, RANDOMIZATION_STREAM])
    result: Days = np.vstack([first, draw_many(rollout, rng, DRAWS)])
    return result


@dataclass(frozen=True)
class _Parts:
    """Per schedule: t(τ) = (n_y - τ n_a) / sqrt(max(robust(τ), classical(τ))), each variance
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


def _parts(exposed: Vector, outcome: Vector, dose: Vector, lags: int) -> _Parts:
    energy = np.maximum(np.einsum("at,at->a", exposed, exposed), 1e-300)
    n_y, n_a = exposed @ outcome, exposed @ dose
    # Residuals of Y - τ·dose on each exposure: p - τ q.
    p = outcome[None, :] - (n_y / energy)[:, None] * exposed
    q = dose[None, :] - (n_a / energy)[:, None] * exposed
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
    exposed: Vector, outcome: Vector, dose: Vector, lags: int, tau: float
) -> tuple[float, float]:
    """The one-sided p-values (upper, lower) of the sharp null "incremental share = tau"."""
    return _tails(_parts(exposed, outcome, dose, lags).statistic(tau))


def invert(
    exposed: Vector,
    outcome: Vector,
    dose: Vector,
    lags: int,
    *,
    guess: float,
    scale: float,
) -> Inversion:
    """`exposed`: residual recentred exposure per schedule (row 0 the actual one); `outcome`:
    residual Y; `dose`: what τ multiplies (residual E of the actual schedule). `guess` and
    `scale` (an estimate and its rough standard error) only place the search; the interval
    does not depend on them beyond rounding."""
    rows = exposed.shape[0]
    parts = _parts(exposed, outcome, dose, lags)
    same = np.all(np.isclose(exposed, exposed[0], rtol=1e-9, atol=1e-12), axis=1)
    smallest = float(np.count_nonzero(same)) / rows
    if smallest > TAIL or float(exposed[0] @ exposed[0]) <= 1e-18:
        return Inversion(math.nan, -math.inf, math.inf, rows, smallest)

    def kept(tau: float) -> bool:
        return min(_tails(parts.statistic(tau))) > TAIL

    # θ is a share of attributed sales: a step under 0.1 % of one would only search noise.
    step = max(scale, MIN_STEP) if math.isfinite(scale) else 1.0
    centre = guess if math.isfinite(guess) else 0.0
    estimate = root(parts)
    # The kept set need not be one piece: scan a grid from far left to far right (through the
    # estimate and the balance point of the two tails, kept whenever anything is), then refine
    # its outermost kept points.
    balance = _median_point(parts, centre - REACH * step, centre + REACH * step)
    multiples = np.geomspace(0.01, REACH, 200)
    offsets = np.concatenate([-multiples[::-1], [0.0], multiples])
    extra = {value for value in (estimate, balance) if math.isfinite(value)}
    grid = sorted({*(centre + offsets * step).tolist(), *extra})
    flags = [kept(tau) for tau in grid]
    if not any(flags):
        return Inversion(estimate, math.nan, math.nan, rows, smallest)
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    low = -math.inf if first == 0 else _crossing(kept, grid[first], grid[first - 1])
    high = math.inf if last == len(grid) - 1 else _crossing(kept, grid[last], grid[last + 1])
    inside = min(max(estimate, low), high) if math.isfinite(estimate) else estimate
    clamped = math.isfinite(estimate) and inside != estimate
    return Inversion(inside, low, high, rows, smallest, clamped=clamped)


def root(parts: _Parts) -> float:
    """τ where the actual schedule's statistic is zero: n_y - τ·n_a = 0 (nan without a dose)."""
    n_y, n_a = float(parts.n_y[0]), float(parts.n_a[0])
    return n_y / n_a if abs(n_a) > 1e-300 else math.nan


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
