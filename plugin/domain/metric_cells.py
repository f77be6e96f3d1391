"""What one order adds to the daily metric rollups: pure, so the incremental path and the
rebuild compute it with the same code.

An order contributes to the cell (its shop-local day, its creator, its campaign) of the
attribution: counted orders and their revenue (refunds netted whenever they happen, never
more than the order's item revenue), new customers, self-referrals apart; an unattributed paid
order goes to creator 0. Its ledger entries (commission, bonus, reversals) go to the day of the
order too, under the entry's creator and the agreement's campaign (else the attribution's), so
a refund of an old order changes that old day, as it does in the raw query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from plugin.domain.commissions import PAID_STATUSES

NONE = 0
MEASURES = (
    "orders",
    "click_orders",
    "code_orders",
    "self_referral_orders",
    "new_customers",
    "gross_revenue_minor",
    "refunded_minor",
    "self_referral_revenue_minor",
    "commission_minor",
    "flat_fee_minor",
    "bonus_minor",
    "reversal_minor",
    "adjustment_minor",
)
WIDTH = len(MEASURES)
_INDEX = {name: position for position, name in enumerate(MEASURES)}
SPEND_KINDS = ("commission", "flat_fee", "bonus", "reversal", "adjustment")
# Orders that came through a referral link (a recorded click id, or the link in the landing
# URL) are "orders from clicks"; a creator code alone is a code order.
CLICK_METHODS = frozenset({"click", "landing"})
CODE_METHODS = frozenset({"code"})

CellKey = tuple[date, int, int]  # (shop-local day, creator id or 0, campaign id or 0)
Cells = dict[CellKey, tuple[int, ...]]


@dataclass(frozen=True)
class OrderState:
    placed_at: datetime
    status: str
    is_test: bool
    net_item_revenue_minor: int
    is_first_order: bool | None
    refunded_minor: int  # every stored refund of the order, summed
    creator_id: int | None = None
    campaign_id: int | None = None
    self_referral: bool = False
    method: str | None = None


@dataclass(frozen=True)
class LedgerLine:
    creator_id: int
    campaign_id: int | None  # the agreement's campaign, else the attribution's
    kind: str
    amount_minor: int


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def spend_vector(kind: str, amount_minor: int) -> list[int]:
    """A ledger amount as measures: reversals by magnitude, adjustments signed."""
    vector = [0] * WIDTH
    if kind in SPEND_KINDS:
        vector[_INDEX[f"{kind}_minor"]] = abs(amount_minor) if kind == "reversal" else amount_minor
    return vector


def _add(cells: dict[CellKey, list[int]], key: CellKey, vector: Iterable[int]) -> None:
    current = cells.setdefault(key, [0] * WIDTH)
    for position, value in enumerate(vector):
        current[position] += value


def order_cells(order: OrderState, ledger: Iterable[LedgerLine], zone: ZoneInfo) -> Cells:
    day = local_day(order.placed_at, zone)
    cells: dict[CellKey, list[int]] = {}
    if order.status in PAID_STATUSES and not order.is_test:
        refunded = min(order.refunded_minor, order.net_item_revenue_minor)
        vector = [0] * WIDTH
        if order.creator_id is None:
            vector[_INDEX["orders"]] = 1
            vector[_INDEX["gross_revenue_minor"]] = order.net_item_revenue_minor
            vector[_INDEX["refunded_minor"]] = refunded
            _add(cells, (day, NONE, NONE), vector)
        elif order.self_referral:
            vector[_INDEX["self_referral_orders"]] = 1
            vector[_INDEX["self_referral_revenue_minor"]] = order.net_item_revenue_minor - refunded
            _add(cells, (day, order.creator_id, order.campaign_id or NONE), vector)
        else:
            vector[_INDEX["orders"]] = 1
            vector[_INDEX["click_orders"]] = int(order.method in CLICK_METHODS)
            vector[_INDEX["code_orders"]] = int(order.method in CODE_METHODS)
            vector[_INDEX["new_customers"]] = int(order.is_first_order is True)
            vector[_INDEX["gross_revenue_minor"]] = order.net_item_revenue_minor
            vector[_INDEX["refunded_minor"]] = refunded
            _add(cells, (day, order.creator_id, order.campaign_id or NONE), vector)
    for line in ledger:
        key = (day, line.creator_id, line.campaign_id or NONE)
        _add(cells, key, spend_vector(line.kind, line.amount_minor))
    return {key: tuple(vector) for key, vector in cells.items() if any(vector)}


def difference(new: Cells, old: Cells) -> Cells:
    """new - old, per cell, leaving out cells that did not change."""
    changed: Cells = {}
    for key in new.keys() | old.keys():
        after = new.get(key, (0,) * WIDTH)
        before = old.get(key, (0,) * WIDTH)
        delta = tuple(a - b for a, b in zip(after, before, strict=True))
        if any(delta):
            changed[key] = delta
    return changed


def to_json(cells: Cells) -> dict[str, list[list[int | str]]]:
    return {
        "cells": [
            [day.isoformat(), creator, campaign, *vector]
            for (day, creator, campaign), vector in sorted(cells.items())
        ]
    }


def from_json(stored: object) -> Cells:
    if not isinstance(stored, dict):
        return {}
    cells: Cells = {}
    for row in stored.get("cells") or []:
        day, creator, campaign, *vector = row
        cells[(date.fromisoformat(str(day)), int(creator), int(campaign))] = tuple(
            int(value) for value in vector
        )
    return cells


# --- first-creator cohorts (LTV) -------------------------------------------------------------

COHORT_MEASURES = ("customers", "repeat_customers", "repeat_orders", "repeat_revenue_minor")
CohortCell = tuple[CellKey, tuple[int, int, int, int]]


@dataclass(frozen=True)
class CustomerOrder:
    order_id: int
    state: OrderState


def customer_cohort(orders: Iterable[CustomerOrder], zone: ZoneInfo) -> CohortCell | None:
    """The cohort cell one customer adds to: the day, creator and campaign of their first paid
    order credited to a creator (not their own), and what they bought after it (any paid order,
    credited or not, refunds netted); None when no such first order exists."""
    paid = [o for o in orders if o.state.status in PAID_STATUSES and not o.state.is_test]
    credited = [o for o in paid if o.state.creator_id is not None and not o.state.self_referral]
    if not credited:
        return None
    first = min(credited, key=lambda o: (o.state.placed_at, o.order_id))
    later = [o for o in paid if o.state.placed_at > first.state.placed_at]
    revenue = sum(
        o.state.net_item_revenue_minor - min(o.state.refunded_minor, o.state.net_item_revenue_minor)
        for o in later
    )
    key = (
        local_day(first.state.placed_at, zone),
        first.state.creator_id or NONE,
        first.state.campaign_id or NONE,
    )
    return key, (1, int(bool(later)), len(later), revenue)
