"""The merchant's list of affiliate creators, and pausing or archiving one.

UGC-only authors (people whose posts were collected for the carousel or Try & Tag, with no code,
link or agreement) are creators in the database so their posts can name them, but they are not
part of the affiliate program, so the creators list leaves them out.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, func, or_, select

from plugin.models import Agreement, Creator, DiscountCode, ReferralLink, UgcPost
from plugin.services import creators as creator_service
from plugin.services.links import set_link_active
from plugin.tenancy import Tenant

STATUS_ACTIONS = {"paused": "Pause", "active": "Resume", "terminated": "Archive"}


def _has(model: type[DiscountCode] | type[ReferralLink] | type[Agreement]) -> object:
    return exists().where(model.creator_id == Creator.id, model.shop_id == Creator.shop_id)


def affiliate_filter() -> object:
    """Creators with a code, link or agreement, or with no UGC post (added by the merchant)."""
    ugc_only = exists().where(UgcPost.creator_id == Creator.id, UgcPost.shop_id == Creator.shop_id)
    return or_(_has(DiscountCode), _has(ReferralLink), _has(Agreement), ~ugc_only)


def creator_list(tenant: Tenant, *, search: str = "", status: str = "") -> Select[tuple[Creator]]:
    statement = tenant.select(Creator, affiliate_filter())
    if status:
        statement = statement.where(Creator.status == status)
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(
            or_(
                func.lower(Creator.handle).like(pattern),
                func.lower(Creator.name).like(pattern),
                func.lower(func.coalesce(Creator.email, "")).like(pattern),
                func.lower(Creator.niche).like(pattern),
            )
        )
    return statement.order_by(func.lower(Creator.handle))


def set_status(tenant: Tenant, creator: Creator, status: str) -> int:
    """Pause, resume or archive; pausing or archiving also turns off the creator's links (their
    codes are deactivated in the store by the codes job). Returns how many links were turned off."""
    creator_service.update_creator(tenant, creator, {"status": status})
    if status == "active":
        return 0
    link_ids = tenant.session.scalars(
        select(ReferralLink.id).where(
            ReferralLink.shop_id == tenant.shop_id,
            ReferralLink.creator_id == creator.id,
            ReferralLink.active.is_(True),
        )
    ).all()
    for link_id in link_ids:
        set_link_active(tenant.session, tenant.shop_id, link_id, False)
    return len(link_ids)
