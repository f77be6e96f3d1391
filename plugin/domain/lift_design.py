"""Lift-test designs: what each one is, its randomization, and sample-size guidance before launch.

Randomization is reproducible: a test draws its seed once (recorded on the test) and the wave
assignment is a pure function of that seed and the sorted creator ids, so anyone can re-derive
it; the service stores the result at launch and never changes it afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from plugin.domain.lift_estimators import controls, residualize
from plugin.domain.lift_randomization import TAIL, distinct_assignments

DESIGNS = ("staggered", "holdout", "observational")
RANDOMIZED = frozenset({"staggered", "holdout"})
Z_TWO_SIDED_95 = 1.959964
Z_POWER_80 = 0.841621
BPS = 10_000


@dataclass(frozen=True)
class DesignText:
    title: str
    how: str
    assumptions: tuple[str, ...]
    caveat: str | None = None


EXPLANATIONS: dict[str, DesignText] = {
    "staggered": DesignText(
        title="Staggered launch (randomized)",
        how=(
            "Creators go live in waves a few days apart, and a fair lottery decides who goes in "
            "which wave. Each creator's codes and links stay off until their wave's date, and "
            "they see that date. Sales of the promoted products on days with more creators live "
            "are compared with days before the later waves started, against the rest of the "
            "store, which tells how many of the creators' attributed orders are extra."
        ),
        assumptions=(
            "Without the campaign, the promoted products would have moved with the rest of the "
            "store (or with their usual weekday pattern when the whole store is promoted).",
            "A creator's sales do not depend on who else is live (no spill-over between "
            "creators' audiences beyond the campaign as a whole).",
            "Every creator's orders are about equally incremental; per-creator figures share the "
            "campaign's incremental rate in proportion to each creator's attributed sales.",
        ),
    ),
    "holdout": DesignText(
        title="Link holdout (randomized)",
        how=(
            "A fixed share of the people who follow a creator's link land on the same page "
            "without the creator's discount applied. Who is held out is decided by a fair, "
            "repeatable draw on each visitor, so the same visitor always gets the same page. "
            "Comparing how often both groups buy shows what the discount adds, among people "
            "this creator sent. Creators keep their commission on every order, held out or not."
        ),
        assumptions=(
            "A visitor is recognised by network address and browser; the same person on another "
            "device may land in the other group, which makes the difference look smaller.",
            "It measures the discount's effect on visitors the creator sent, not the effect of "
            "the creator's content itself.",
            "The holdout is disclosed in the campaign terms shown to creators.",
        ),
    ),
    "observational": DesignText(
        title="Observational baseline (not randomized)",
        how=(
            "The shop's own history before launch, and the products the campaign does not "
            "promote, predict what the promoted products would have sold; the campaign's lift "
            "is what sold beyond that prediction."
        ),
        assumptions=(
            "The relation between promoted and other products before launch would have held "
            "after launch without the campaign.",
            "Nothing else changed at launch (a price change, a sale, a stock-out, a press "
            "mention): the method cannot tell those apart from the creators.",
        ),
        caveat=(
            "Not randomized: this is an estimate from history, not an experiment. Treat it as a "
            "lead to test with a randomized design, not as proof."
        ),
    ),
}


def assign_waves(creator_ids: Sequence[int], waves: int, seed: int) -> dict[int, int]:
    """creator id -> wave (0-based): a seeded random order dealt round-robin, so wave sizes
    differ by at most one. The same ids and seed always give the same assignment."""
    if waves < 1:
        raise ValueError("waves must be at least 1")
    ordered = sorted(set(creator_ids))
    order = np.random.default_rng(seed).permutation(len(ordered))
    return {ordered[int(index)]: position % waves for position, index in enumerate(order)}


def wave_starts(launch: datetime, waves: int, wave_days: int) -> list[datetime]:
    return [launch + timedelta(days=wave * wave_days) for wave in range(waves)]


# --- sample-size guidance ---------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """The shop's recent daily sales of the outcome (promoted products, or the store)."""

    daily: tuple[float, ...]
    weekday: tuple[int, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.daily)) if self.daily else 0.0

    def noise_sd(self) -> float:
        """Day-to-day spread once the weekday pattern is removed (Poisson when too short)."""
        if len(self.daily) < 14:
            return math.sqrt(max(self.mean, 1.0))
        values = np.asarray(self.daily, dtype=np.float64)
        matrix = controls(self.weekday)
        residual = residualize(matrix, values)
        return float(math.sqrt(residual @ residual / max(values.size - matrix.shape[1], 1)))


