"""How long the staggered launch's estimator takes, the call a result page makes twice (orders
and revenue): simulated stores of 5 to 20 creators in 3 or 4 waves, median and worst time of
`staggered_share` per store size, with how many schedules the randomization test compared
(the actual one and 1,999 seeded re-draws). Goal: a page under a second."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date

import numpy as np

from plugin.demo.lift_store import simulate_sales
from plugin.domain.lift_schedule import assign
from plugin.domain.lift_staggered import StaggeredInput, staggered_share

SIZES = ((5, 4), (8, 3), (8, 4), (12, 4), (20, 3), (20, 4))
GOAL_SECONDS = 0.5  # per call; the page makes two


def store(rng: np.random.Generator, creators: int, waves: int) -> StaggeredInput:
    ids = list(range(1, creators + 1))
    schedule = assign(ids, waves, 7 * waves, int(rng.integers(1 << 40)))
    days = 28 + 7 * waves
    go_live = {creator: 28 + schedule[creator][1] for creator in ids}
    sales, _ = simulate_sales(rng, date(2026, 3, 2), days, go_live, 0.5)
    return StaggeredInput(
        outcome=[float(day.promoted + sum(day.attributed.values())) for day in sales],
        attributed=[[float(day.attributed.get(c, 0)) for day in sales] for c in ids],
        go_live=[schedule[c][1] for c in ids],
        launch_day=28,
        waves=waves,
        span_days=7 * waves,
        weekday=[day % 7 for day in range(days)],
        control=[float(day.control) for day in sales],
        seed=int(rng.integers(1 << 40)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10, help="simulated stores per size")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    worst = 0.0
    for creators, waves in SIZES:
        seconds, compared = [], 0
        for _ in range(args.stores):
            data = store(rng, creators, waves)
            started = time.perf_counter()
            estimate = staggered_share(data)
            seconds.append(time.perf_counter() - started)
            compared = estimate.schedules
        worst = max(worst, statistics.median(seconds))
        print(
            f"{creators:>2} creators, {waves} waves: {compared:>5} schedules, "
            f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
        )
    print("goal met" if worst <= GOAL_SECONDS else "GOAL MISSED (a median above the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
