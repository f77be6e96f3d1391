"""Referral links: creation (slug, target validation) and what /r/<slug> needs of one, loaded
(`load_link`) for the in-process cache (plugin.services.link_cache).

The destination is built once per load with the shop's connector, with a placeholder where the
click id goes, so a request only concatenates three strings. It is always on the merchant's own
domain: the host comes from the shop row and the path was validated when the link was created.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.domain.lift_holdout import holdout_salt, in_holdout
from plugin.models import Campaign, Creator, DiscountCode, LiftTest, ReferralLink, Shop
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

SLUG_ALPHABET = string.ascii_letters + string.digits  # base62
SLUG_LENGTH = 10  # 62^10 ≈ 8.4e17: unguessable, and a collision is a once-in-forever retry
SLUG_PATTERN = re.compile(r"[A-Za-z0-9]{6,32}")
MAX_TARGET_PATH = 512
TRACKING_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "tm_click")
ALWAYS_ON = "always-on"
# Made of unreserved URL characters only, so a connector's percent-encoding leaves it intact.
CLICK_PLACEHOLDER = "tmclick0placeholder0x7"
_SAFE_PATH_CHARACTERS = "/?&=%:@!$'()*+,;~-._"


class InvalidLink(ValueError):
    """A link cannot be created as asked; `field` names the offending argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def new_slug() -> str:
    return "".join(secrets.choice(SLUG_ALPHABET) for _ in range(SLUG_LENGTH))


def normalize_target_path(raw: str) -> str:
    """A path (and optional query) on the merchant's own domain, or InvalidLink.

    Refused: anything not starting with "/", a scheme or host ("//host", "https://…"), doubled
    slashes, backslashes and control characters (also when percent-encoded, since some servers
    decode before routing), raw whitespace, fragments, and our own tracking parameters. Non-ASCII
    characters are percent-encoded so the stored path is a valid URL part.
    """
    if not isinstance(raw, str) or not raw:
        raise InvalidLink("target_path", "must be a non-empty path starting with '/'")
    if not raw.startswith("/"):
        raise InvalidLink(
            "target_path", "must start with '/': links only point at the shop's own domain"
        )
    if any(unicodedata.category(ch).startswith(("C", "Z")) for ch in raw):
        raise InvalidLink("target_path", "must not contain whitespace or control characters")
    decoded = unquote(raw)
    for candidate in (raw, decoded):
        if "//" in candidate.split("?", 1)[0] or "\\" in candidate:
            raise InvalidLink("target_path", "must not contain '//' or backslashes (no other host)")
    if any(unicodedata.category(ch) == "Cc" for ch in decoded):
        raise InvalidLink("target_path", "must not contain control characters, even encoded")
    if "#" in raw:
        raise InvalidLink("target_path", "must not contain a '#fragment'")
    query = raw.partition("?")[2]
    taken = {key.lower() for key, _ in parse_qsl(query, keep_blank_values=True)}
    clashing = sorted(taken.intersection(TRACKING_PARAMETERS))
    if clashing:
        raise InvalidLink(
            "target_path", f"must not set {', '.join(clashing)}: tracking parameters are added"
        )
    normalized = quote(raw, safe=_SAFE_PATH_CHARACTERS)
    if len(normalized) > MAX_TARGET_PATH:
        raise InvalidLink("target_path", f"must be at most {MAX_TARGET_PATH} characters")
    return normalized


def create_link(
    session: Session,
    shop_id: int,
    creator_id: int,
    *,
    target_path: str = "/",
    campaign_id: int | None = None,
    discount_code_id: int | None = None,
) -> ReferralLink:
    """Create a creator's referral link in the shop; raises InvalidLink (a ValueError)."""
    tenant = Tenant(session, shop_id)
    path = normalize_target_path(target_path)
    if tenant.get(Creator, creator_id) is None:
        raise InvalidLink("creator_id", f"no creator {creator_id} in this shop")
    if campaign_id is not None and tenant.get(Campaign, campaign_id) is None:
        raise InvalidLink("campaign_id", f"no campaign {campaign_id} in this shop")
    if discount_code_id is not None:
        code = tenant.get(DiscountCode, discount_code_id)
        if code is None:
            raise InvalidLink("discount_code_id", f"no discount code {discount_code_id} here")
        if code.creator_id != creator_id:
            raise InvalidLink("discount_code_id", "the discount code belongs to another creator")
    for _attempt in range(5):
        link = ReferralLink(
            creator_id=creator_id,
            campaign_id=campaign_id,
            discount_code_id=discount_code_id,
            slug=new_slug(),
            target_path=path,
        )
        try:
            with session.begin_nested():
                tenant.add(link)
                session.flush()
        except IntegrityError:
            taken = session.scalar(select(ReferralLink.id).where(ReferralLink.slug == link.slug))
            if taken is None:
                raise  # not a slug collision
            logger.warning("referral link slug collision, retrying")
            continue
        from plugin.services.agreements import hold_link_if_awaiting
        from plugin.services.lift import hold_new_link

        # inactive until the creator accepts (if asked) and their lift-test wave (if one waits)
        if not hold_link_if_awaiting(tenant, link):
            hold_new_link(tenant, link)
        session.flush()
        return link
    raise RuntimeError("could not find a free referral link slug in 5 attempts")


def set_link_active(session: Session, shop_id: int, link_id: int, active: bool) -> ReferralLink:
    """(De)activate a link; each process's cache follows within LinkResolver.ttl seconds."""
    link = Tenant(session, shop_id).get(ReferralLink, link_id)
    if link is None:
        raise InvalidLink("link_id", f"no referral link {link_id} in this shop")
    link.active = active
    session.flush()
    return link


