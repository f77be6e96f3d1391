"""A simulated store with a known true lift, written as order, attribution and click rows.

Used by benchmarks/lift_coverage.py (hundreds of stores, each analysed by the same service the
pages use) and by the demo's lift test. Baselines, weekly and slower seasonality, noise and
creator reach vary per store; `incremental` is the true share of attributed orders that would
not have happened otherwise (0 = pure cannibalization: the customers would have bought anyway).
Non-incremental attributed orders are taken out of the baseline, as in a real store where a
customer who would have bought anyway uses the creator's code instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from plugin.domain.lift_holdout import holdout_salt, in_holdout
from plugin.models import Attribution, Click, Order

PROMOTED = ("501", "502")
OTHER = "601"
PRICES = np.array([3400, 1200, 2200, 5600])
_order_ids = itertools.count(10_000_000)
_click_ids = itertools.count(1)


@dataclass
class Day:
    promoted: int
    control: int
    attributed: dict[int, int] = field(default_factory=dict)  # creator -> attributed orders


@dataclass
class Truth:
    incremental_orders: float  # realized
    expected_incremental_orders: float
    attributed_orders: int


def seasonality(rng: np.random.Generator, days: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    t = np.arange(days)
    weekly = 0.25 * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi))
    slow = 0.15 * np.sin(2 * np.pi * t / rng.uniform(60, 180) + rng.uniform(0, 2 * np.pi))
    result: np.ndarray[Any, np.dtype[np.float64]] = 1 + weekly + slow
    return result


def simulate_sales(
    rng: np.random.Generator,
    first_day: date,
    days: int,
    go_live: dict[int, int],  # creator -> first live day index
    incremental: float,
    *,
    baseline: float | None = None,
    reach_share: float | None = None,
) -> tuple[list[Day], Truth]:
    """Daily promoted and control orders, and each live creator's attributed orders."""
    season = seasonality(rng, days)
    mean = baseline if baseline is not None else float(rng.uniform(10, 40))
    control_scale = float(rng.uniform(1.5, 3))
    # Creators' combined reach is 10-40 % of the baseline, so the orders they take over from
    # customers who would have bought anyway never exceed the baseline itself.
    weights = {creator: float(rng.gamma(1.5, 1.0)) for creator in go_live}
    share = reach_share if reach_share is not None else float(rng.uniform(0.1, 0.4))
    scale = share * mean / max(sum(weights.values()), 1e-9)
    reach = {creator: weight * scale for creator, weight in weights.items()}
    out: list[Day] = []
    realized = expected = 0.0
    attributed_total = 0
    for index in range(days):
        base = int(rng.poisson(mean * season[index]))
        day = Day(promoted=0, control=int(rng.poisson(mean * control_scale * season[index])))
        for creator, start in go_live.items():
            if index >= start:
                count = int(rng.poisson(reach[creator] * season[index]))
                if count:
                    day.attributed[creator] = count
        attributed = sum(day.attributed.values())
        extra = int(rng.binomial(attributed, min(incremental, 1.0)))
        # Attributed orders that are not extra replace baseline orders (never below zero).
        day.promoted = max(base - (attributed - extra), 0)
        realized += extra
        expected += attributed * min(incremental, 1.0)
        attributed_total += attributed
        out.append(day)
    return out, Truth(realized, expected, attributed_total)