@dataclass(frozen=True)
class Guidance:
    detectable_lift: float | None  # smallest lift found 80 % of the time, share of baseline
    sentence: str
    enough: bool


def staggered_guidance(history: History, creators: int, waves: int, wave_days: int) -> Guidance:
    """Smallest lift (share of the promoted products' daily sales, with every creator live) that
    the difference in differences detects with 80 % power at 5 %, for this schedule."""
    pre = len(history.daily)
    if creators < 2 or waves < 2:
        return Guidance(None, "A staggered launch needs at least 2 creators and 2 waves.", False)
    sizes = [creators // waves + (1 if wave < creators % waves else 0) for wave in range(waves)]
    schedules = distinct_assignments(sizes)
    days = pre + waves * wave_days
    live = np.zeros(days)
    for wave, size in enumerate(sizes):
        live[pre + wave * wave_days :] += size / creators
    weekday = [
        (history.weekday[0] + day) % 7 if history.weekday else day % 7 for day in range(days)
    ]
    spread = residualize(controls(weekday), live)
    energy = float(spread @ spread)
    mean = history.mean
    if mean <= 0 or energy <= 0:
        return Guidance(None, "No sales history yet: the app cannot size this test.", False)
    effect = (Z_TWO_SIDED_95 + Z_POWER_80) * history.noise_sd() / math.sqrt(energy)
    lift = effect / mean
    enough = lift <= 0.5 and creators >= 4
    sentence = (
        f"With {creators} creators in {waves} waves of {wave_days} days and about "
        f"{mean:.0f} orders a day of these products, the headline (difference in differences) "
        f"can detect a lift of about {lift:.0%} (about {effect:.1f} extra orders a day with "
        "every creator live). "
    )
    if 1 / schedules > TAIL:
        sentence += (
            f"The lottery has only {schedules} possible schedules: too few for the design-based "
            f"check's own 95 % interval (it needs at least {math.ceil(1 / TAIL)}). "
        )
    sentence += (
        "The design-based check beside it only uses which creators share a date, so it needs "
        "a lift several times larger; more creators and waves make it bind."
    )
    if creators < 4:
        sentence += " Fewer than 4 creators: per-wave comparisons will be very noisy."
    return Guidance(lift, sentence, enough)


def holdout_guidance(
    visitors_per_day: float, conversion: float, share_bps: int, days: int
) -> Guidance:
    """Smallest difference in conversion (percentage points) detected 80 % of the time."""
    share = share_bps / BPS
    visitors = visitors_per_day * days
    if visitors <= 0 or not 0 < share < 1:
        return Guidance(None, "No link visits yet: the app cannot size this test.", False)
    rate = min(max(conversion, 0.005), 0.5)
    se = math.sqrt(rate * (1 - rate) * (1 / (visitors * (1 - share)) + 1 / (visitors * share)))
    difference = (Z_TWO_SIDED_95 + Z_POWER_80) * se
    relative = difference / rate
    sentence = (
        f"With about {visitors:.0f} link visitors over {days} days, {share:.0%} held out and a "
        f"{rate:.1%} conversion rate, you can detect a difference of about "
        f"{difference * 100:.1f} percentage points ({relative:.0%} of the rate)."
    )
    return Guidance(relative, sentence, relative <= 1.0 and visitors * share >= 100)


def observational_guidance(history: History, days_after: int) -> Guidance:
    pre = len(history.daily)
    mean = history.mean
    if pre < 14 or mean <= 0:
        return Guidance(None, "Less than 2 weeks of history: no baseline to compare with.", False)
    effect = (
        (Z_TWO_SIDED_95 + Z_POWER_80) * history.noise_sd() * math.sqrt(1 / days_after + 1 / pre)
    )
    lift = effect / mean
    sentence = (
        f"With {pre} days of history and {days_after} days after launch, a lift of about "
        f"{lift:.0%} would stand out from day-to-day noise, if nothing else changed at launch."
    )
    return Guidance(lift, sentence, lift <= 0.5)
