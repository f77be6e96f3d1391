"""The lift benchmark's stores by the thousand, without the database: staggered bias, holdout rates.

The headline's point estimate spreads about 100 incremental orders per simulated store, so the
mean error of `benchmarks.lift_coverage` (600 stores, about 10 minutes through the database)
has a standard error of about 4 orders, and two samples of 600 can differ by 3 of them. This
draws the same stores as `lift_coverage.staggered_run` (same generator, same order of draws:
store `run` here is store `run` there, checked: the first 600 give the same bias, +12.39 ±
4.18), builds the daily series the lift service would read, and calls the domain estimator
directly, so a few thousand stores take minutes. Printed: bias ± its standard error for the
headline (randomization inference) and the model-based figure, in incremental orders and in
share units, and the headline's coverage and false positives.

`--design holdout` does the same for `lift_coverage.holdout_run` (its stores' visitors, arms from
the same hash as the redirect, Newcombe's interval on the counts): coverage and false positives
over more stores than the database run can afford, to tell a miss from sampling error.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date

import numpy as np

from plugin.demo.lift_store import PRICES, simulate_sales
from plugin.domain.lift_estimators import ArmCounts, conversion_difference
from plugin.domain.lift_holdout import holdout_salt, in_holdout
from plugin.domain.lift_schedule import assign
from plugin.domain.lift_staggered import StaggeredInput, staggered_share

EFFECTS = (0.5, 1.0, 0.25)  # lift_coverage.DESIGNS["staggered"]; every other store: zero
HOLDOUT_EFFECTS = (0.3, 0.6, 0.15)  # lift_coverage.DESIGNS["holdout"]
TEST_ID = 1  # lift_coverage's test in its fresh database (each store is rolled back)
FIRST = date(2026, 2, 2)  # 28 days before lift_coverage.LAUNCH, a Monday


def store(run: int) -> tuple[float, int, tuple[float, float, float, float]]:
    """(true share, attributed orders, (headline, its low end, its high end, model-based))."""
    effect = 0.0 if run % 2 == 0 else EFFECTS[(run // 2) % len(EFFECTS)]
    rng = np.random.default_rng(10_000 + run)
    waves = int(rng.choice([3, 4]))
    creators = list(range(1, int(rng.integers(8, 21)) + 1))
    seed = int(rng.integers(1 << 48))
    schedule = assign(creators, waves, waves * 7, seed)
    # lift.assignments lists creators by (wave, id): the simulation draws them in that order
    ordered = sorted(creators, key=lambda creator: (schedule[creator][0], creator))
    days = 28 + waves * 7
    go_live = {creator: 28 + schedule[creator][1] for creator in ordered}
    sales, truth = simulate_sales(rng, FIRST, days, go_live, effect)
    estimate = staggered_share(
        StaggeredInput(
            outcome=[float(day.promoted + sum(day.attributed.values())) for day in sales],
            attributed=[[float(day.attributed.get(c, 0)) for day in sales] for c in creators],
            go_live=[schedule[creator][1] for creator in creators],
            launch_day=28,
            waves=waves,
            span_days=waves * 7,
            weekday=[index % 7 for index in range(days)],
            control=[float(day.control) for day in sales],
            seed=seed,
        )
    )
    share = estimate.share
    figures = (share.estimate, share.low, share.high, estimate.model_based.estimate)
    return effect, truth.attributed_orders, figures


def holdout_store(run: int) -> tuple[bool, bool, bool]:
    """(no lift, the interval covers the true difference, it excludes zero) for
    lift_coverage.holdout_run's store `run`: the same draws, in the same order."""
    effect = 0.0 if run % 2 == 0 else HOLDOUT_EFFECTS[(run // 2) % len(HOLDOUT_EFFECTS)]
    rng = np.random.default_rng(20_000 + run)
    creators = int(rng.integers(2, 7))
    share = int(rng.choice([1000, 2000]))
    salt = holdout_salt(TEST_ID, int(rng.integers(1 << 48)))
    base = float(rng.uniform(0.02, 0.06))
    rates = (base * (1 + effect), base)  # treated, held out
    visitors, converted = [0, 0], [0, 0]
    for _ in range(int(rng.integers(2000, 6000))):  # lift_store.write_link_visits' draws
        visitor = rng.bytes(32).hex()
        rng.integers(creators)
        rng.uniform(0, 28 * 86_400)
        arm = int(in_holdout(salt, visitor, share))
        visitors[arm] += 1
        if rng.random() < rates[arm]:
            converted[arm] += 1
            rng.choice(PRICES)
    difference = conversion_difference(
        ArmCounts(visitors[0], converted[0]), ArmCounts(visitors[1], converted[1])
    )
    return effect == 0, difference.covers(rates[0] - rates[1]), difference.excludes_zero()


def holdout(start: int, runs: int) -> None:
    rows = [holdout_store(run) for run in range(start, start + runs)]
    coverage = statistics.fmean(covered for _, covered, _ in rows)
    zero = [excludes for no_lift, _, excludes in rows if no_lift]
    print(
        f"holdout over stores {start}-{start + runs - 1}: coverage {coverage:.3f}, false "
        f"positives {statistics.fmean(zero):.3f} ({len(zero)} stores with no lift)"
    )


def mean_and_error(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) / len(values) ** 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=0, help="first store (lift_coverage's run)")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--design", choices=["staggered", "holdout"], default="staggered")
    args = parser.parse_args(argv)
    if args.design == "holdout":
        holdout(args.start, args.runs)
        return 0
    rows = [store(run) for run in range(args.start, args.start + args.runs)]
    scale = statistics.fmean(effect * count for effect, count, _ in rows if effect > 0)
    for label, column in (("headline", 0), ("model-based", 3)):
        orders = [(f[column] - effect) * count for effect, count, f in rows]
        shares = [f[column] - effect for effect, _, f in rows]
        bias, error = mean_and_error(orders)
        share_bias, share_error = mean_and_error(shares)
        print(
            f"bias staggered {label}: {bias:+.2f} ± {error:.2f} orders ({bias / scale:+.1%} ± "
            f"{error / scale:.1%} of the mean true lift), "
            f"share {share_bias:+.3f} ± {share_error:.3f}"
        )
    covered = [f[1] <= effect <= f[2] for effect, _, f in rows]
    zero = [f[1] > 0 or f[2] < 0 for effect, _, f in rows if effect == 0]
    print(
        f"headline over stores {args.start}-{args.start + args.runs - 1}: coverage "
        f"{statistics.fmean(covered):.3f}, false positives {statistics.fmean(zero):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
