"""Pure rules for shopper rewards (Try & Tag) and referral sprints.

Try & Tag: a shopper's public post on a known network earns a single-use discount code once the
merchant approves it. Referral sprints: for a fixed window, each creator earns a micro-credit per
attributed paid order, optionally capped; the sprint is settled once, after it ends.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

from plugin.domain.money import format_minor_units

# --- Try & Tag ----------------------------------------------------------------------------------

REWARD_STATUSES = ("submitted", "pending", "issued", "failed", "void", "needs_change")
# submitted: waiting for moderation; pending: approved, the code is being created in the store;
# void: the post was rejected or hidden before a code was issued; needs_change: the post check
# found it gone or without a disclosure, so it is back with the shopper (never rewarded as is).
OPEN_STATUSES = ("submitted", "pending", "issued", "needs_change")
DISCOUNT_KINDS = ("percentage", "fixed_amount")
MAX_PERCENTAGE_BPS = 10_000
MAX_FIXED_MINOR = 10**9
MAX_VALID_DAYS = 365
MAX_POST_URL = 512
# Store calls per reward, across retries and sweeps, before it is recorded as failed.
MAX_ISSUE_ATTEMPTS = 8
# Names tried per attempt when the store answers "taken" (the first plus alternatives).
MAX_CODE_CANDIDATES = 4

# Host -> (network, the host the post is stored under): one post, one URL.
NETWORK_HOSTS: dict[str, tuple[str, str]] = {
    "instagram.com": ("instagram", "www.instagram.com"),
    "www.instagram.com": ("instagram", "www.instagram.com"),
    "tiktok.com": ("tiktok", "www.tiktok.com"),
    "www.tiktok.com": ("tiktok", "www.tiktok.com"),
    "m.tiktok.com": ("tiktok", "www.tiktok.com"),
    "vm.tiktok.com": ("tiktok", "vm.tiktok.com"),
    "youtube.com": ("youtube", "www.youtube.com"),
    "www.youtube.com": ("youtube", "www.youtube.com"),
    "m.youtube.com": ("youtube", "www.youtube.com"),
    "youtu.be": ("youtube", "youtu.be"),
    "pinterest.com": ("pinterest", "www.pinterest.com"),
    "www.pinterest.com": ("pinterest", "www.pinterest.com"),
    "pin.it": ("pinterest", "pin.it"),
}
HANDLE_RE = re.compile(r"[A-Za-z0-9._-]{1,30}")
ORDER_NUMBER_RE = re.compile(r"#?[A-Za-z0-9-]{1,32}")
CODE_PREFIX_RE = re.compile(r"[A-Z0-9]{1,12}")
# No 0/O, 1/I/L: shoppers type these codes at checkout.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_RANDOM_CHARS = 8
CODE_RE = re.compile(r"[A-Za-z0-9_-]{3,64}")


@dataclass(frozen=True)
class PostLink:
    network: str
    url: str


def parse_post_url(raw: str) -> PostLink | None:
    """An https link to a post on Instagram, TikTok, YouTube or Pinterest, normalized; else None.

    Fragments and tracking parameters are dropped (YouTube keeps its video id), so the same post
    submitted twice compares equal.
    """
    text = raw.strip()
    if not text or len(text) > MAX_POST_URL or re.search(r"[\x00-\x20\x7f\\]", text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or "@" in parts.netloc or port not in (None, 443):
        return None
    known = NETWORK_HOSTS.get(host)
    path = parts.path.rstrip("/")
    if known is None or not path:
        return None
    network, canonical_host = known
    query = ""
    if network == "youtube" and path == "/watch":
        video = parse_qs(parts.query).get("v")
        if not video or not video[0]:
            return None
        query = "?" + urlencode({"v": video[0]})
    return PostLink(network, f"https://{canonical_host}{path}{query}")


def normalize_handle(raw: str) -> str | None:
    handle = raw.strip().lstrip("@")
    return handle if HANDLE_RE.fullmatch(handle) else None


def order_number_variants(raw: str) -> tuple[str, ...] | None:
    """How an order number may be stored ("#1001" on Shopify, "1001" on WooCommerce)."""
    text = raw.strip()
    if not ORDER_NUMBER_RE.fullmatch(text):
        return None
    bare = text.lstrip("#")
    return (bare, f"#{bare}")


def offer_errors(kind: str, value: int, valid_days: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    if kind not in DISCOUNT_KINDS:
        errors["discount_kind"] = "must be one of: " + ", ".join(DISCOUNT_KINDS)
    elif kind == "percentage" and not 1 <= value <= MAX_PERCENTAGE_BPS:
        errors["discount_value"] = f"must be between 1 and {MAX_PERCENTAGE_BPS} basis points"
    elif kind == "fixed_amount" and not 1 <= value <= MAX_FIXED_MINOR:
        errors["discount_value"] = f"must be between 1 and {MAX_FIXED_MINOR} minor units"
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        errors["code_valid_days"] = f"must be between 1 and {MAX_VALID_DAYS}"
    return errors


def describe_offer(kind: str, value: int, currency: str) -> str:
    """What the shopper gets, in words: "15% off" or "USD 5.00 off"."""
    if kind == "percentage":
        return f"{Decimal(value).scaleb(-2).normalize():f}% off"
    return f"{currency} {format_minor_units(value, currency)} off"


def new_reward_code(prefix: str, randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """PREFIX-XXXXXXXX: 31^8 (about 2^39) names, so a guessed or colliding code is not a concern."""
    tail = "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_RANDOM_CHARS))
    return f"{prefix}-{tail}"


def next_code(tried: Collection[str], alternatives: Sequence[str], fresh: Callable[[], str]) -> str:
    """The store's first usable suggestion not tried yet, else a fresh random name."""
    seen = {code.lower() for code in tried}
    for candidate in alternatives:
        if CODE_RE.fullmatch(candidate) and candidate.lower() not in seen:
            return candidate
    return fresh()


