"""What the metrics services answer: frozen dataclasses that serialise themselves to JSON.

Money is integer minor units of `currency`, rates integer basis points; a quotient that is not
meaningful is None, with its reason in the answer's `undefined`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from plugin.domain import metrics as formulas


def _serialise(value: Any) -> Any:
    if isinstance(value, _JsonMixin):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _serialise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_serialise(item) for item in value]
    return value


@lru_cache(maxsize=32)
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(kind))


class _JsonMixin:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings). Walks the fields itself rather
        than through dataclasses.asdict, whose deep copies were most of a 200-creator answer's
        serialisation time."""
        return {name: _serialise(getattr(self, name)) for name in _field_names(type(self))}


@dataclass(frozen=True)
class Spend(_JsonMixin):
    commission_minor: int = 0
    flat_fee_minor: int = 0
    bonus_minor: int = 0
    reversal_minor: int = 0  # magnitude of reversals (subtracted)
    adjustment_minor: int = 0  # signed
    total_minor: int = 0
    definition: str = formulas.SPEND_DEFINITION


@dataclass(frozen=True)
class Ltv(_JsonMixin):
    cohort_customers: int = 0
    repeat_customers: int = 0
    repeat_orders: int = 0
    repeat_revenue_minor: int = 0
    repeat_revenue_per_customer_minor: int | None = None


@dataclass(frozen=True)
class Performance(_JsonMixin):
    currency: str
    start: datetime
    end: datetime
    clicks: int
    unique_visitors: int
    unique_visitors_approximate: bool
    orders: int
    click_orders: int
    code_orders: int
    self_referral_orders: int
    conversion_rate_bps: int | None
    gross_revenue_minor: int
    refunded_minor: int
    revenue_minor: int
    average_order_value_minor: int | None
    spend: Spend
    spend_minor: int
    new_customers: int
    cac_minor: int | None
    roi_bps: int | None
    undefined: dict[str, str]  # metric -> why it is None


@dataclass(frozen=True)
class CreatorMetrics(_JsonMixin):
    creator_id: int
    handle: str
    performance: Performance
    ltv: Ltv = field(default_factory=Ltv)


@dataclass(frozen=True)
class CampaignMetrics(_JsonMixin):
    campaign_id: int | None  # None: links and orders outside any campaign ("always-on")
    name: str
    performance: Performance


@dataclass(frozen=True)
class ShopSummary(_JsonMixin):
    shop_id: int
    attributed: Performance
    all_orders: int  # every paid order in the period, attributed or not
    all_revenue_minor: int
    attributed_revenue_share_bps: int | None


@dataclass(frozen=True)
class Window(_JsonMixin):
    start: datetime
    end: datetime
    orders: int
    revenue_minor: int
    revenue_per_day_minor: int | None


@dataclass(frozen=True)
class UpliftView(_JsonMixin):
    method: str
    caveat: str
    currency: str
    creator_id: int | None
    campaign_id: int | None
    attributed: Window
    attributed_baseline: Window  # the same scope, the equally long period just before
    unattributed: Window  # the shop's orders no creator was credited with
    unattributed_baseline: Window
    attributed_revenue_change_bps: int | None
    unattributed_revenue_change_bps: int | None
    attributed_revenue_share_bps: int | None
