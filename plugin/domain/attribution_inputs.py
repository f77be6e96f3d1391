"""What attribution reads: the shop's candidates, and the referral evidence an order carries.

The parsing here is pure: click ids from an order's cart attribute, our parameters from a landing
URL. plugin.domain.attribution decides between the candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.base import NormalizedOrder

DEFAULT_WINDOW_DAYS = 30
UTM_SOURCE = "tastemaker"
_CLICK_ID_SEPARATORS = re.compile(r"[\s,;]+")


def normalize_code(code: str) -> str:
    """The form stored in DiscountCode.code_normalized: platforms match codes case-insensitively."""
    return code.strip().lower()


@dataclass(frozen=True)
class CodeCandidate:
    discount_code_id: int
    code: str
    creator_id: int
    agreement_id: int | None
    status: str
    ends_at: datetime | None = None

    @property
    def normalized(self) -> str:
        return normalize_code(self.code)


@dataclass(frozen=True)
class ClickCandidate:
    click_id: int
    click_uid: str
    creator_id: int
    link_id: int
    campaign_id: int | None
    occurred_at: datetime


@dataclass(frozen=True)
class LinkCandidate:
    link_id: int
    slug: str
    creator_id: int
    campaign_id: int | None
    active: bool = True


@dataclass(frozen=True)
class CreatorFacts:
    creator_id: int
    handle: str
    email_hash: str | None = None
    customer_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreementTerms:
    agreement_id: int
    creator_id: int
    campaign_id: int | None
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    commission_rate_bps: int

    def active_at(self, moment: datetime) -> bool:
        """In force at `moment`. An agreement no longer active counts only up to its end date."""
        if self.starts_at is not None and moment < self.starts_at:
            return False
        if self.ends_at is not None:
            return moment < self.ends_at
        return self.status == "active"


@dataclass(frozen=True)
class Candidates:
    """What the shop knows that this order might point at (loaded by the service)."""

    codes: Sequence[CodeCandidate] = ()
    clicks: Sequence[ClickCandidate] = ()
    links: Sequence[LinkCandidate] = ()
    creators: Sequence[CreatorFacts] = ()
    agreements: Sequence[AgreementTerms] = ()
    window_days: int = DEFAULT_WINDOW_DAYS


@dataclass(frozen=True)
class ReferralParams:
    click_uids: tuple[str, ...] = ()
    link_slugs: tuple[str, ...] = ()
    creator_handles: tuple[str, ...] = ()


def order_click_uids(order: NormalizedOrder) -> tuple[str, ...]:
    """Click ids the order carries; a cart attribute may hold several (oldest first)."""
    if not order.click_id:
        return ()
    return unique(part for part in _CLICK_ID_SEPARATORS.split(order.click_id) if part)


def attribution_inputs(order: NormalizedOrder) -> dict[str, Any]:
    """The parts of an order that attribution reads (recorded in the evidence)."""
    return {
        "placed_at": order.created_at.isoformat(),
        "discount_codes": list(order.discount_codes),
        "click_id": order.click_id,
        "landing_site": order.landing_site,
    }


def referral_params(landing_site: str | None) -> ReferralParams:
    """Our parameters in a landing URL, including inside Shopify's `/discount/X?redirect=` hop."""
    if not landing_site:
        return ReferralParams()
    queries = [parse_qs(urlsplit(landing_site.strip()).query)]
    for nested in queries[0].get("redirect", []):
        queries.append(parse_qs(urlsplit(nested).query))
    click_uids: list[str] = []
    slugs: list[str] = []
    handles: list[str] = []
    for query in queries:
        click_uids += query.get("tm_click", [])
        slugs += query.get("ref", [])
        sources = {value.strip().lower() for value in query.get("utm_source", [])}
        if UTM_SOURCE in sources:
            handles += query.get("utm_content", [])
    return ReferralParams(
        click_uids=unique(value.strip() for value in click_uids if value.strip()),
        link_slugs=unique(value.strip() for value in slugs if value.strip()),
        creator_handles=unique(value.strip() for value in handles if value.strip()),
    )


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """The values without repeats, first occurrence order kept."""
    return tuple(dict.fromkeys(values))