def public_link_url(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/r/{slug}"


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    """Everything /r/<slug> needs, held in memory: ids for the click, and the destination."""

    slug: str
    shop_id: int
    link_id: int
    creator_id: int
    creator_handle: str
    active: bool
    location_prefix: str  # the destination up to the click id
    location_suffix: str  # the destination after the click id
    store_url: str  # the shop's home page, offered on the "link inactive" page
    # A running link-holdout lift test on the link's campaign: this share of visitors lands on
    # the same destination without the creator's discount (tracking parameters unchanged, so
    # attribution and the creator's credit are the same either way).
    holdout_bps: int = 0
    holdout_salt: str = ""
    holdout_prefix: str = ""
    holdout_suffix: str = ""

    def location(self, click_uid: str, visitor: str | None = None) -> str:
        """The destination; `visitor` (the visitor hash) is needed only when holdout_bps > 0."""
        if visitor is not None and in_holdout(self.holdout_salt, visitor, self.holdout_bps):
            return self.holdout_prefix + click_uid + self.holdout_suffix
        return self.location_prefix + click_uid + self.location_suffix


TargetUrl = Callable[[str, str, str, str | None], str]  # (platform, domain, path, code) -> URL


def campaign_tag(campaign_id: int | None, campaign_name: str | None) -> str:
    """utm_campaign: "<id>-<slugified name>" for a campaign, "always-on" for evergreen links."""
    if campaign_id is None:
        return ALWAYS_ON
    slug = re.sub(r"[^a-z0-9]+", "-", (campaign_name or "").lower()).strip("-")[:48]
    return f"{campaign_id}-{slug}" if slug else str(campaign_id)


def tracked_path(target_path: str, *, campaign: str, creator_handle: str, click_uid: str) -> str:
    query = urlencode(
        [
            ("utm_source", "tastemaker"),
            ("utm_medium", "creator"),
            ("utm_campaign", campaign),
            ("utm_content", creator_handle),
            ("tm_click", click_uid),
        ]
    )
    return target_path + ("&" if "?" in target_path else "?") + query


def load_link(session: Session, target_url: TargetUrl, slug: str) -> ResolvedLink | None:
    """Resolve a slug from the database in one query; None when no such link exists."""
    row = session.execute(
        select(
            ReferralLink.id,
            ReferralLink.shop_id,
            ReferralLink.creator_id,
            ReferralLink.target_path,
            ReferralLink.active,
            Shop.platform,
            Shop.domain,
            Shop.status,
            Creator.handle,
            Creator.status,
            Campaign.id,
            Campaign.name,
            DiscountCode.code,
            DiscountCode.status,
            LiftTest.id,
            LiftTest.seed,
            LiftTest.holdout_bps,
        )
        .join(Shop, Shop.id == ReferralLink.shop_id)
        .join(
            Creator,
            and_(Creator.id == ReferralLink.creator_id, Creator.shop_id == ReferralLink.shop_id),
        )
        .outerjoin(
            Campaign,
            and_(Campaign.id == ReferralLink.campaign_id, Campaign.shop_id == ReferralLink.shop_id),
        )
        .outerjoin(
            DiscountCode,
            and_(
                DiscountCode.id == ReferralLink.discount_code_id,
                DiscountCode.shop_id == ReferralLink.shop_id,
            ),
        )
        .outerjoin(
            LiftTest,
            and_(
                LiftTest.campaign_id == ReferralLink.campaign_id,
                LiftTest.shop_id == ReferralLink.shop_id,
                LiftTest.design == "holdout",
                LiftTest.status == "running",
            ),
        )
        .where(ReferralLink.slug == slug)
    ).first()
    if row is None:
        return None
    (
        link_id,
        shop_id,
        creator_id,
        path,
        link_active,
        platform,
        domain,
        shop_status,
        handle,
        creator_status,
        campaign_id,
        campaign_name,
        code,
        code_status,
        holdout_test_id,
        holdout_seed,
        holdout_bps,
    ) = tuple[Any, ...](row)
    # Only a code the store knows applies itself; a pending or failed one would show an error.
    usable_code = code if code_status == "active" else None
    tracked = tracked_path(
        path,
        campaign=campaign_tag(campaign_id, campaign_name),
        creator_handle=handle,
        click_uid=CLICK_PLACEHOLDER,
    )
    prefix, suffix = _split(platform, target_url(platform, domain, tracked, usable_code))
    holdout: dict[str, Any] = {}
    if holdout_test_id is not None and usable_code is not None:
        held_prefix, held_suffix = _split(platform, target_url(platform, domain, tracked, None))
        holdout = {
            "holdout_bps": int(holdout_bps),
            "holdout_salt": holdout_salt(holdout_test_id, holdout_seed),
            "holdout_prefix": held_prefix,
            "holdout_suffix": held_suffix,
        }
    return ResolvedLink(
        slug=slug,
        shop_id=shop_id,
        link_id=link_id,
        creator_id=creator_id,
        creator_handle=handle,
        active=bool(link_active)
        and shop_status != "uninstalled"
        and creator_status != "terminated",
        location_prefix=prefix,
        location_suffix=suffix,
        store_url=target_url(platform, domain, "/", None),
        **holdout,
    )


def _split(platform: str, destination: str) -> tuple[str, str]:
    if destination.count(CLICK_PLACEHOLDER) != 1:
        raise ValueError(f"connector {platform} mangled the click id placeholder: {destination}")
    prefix, _, suffix = destination.partition(CLICK_PLACEHOLDER)
    return prefix, suffix