def code_expiry(issued_at: datetime, valid_days: int) -> datetime:
    return issued_at + timedelta(days=valid_days)


# --- referral sprints ---------------------------------------------------------------------------

SPRINT_STATES = ("scheduled", "running", "ended", "settled")
MAX_SPRINT_DAYS = 366
MAX_CREDIT_MINOR = 10**9


@dataclass(frozen=True)
class Standing:
    rank: int
    creator_id: int
    orders: int
    credit_minor: int


def sprint_state(
    starts_at: datetime, ends_at: datetime, settled_at: datetime | None, now: datetime
) -> str:
    if settled_at is not None:
        return "settled"
    if now < starts_at:
        return "scheduled"
    return "running" if now < ends_at else "ended"


def window_errors(starts_at: datetime, ends_at: datetime) -> dict[str, str]:
    if ends_at <= starts_at:
        return {"ends_at": "must be after starts_at"}
    if ends_at - starts_at > timedelta(days=MAX_SPRINT_DAYS):
        return {"ends_at": f"must be at most {MAX_SPRINT_DAYS} days after starts_at"}
    return {}


def sprint_credit(orders: int, credit_per_order_minor: int, cap_minor: int | None) -> int:
    """Credit for `orders` qualifying orders; the cap (if any) bounds one creator's total."""
    earned = max(orders, 0) * credit_per_order_minor
    return earned if cap_minor is None else min(earned, cap_minor)


def rank_standings(
    counts: Iterable[tuple[int, int]], credit_per_order_minor: int, cap_minor: int | None
) -> list[Standing]:
    """(creator id, orders) pairs ranked by orders; ties share a rank ("1, 1, 3")."""
    ordered = sorted(
        ((creator_id, orders) for creator_id, orders in counts if orders > 0),
        key=lambda pair: (-pair[1], pair[0]),
    )
    standings: list[Standing] = []
    for position, (creator_id, orders) in enumerate(ordered, start=1):
        tied = standings and standings[-1].orders == orders
        rank = standings[-1].rank if tied else position
        credit = sprint_credit(orders, credit_per_order_minor, cap_minor)
        standings.append(Standing(rank, creator_id, orders, credit))
    return standings


def settlement_key(sprint_id: int, creator_id: int) -> str:
    return f"sprint:{sprint_id}:creator:{creator_id}"
