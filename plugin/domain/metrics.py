"""Pure metric formulas over aggregates the database already summed.

Conventions shared by every metric Tastemaker reports:
- money is integer minor units of the shop currency; a money quotient (AOV, CAC, per-day revenue)
  is rounded half to even, like every other money division (plugin.domain.money);
- a rate (conversion, ROI, change, share) is an integer number of basis points (1 bps = 0.01 %,
  10_000 = 100 %), also rounded half to even, so JSON carries exact integers;
- a quotient whose denominator is zero is None (JSON null), never 0 and never infinity: "no new
  customers" must not read as "free customers".
"""

from __future__ import annotations

from fractions import Fraction

from plugin.domain.money import round_half_even

BPS = 10_000


def ratio_bps(numerator: int, denominator: int) -> int | None:
    """numerator ÷ denominator in basis points; None when the denominator is zero."""
    if denominator == 0:
        return None
    return round_half_even(Fraction(numerator * BPS, denominator))


def per_unit_minor(amount_minor: int, count: int) -> int | None:
    """A money amount shared over `count` things (orders, customers, days); None for zero."""
    if count == 0:
        return None
    return round_half_even(Fraction(amount_minor, count))


def conversion_rate_bps(orders: int, unique_visitors: int) -> int | None:
    """Attributed orders per unique visitor; may pass 100 % when codes convert without clicks."""
    return ratio_bps(orders, unique_visitors)


def average_order_value_minor(revenue_minor: int, orders: int) -> int | None:
    return per_unit_minor(revenue_minor, orders)


def spend_minor(
    *, commission: int, flat_fee: int, bonus: int, reversal: int, adjustment: int
) -> int:
    """What the creator cost: commissions + flat fees + bonuses - reversals ± adjustments.

    Reversals are subtracted by magnitude, so the ledger may store them as positive or negative
    amounts; adjustments keep their sign (a manual correction can go either way).
    """
    return commission + flat_fee + bonus - abs(reversal) + adjustment


def customer_acquisition_cost_minor(spend: int, new_customers: int) -> int | None:
    """Spend ÷ new customers attributed; None when no new customer was attributed."""
    return per_unit_minor(spend, new_customers)


def return_on_investment_bps(revenue_minor: int, spend: int) -> int | None:
    """(revenue - spend) ÷ spend; None when nothing was spent (or the ledger nets to a credit)."""
    if spend <= 0:
        return None
    return ratio_bps(revenue_minor - spend, spend)


def change_bps(current: int, baseline: int) -> int | None:
    """Relative change from baseline to current; None when the baseline is zero."""
    return ratio_bps(current - baseline, baseline)


def per_day(amount: int, days: int) -> int | None:
    return per_unit_minor(amount, days)
