"""Lift-test designs: what each one is, and sample-size guidance before launch.

Randomization is reproducible: a test draws its seed once (recorded on the test) and the
staggered launch's schedule (lift_schedule.py) is a pure function of that seed and the sorted
creator ids, so anyone can re-derive it; the service stores it at launch and never changes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from plugin.domain.lift_estimators import controls, residualize
from plugin.domain.lift_randomization import TAIL
from plugin.domain.lift_schedule import Rollout, draw_many, live_probability, possible_schedules

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
            "Creators go live in waves, and a fair, recorded lottery decides both who goes in "
            "which wave and each wave's date, anywhere in the rollout. Each creator's codes and "
            "links stay off until their wave's date, and they see that date. Because no one "
            "chose the dates, sales of the promoted products can be compared with what they "
            "would have been under the many other schedules the lottery could have drawn: if "
            "sales rose with the actual schedule more than with those, the creators' orders "
            "were extra. The range comes from that comparison alone, with no model of your "
            "sales."
        ),
        assumptions=(
            "The schedule was drawn at random, as recorded, and kept: nothing else about the "
            "sales is assumed for the headline range. The second, narrower figure (a difference "
            "in differences) also assumes the promoted products would have moved with the rest "
            "of the store (or their usual weekday pattern) without the campaign.",
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


GUIDANCE_DRAWS = 400


def staggered_guidance(history: History, creators: int, waves: int, wave_days: int) -> Guidance:
    """Smallest lift (share of the promoted products' daily sales, with every creator live)
    found 80 % of the time at 5 %, by the headline (randomization inference: only the variation
    in creators live that the random schedule creates counts) and by the model-based difference
    in differences (also before against after launch). Creators are taken as selling equally;
    uneven creators spread the schedules more, so this errs on the safe side for the headline."""
    if creators < 2 or waves < 2:
        return Guidance(None, "A staggered launch needs at least 2 creators and 2 waves.", False)
    mean = history.mean
    if mean <= 0:
        return Guidance(None, "No sales history yet: the app cannot size this test.", False)
    pre, span = len(history.daily), waves * wave_days
    rollout = Rollout(creators, waves, span)
    days = pre + span
    first = history.weekday[0] if history.weekday else 0
    nuisance = controls([(first + day) % 7 for day in range(days)])
    since_launch = np.arange(days, dtype=np.float64) - pre
    expected = live_probability(rollout, since_launch)
    # Design-based: the spread, across the design's own draws, of the share of creators live.
    drawn = draw_many(rollout, np.random.default_rng(0), GUIDANCE_DRAWS)
    live = (since_launch[None, None, :] >= drawn[:, :, None]).mean(axis=1)
    spread = residualize(np.column_stack([nuisance, expected]), live)
    design_energy = float(np.einsum("at,at->", spread, spread)) / GUIDANCE_DRAWS
    model = residualize(nuisance, live)
    model_energy = float(np.einsum("at,at->", model, model)) / GUIDANCE_DRAWS
    if design_energy <= 0 or model_energy <= 0:
        return Guidance(None, "This schedule leaves nothing to compare.", False)
    noise = (Z_TWO_SIDED_95 + Z_POWER_80) * history.noise_sd()
    effect = noise / math.sqrt(design_energy)
    lift = effect / mean
    model_lift = noise / math.sqrt(model_energy) / mean
    schedules = possible_schedules(rollout)
    enough = lift <= 0.5 and creators >= 4 and 1 / schedules <= TAIL
    sentence = (
        f"With {creators} creators in {waves} waves over {span} days and about {mean:.0f} "
        f"orders a day of these products, the headline (from the lottery alone) can detect a "
        f"lift of about {lift:.0%} (about {effect:.1f} extra orders a day with every creator "
        f"live); the model-based figure beside it, about {model_lift:.0%}. "
    )
    if 1 / schedules > TAIL:
        sentence += (
            f"The lottery has only {schedules} possible schedules: too few for a 95 % interval "
            f"(it needs at least {math.ceil(1 / TAIL)}). "
        )
    sentence += "A longer rollout (more days per wave) makes the headline sharper."
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
