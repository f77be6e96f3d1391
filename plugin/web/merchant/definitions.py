"""Short definitions a merchant can open next to each number on the pages.

Kept in the page layer until the metrics work adds its definitions to plugin.domain; the keys
are the measures' names, so the pages can switch to that dict without template changes.
"""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "clicks": "Visits through a creator's referral link. Bots, link previews and repeat "
    "requests are not counted.",
    "visitors": "Different people behind the clicks (counted per day, from a keyed hash; no "
    "IP address is stored).",
    "orders": "Paid orders credited to a creator, by link click or discount code. Test, "
    "cancelled and self-referral orders are left out.",
    "click_orders": "Orders credited to a creator through a click on their link.",
    "code_orders": "Orders credited through a creator's discount code with no click "
    "before them. Counted in orders, not in conversion.",
    "conversion": "Orders from clicks ÷ clicks. Code-only orders are not in it, so it "
    "never exceeds 100%.",
    "revenue": "Item revenue of credited orders after discounts, without tax and shipping, "
    "minus refunds.",
    "spend": "What the program costs: commissions, flat fees and bonuses, minus reversals "
    "of refunded orders. Manual adjustments are shown in the ledger, not in spend.",
    "roi": "(Revenue - spend) ÷ spend. Shown only when something was spent.",
    "cac": "Spend ÷ new customers. Shown only when both are above zero.",
    "available": "Past the hold period and owed: it goes into the next payout batch.",
    "held": "Earned but inside the hold period, so a refund can still reverse it.",
    "in_payout": "In a payout batch that is waiting for approval or for payment.",
    "paid": "Payouts you marked paid, with the payment's reference.",
    "kpi": "The campaign's primary KPI counted from its first day, in the shop's timezone. "
    "The dashed line is the pace that reaches the target on the last day.",
}