class OrderWriter:
    """Bulk inserts of paid orders (and their attributions) for one shop."""

    def __init__(self, session: Session, shop_id: int, currency: str = "USD") -> None:
        self.session = session
        self.shop_id = shop_id
        self.currency = currency
        self.orders: list[dict[str, Any]] = []
        # per order: creator (0: none), campaign, method, the code that attributed it
        self.attributions: list[tuple[int, int | None, str, str | None]] = []

    def add(
        self,
        placed_at: datetime,
        product: str,
        price: int,
        *,
        creator_id: int | None = None,
        campaign_id: int | None = None,
        click_uid: str | None = None,
        code: str | None = None,
    ) -> None:
        """One paid order; `code`: the creator's discount code it was placed with."""
        number = next(_order_ids)
        self.orders.append(
            {
                "id": number,
                "shop_id": self.shop_id,
                "platform_order_id": number,
                "order_number": f"#{number}",
                "status": "paid",
                "currency": self.currency,
                "presentment_currency": self.currency,
                "subtotal_minor": price,
                "total_minor": price,
                "net_item_revenue_minor": price,
                "presentment_total_minor": price,
                "line_items": [{"product_id": int(product), "quantity": 1, "net_minor": price}],
                "placed_at": placed_at,
                "platform_updated_at": placed_at,
                "paid_at": placed_at,
                "click_uid": click_uid,
                "discount_codes": [code] if code else [],
            }
        )
        method = "click" if click_uid else "code"
        self.attributions.append((creator_id or 0, campaign_id, method, code))

    def flush(self) -> None:
        if not self.orders:
            return
        # Core executemany with ids chosen here: the ORM's bulk insert with RETURNING costs
        # several times more, and the benchmark writes a few hundred thousand orders.
        self.session.execute(insert(Order.__table__), self.orders)
        ids = [row["id"] for row in self.orders]
        rows = [
            {
                "shop_id": self.shop_id,
                "order_id": order_id,
                "creator_id": creator or None,
                "campaign_id": campaign if creator else None,
                "method": method if creator else "none",
                # What the attribution engine records for a code it matched (see the pages'
                # "why it is yours"): the code, chosen.
                "evidence": (
                    {
                        "candidates": [
                            {"source": "discount_code", "value": code, "verdict": "chosen"}
                        ]
                    }
                    if creator and code
                    else {}
                ),
            }
            for order_id, (creator, campaign, method, code) in zip(
                ids, self.attributions, strict=True
            )
        ]
        self.session.execute(insert(Attribution.__table__), rows)
        self.orders, self.attributions = [], []


def _code_evidence(code: str) -> dict[str, Any]:
    return {"candidates": [{"source": "discount_code", "value": code, "verdict": "chosen"}]}


def write_sales(
    writer: OrderWriter,
    rng: np.random.Generator,
    first_day: datetime,
    sales: list[Day],
    campaign_id: int,
    codes: Mapping[int, str] | None = None,
) -> None:
    """The simulated days as orders; a creator's attributed orders carry `codes[creator]`."""
    total = sum(day.promoted + day.control + sum(day.attributed.values()) for day in sales)
    prices = iter(rng.choice(PRICES, size=total).tolist())
    products = iter(rng.integers(len(PROMOTED), size=total).tolist())
    for index, day in enumerate(sales):
        midday = first_day + timedelta(days=index, hours=12)
        for _ in range(day.promoted):
            writer.add(midday, PROMOTED[next(products)], next(prices))
        for _ in range(day.control):
            writer.add(midday, OTHER, next(prices))
        for creator, count in day.attributed.items():
            for _ in range(count):
                writer.add(
                    midday,
                    PROMOTED[next(products)],
                    next(prices),
                    creator_id=creator,
                    campaign_id=campaign_id,
                    code=(codes or {}).get(creator),
                )
    writer.flush()


def write_link_visits(
    session: Session,
    writer: OrderWriter,
    rng: np.random.Generator,
    *,
    test_id: int,
    seed: int,
    holdout_bps: int,
    links: dict[int, int],  # creator -> link id
    campaign_id: int,
    start: datetime,
    days: int,
    visitors: int,
    holdout_rate: float,
    treated_rate: float,
) -> tuple[int, int]:
    """Visitors of the campaign's links, each a Click with a visitor hash drawn from `rng`; the
    arm is the redirect's own draw; buyers place one order carrying their click id. Returns the
    number of treated and held-out visitors."""
    salt = holdout_salt(test_id, seed)
    clicks: list[dict[str, Any]] = []
    treated = held = 0
    creators = list(links)
    for _ in range(visitors):
        visitor = rng.bytes(32).hex()  # from the generator: a seeded store is reproducible
        creator = creators[int(rng.integers(len(creators)))]
        moment = start + timedelta(seconds=float(rng.uniform(0, days * 86_400)))
        click_uid = f"sim{next(_click_ids):029d}"
        clicks.append(
            {
                "shop_id": writer.shop_id,
                "link_id": links[creator],
                "creator_id": creator,
                "click_uid": click_uid,
                "occurred_at": moment,
                "visitor_hash": visitor,
            }
        )
        out = in_holdout(salt, visitor, holdout_bps)
        held += out
        treated += not out
        if rng.random() < (holdout_rate if out else treated_rate):
            writer.add(
                moment + timedelta(minutes=5),
                PROMOTED[0],
                int(rng.choice(PRICES)),
                creator_id=creator,
                campaign_id=campaign_id,
                click_uid=click_uid,
            )
    session.execute(insert(Click.__table__), clicks)
    writer.flush()
    return treated, held


def relative(value: float, truth: float) -> float:
    return (value - truth) / truth if truth else math.nan
