"""How creators join a shop: public applications the merchant reviews, and email invitations.

Both end in `onboard`: a Creator, a private portal token (its hash stored), a discount code (the
codes job creates it in the store after commit) and a referral link carrying that code.

No account enumeration: an application for an email that already has an open application or is
already a creator of the shop is answered exactly like a new one and records nothing.
Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.crypto import hash_email, new_token, sha256_hex
from plugin.domain.validation import ValidationFailed
from plugin.models import Creator, DiscountCode, ReferralLink, Shop, utcnow
from plugin.models.joining import CreatorApplication, CreatorInvitation
from plugin.services import notifications
from plugin.services.creators import create_creator, create_discount_code, issue_portal_token
from plugin.services.links import create_link, public_link_url
from plugin.tenancy import Tenant

INVITATION_DAYS = 30
# The creator code a new creator starts with, unless the shop's settings say otherwise.
DEFAULT_CODE_BPS = 1000
DEFAULT_TERMS = (
    "You post honestly about products you actually use, and disclose every paid or gifted post "
    "clearly (#ad, or the network's paid-partnership label) at the start of the caption. We pay "
    "commission on orders credited to your code or links after the return window closes, and "
    "you can see every order, rate and payout on your private creator page. Either side can end "
    "the partnership at any time; earned commission is still paid."
)
MAX_PENDING_PER_SHOP = 500


@dataclass(frozen=True)
class Onboarded:
    creator: Creator
    portal_token: str
    code: DiscountCode | None
    link: ReferralLink | None


def program_terms(shop: Shop) -> str:
    terms = (shop.settings or {}).get("creator_terms")
    return terms if isinstance(terms, str) and terms.strip() else DEFAULT_TERMS


def portal_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/creator/{token}"


# --- applications -------------------------------------------------------------------------------


def apply(
    tenant: Tenant, shop: Shop, values: Mapping[str, Any], *, now: datetime | None = None
) -> CreatorApplication | None:
    """Record an application; None (silently) when the email already applied or is a creator."""
    email = values["email"].strip()
    email_hash = hash_email(email)
    assert email_hash is not None  # the schema requires an email
    if _is_creator(tenant, email):
        return None
    pending = tenant.session.scalar(
        tenant.select(CreatorApplication)
        .where(CreatorApplication.status == "pending")
        .with_only_columns(func.count(CreatorApplication.id))
    )
    if (pending or 0) >= MAX_PENDING_PER_SHOP:
        raise ValidationFailed({"form": "applications are closed for now; try again later"})
    moment = now or utcnow()
    application = CreatorApplication(
        name=values["name"].strip(),
        email=email,
        email_hash=email_hash,
        social_handles=dict(values.get("social_handles") or {}),
        niche=(values.get("niche") or "").strip(),
        audience_size=int(values.get("audience_size") or 0),
        pitch=(values.get("pitch") or "").strip(),
        terms_hash=sha256_hex(program_terms(shop)),
        consented_at=moment,
        status="pending",
        is_open=True,
        created_at=moment,
    )
    try:
        with tenant.session.begin_nested():
            tenant.add(application)
            tenant.session.flush()
    except IntegrityError:
        return None  # an open application for this email exists: say nothing different
    return application


def _is_creator(tenant: Tenant, email: str) -> bool:
    known = or_(Creator.email_hash == hash_email(email), func.lower(Creator.email) == email.lower())
    return tenant.first(Creator, known) is not None


def pending_applications(tenant: Tenant, limit: int = 200) -> list[CreatorApplication]:
    return list(
        tenant.session.scalars(
            tenant.select(CreatorApplication)
            .order_by(CreatorApplication.status != "pending", CreatorApplication.created_at.desc())
            .limit(limit)
        )
    )


def approve(
    tenant: Tenant, shop: Shop, application: CreatorApplication, public_url: str, message: str = ""
) -> Onboarded:
    if application.status != "pending":
        raise ValidationFailed({"form": f"this application was already {application.status}"})
    onboarded = onboard(
        tenant,
        shop,
        name=application.name,
        email=application.email,
        social_handles=application.social_handles,
        niche=application.niche,
        audience_size=application.audience_size,
    )
    _decide(application, "approved", message)
    application.creator_id = onboarded.creator.id
    notifications.application_approved(
        tenant.session,
        shop,
        application,
        portal_url(public_url, onboarded.portal_token),
        code=onboarded.code.code if onboarded.code else None,
        link_url=public_link_url(public_url, onboarded.link.slug) if onboarded.link else None,
    )
    return onboarded


def decline(tenant: Tenant, shop: Shop, application: CreatorApplication, message: str = "") -> None:
    if application.status != "pending":
        raise ValidationFailed({"form": f"this application was already {application.status}"})
    _decide(application, "declined", message)
    notifications.application_declined(tenant.session, shop, application)


def _decide(application: CreatorApplication, status: str, message: str) -> None:
    application.status = status
    application.is_open = None
    application.decided_at = utcnow()
    application.decision_message = message.strip()[:2000]


# --- invitations --------------------------------------------------------------------------------


def invite(
    tenant: Tenant,
    shop: Shop,
    *,
    email: str,
    name: str,
    message: str,
    public_url: str,
    now: datetime | None = None,
) -> CreatorInvitation:
    email = email.strip()
    if _is_creator(tenant, email):
        raise ValidationFailed({"email": "is already a creator of this shop"})
    token = new_token(24)
    moment = now or utcnow()
    invitation = tenant.add(
        CreatorInvitation(
            email=email,
            name=name.strip(),
            message=message.strip(),
            token_hash=sha256_hex(token),
            status="sent",
            expires_at=moment + timedelta(days=INVITATION_DAYS),
            created_at=moment,
        )
    )
    tenant.session.flush()
    accept_url = f"{public_url.rstrip('/')}/join/{token}"
    notifications.creator_invited(tenant.session, shop, invitation, accept_url)
    return invitation


def invitation_for_token(session: Session, token: str) -> CreatorInvitation | None:
    if not token or len(token) > 128:
        return None
    return session.scalars(
        select(CreatorInvitation).where(CreatorInvitation.token_hash == sha256_hex(token))
    ).first()


def invitation_usable(invitation: CreatorInvitation, now: datetime | None = None) -> bool:
    return invitation.status == "sent" and invitation.expires_at > (now or utcnow())


def accept_invitation(
    tenant: Tenant, shop: Shop, invitation: CreatorInvitation, values: Mapping[str, Any]
) -> Onboarded:
    if not invitation_usable(invitation):
        raise ValidationFailed({"form": "this invitation is no longer valid"})
    onboarded = onboard(
        tenant,
        shop,
        name=values.get("name") or invitation.name,
        email=invitation.email,
        social_handles=dict(values.get("social_handles") or {}),
        niche=(values.get("niche") or "").strip(),
        audience_size=int(values.get("audience_size") or 0),
    )
    invitation.status = "accepted"
    invitation.accepted_at = utcnow()
    invitation.creator_id = onboarded.creator.id
    return onboarded


def revoke_invitation(invitation: CreatorInvitation) -> None:
    if invitation.status == "sent":
        invitation.status = "revoked"


def invitations(tenant: Tenant, limit: int = 100) -> list[CreatorInvitation]:
    return list(
        tenant.session.scalars(
            tenant.select(CreatorInvitation)
            .order_by(CreatorInvitation.created_at.desc())
            .limit(limit)
        )
    )


# --- onboarding ---------------------------------------------------------------------------------


def onboard(
    tenant: Tenant,
    shop: Shop,
    *,
    name: str,
    email: str,
    social_handles: Mapping[str, Any],
    niche: str,
    audience_size: int,
) -> Onboarded:
    """Create the creator with a portal token, a discount code and a referral link."""
    handle = _free_handle(tenant, social_handles, name, email)
    creator = create_creator(
        tenant,
        {
            "handle": handle,
            "name": name.strip()[:200],
            "email": email,
            "social_handles": dict(social_handles),
            "niche": niche[:120],
            "audience_size": audience_size,
            "status": "active",
            "payout_email": email,
        },
    )
    tenant.session.flush()
    token = issue_portal_token(tenant, creator)
    code = create_discount_code(
        tenant,
        {
            "creator_id": creator.id,
            "code": _free_code(tenant, handle),
            "kind": "percentage",
            "value": int((shop.settings or {}).get("creator_code_bps") or DEFAULT_CODE_BPS),
        },
    )
    tenant.session.flush()
    link = create_link(tenant.session, shop.id, creator.id, discount_code_id=code.id)
    return Onboarded(creator, token, code, link)


def _free_handle(tenant: Tenant, social_handles: Mapping[str, Any], name: str, email: str) -> str:
    candidates = [str(value) for value in social_handles.values() if value]
    candidates += [name, email.split("@", 1)[0]]
    for raw in candidates:
        base = re.sub(r"[^A-Za-z0-9._-]", "", raw.strip().lstrip("@"))[:48].strip("._-")
        if not base:
            continue
        for suffix in ["", *(str(n) for n in range(2, 6))]:
            handle = f"{base}{suffix}"
            taken = tenant.first(Creator, func.lower(Creator.handle) == handle.lower())
            if taken is None:
                return handle
    return f"creator{secrets.randbelow(10**6):06d}"


def _free_code(tenant: Tenant, handle: str) -> str:
    base = re.sub(r"[^A-Z0-9]", "", handle.upper())[:20] or "CREATOR"
    for suffix in ["10", *(f"{n}" for n in range(11, 20))]:
        code = f"{base}{suffix}"
        if tenant.first(DiscountCode, DiscountCode.code_normalized == code.lower()) is None:
            return code
    return f"{base}{secrets.randbelow(10**6):06d}"
