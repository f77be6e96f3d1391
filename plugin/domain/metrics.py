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


def conversion_rate_bps(click_orders: int, clicks: int) -> int | None:
    """Orders that came through a referral link per click. Code-only orders are not in the
    numerator (they never needed a click), so a creator whose sales are all code sales does not
    show a conversion of several hundred percent."""
    return ratio_bps(click_orders, clicks)


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
    """Spend ÷ new customers attributed; None when no new customer was attributed, or when
    spend is zero or a net credit (a CAC of 0 or below would read as free customers)."""
    if spend <= 0:
        return None
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


# Why a quotient is shown as a dash (None): keyed by the metric's field name.
NO_CLICKS = "no clicks in the period"
NO_ORDERS = "no attributed orders in the period"
NO_NEW_CUSTOMERS = "no new customers attributed in the period"
NO_SPEND = "no spend in the period"
NET_CREDIT = (
    "spend is a net credit (adjustments and reversals exceed the costs), so a cost per customer "
    "or a return on it would not be meaningful"
)


def undefined_reasons(
    *, clicks: int, orders: int, new_customers: int, spend: int
) -> dict[str, str]:
    """For each quotient that is None, the plain reason; empty when every one is defined."""
    reasons: dict[str, str] = {}
    if clicks == 0:
        reasons["conversion_rate_bps"] = NO_CLICKS
    if orders == 0:
        reasons["average_order_value_minor"] = NO_ORDERS
    spend_reason = NO_SPEND if spend == 0 else NET_CREDIT if spend < 0 else None
    if spend_reason:
        reasons["roi_bps"] = spend_reason
        reasons["cac_minor"] = spend_reason
    elif new_customers == 0:
        reasons["cac_minor"] = NO_NEW_CUSTOMERS
    return reasons


SPEND_DEFINITION = (
    "What the creator program cost in the period, from the commission ledger: commissions + "
    "flat fees (agreement installments as they fall due) + bonuses (tiers and referral sprints) "
    "- reversals (commission given back on refunds and cancellations) + manual adjustments "
    "(either sign, listed apart). An entry about an order counts on the day the order was "
    "placed, so a later refund lowers that day's spend; any other entry counts on the day it "
    "was posted. Shipping, tax and discounts given to shoppers are not spend."
)

# Every metric the API and the pages show, in plain language (served at
# /api/v1/metrics/definitions so each page can show it next to the number).
METRIC_DEFINITIONS: dict[str, str] = {
    "period": "Whole days in the shop's timezone, from the first day to the day before the end.",
    "clicks": "Visits through a creator's referral links (bots, link previews and HEAD "
    "requests are not counted).",
    "unique_visitors": "Different visitors (a keyed hash of IP address and browser, neither "
    "stored) among those clicks. An estimate (HyperLogLog): exact for small numbers, within "
    "2 % for large ones.",
    "orders": "Paid orders in the period credited to a creator, by code, link or click; "
    "cancelled, pending and test orders are not counted; the creator's own orders are apart.",
    "click_orders": "Orders credited through a referral link (a tracked click or the link in "
    "the landing page address).",
    "code_orders": "Orders credited through a creator's discount code alone, without a link.",
    "self_referral_orders": "The creator's own orders; they earn nothing and are left out of "
    "every other figure.",
    "conversion_rate_bps": "Orders from clicks divided by clicks. Code orders are not "
    "included, as they did not come from a click.",
    "gross_revenue_minor": "Item revenue of those orders after discounts, without tax and "
    "shipping.",
    "refunded_minor": "Item revenue refunded on those orders, whenever the refund happened.",
    "revenue_minor": "Gross revenue minus refunds.",
    "average_order_value_minor": "Revenue divided by orders.",
    "spend_minor": SPEND_DEFINITION,
    "commission_minor": "Commission earned on paid orders (rate x item revenue).",
    "flat_fee_minor": "Fixed fees of agreements, booked in the ledger as each installment "
    "falls due.",
    "bonus_minor": "Bonus-tier extras and referral-sprint rewards.",
    "reversal_minor": "Commission given back because an order was refunded or cancelled; "
    "subtracted from spend.",
    "adjustment_minor": "Manual corrections by the merchant, added with their sign.",
    "new_customers": "Orders marked by the store as the customer's first.",
    "cac_minor": "Customer acquisition cost: spend divided by new customers. Shown as a dash "
    "when there are no new customers or spend is zero or a net credit.",
    "roi_bps": "Return on investment: (revenue - spend) divided by spend. Shown as a dash when "
    "spend is zero or a net credit.",
    "ltv": "For customers whose first creator-credited order was in the period: how many "
    "bought again and what they spent since, whoever is credited.",
    "all_orders": "Every paid order of the shop in the period, credited or not.",
    "attributed_revenue_share_bps": "Creator-credited revenue as a share of all revenue.",
}
