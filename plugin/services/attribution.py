"""Loading what an order might point at, running the pure attribution, storing its decision."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connectors.base import NormalizedOrder
from plugin.domain.attribution import AttributionResult, attribute
from plugin.domain.attribution_inputs import (
    AgreementTerms,
    Candidates,
    ClickCandidate,
    CodeCandidate,
    CreatorFacts,
    LinkCandidate,
    normalize_code,
    order_click_uids,
    referral_params,
)
from plugin.models import (
    Agreement,
    Attribution,
    Click,
    Creator,
    DiscountCode,
    Order,
    ReferralLink,
    Shop,
)
from plugin.tenancy import Tenant


def load_candidates(session: Session, shop: Shop, order: NormalizedOrder) -> Candidates:
    """The shop's codes, clicks, links, creators and agreements this order could refer to.

    Only rows the order names are loaded (a handful of indexed lookups), never the whole shop.
    """
    tenant = Tenant(session, shop.id)
    params = referral_params(order.landing_site)
    codes: list[DiscountCode] = []
    if order.discount_codes:
        wanted = {normalize_code(code) for code in order.discount_codes}
        codes = tenant.all(DiscountCode, func.lower(DiscountCode.code_normalized).in_(wanted))
    click_uids = set(order_click_uids(order)) | set(params.click_uids)
    creators: dict[int, Creator] = {}
    agreements: dict[int, Agreement] = {}
    clicks: dict[int, tuple[Click, int | None]] = {}
    if click_uids:
        # Each click brings its creator and their agreements along: one round trip, not two.
        rows = session.execute(
            select(Click, ReferralLink.campaign_id, Creator, Agreement)
            .join(ReferralLink, ReferralLink.id == Click.link_id)
            .outerjoin(Creator, (Creator.id == Click.creator_id) & (Creator.shop_id == shop.id))
            .outerjoin(Agreement, Agreement.creator_id == Creator.id)
            .where(Click.shop_id == shop.id, Click.click_uid.in_(click_uids))
        )
        for click, campaign_id, creator, agreement in rows:
            clicks.setdefault(click.id, (click, campaign_id))
            if creator is not None:
                creators.setdefault(creator.id, creator)
            if agreement is not None:
                agreements.setdefault(agreement.id, agreement)
    links: list[ReferralLink] = []
    if params.link_slugs:
        links = tenant.all(ReferralLink, ReferralLink.slug.in_(params.link_slugs))
    creator_ids = (
        {code.creator_id for code in codes} | {link.creator_id for link in links}
    ) - creators.keys()
    handles = {handle.lower() for handle in params.creator_handles}
    if creator_ids or handles:
        rows = session.execute(
            select(Creator, Agreement)
            .outerjoin(Agreement, Agreement.creator_id == Creator.id)
            .where(
                Creator.shop_id == shop.id,
                or_(Creator.id.in_(creator_ids), func.lower(Creator.handle).in_(handles)),
            )
        )
        for creator, agreement in rows:
            creators.setdefault(creator.id, creator)
            if agreement is not None:
                agreements.setdefault(agreement.id, agreement)
    return Candidates(
        codes=[
            CodeCandidate(
                c.id, c.code_normalized, c.creator_id, c.agreement_id, c.status, c.ends_at
            )
            for c in codes
        ],
        clicks=[
            ClickCandidate(c.id, c.click_uid, c.creator_id, c.link_id, campaign_id, c.occurred_at)
            for c, campaign_id in clicks.values()
        ],
        links=[LinkCandidate(k.id, k.slug, k.creator_id, k.campaign_id, k.active) for k in links],
        creators=[
            CreatorFacts(c.id, c.handle, c.email_hash, tuple(str(i) for i in c.customer_ids or ()))
            for c in creators.values()
        ],
        agreements=[
            AgreementTerms(
                a.id,
                a.creator_id,
                a.campaign_id,
                a.status,
                a.starts_at,
                a.ends_at,
                a.commission_rate_bps,
            )
            for a in agreements.values()
        ],
        window_days=shop.attribution_window_days,
    )


def record_attribution(
    session: Session, shop: Shop, row: Order, order: NormalizedOrder, stored: Attribution | None
) -> Attribution:
    """Attribute `order` and store the decision on its Attribution row (`stored`, or a new one)."""
    result = attribute(order, load_candidates(session, shop, order))
    if stored is None:
        stored = Tenant(session, shop.id).add(Attribution(order_id=row.id))
    _assign(stored, result)
    return stored


def _assign(stored: Attribution, result: AttributionResult) -> None:
    stored.method = result.method
    stored.creator_id = result.creator_id
    stored.agreement_id = result.agreement_id
    stored.campaign_id = result.campaign_id
    stored.self_referral = result.self_referral
    stored.evidence = result.evidence
