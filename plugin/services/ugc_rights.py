"""Usage rights for UGC posts: request, grant (with consent evidence), decline, revoke, expire.

requested -> granted | declined; granted -> revoked | expired (plugin.domain.ugc_rules). Every
change is audited and bumps the shop's feed version, so the storefront follows at once. Nothing
here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.ugc_rules import can_transition, grant_expiry, safe_link_url
from plugin.domain.validation import ValidationFailed
from plugin.models import utcnow
from plugin.models.ugc import UgcPost, UgcRightsGrant
from plugin.services.ugc import InvalidTransition, NotFound, audit, bump_feed_version, get_post
from plugin.tenancy import Tenant


def request_rights(
    tenant: Tenant,
    post: UgcPost,
    *,
    scopes: Sequence[str],
    request_text: str,
    duration_days: int | None = None,
    territory: str = "worldwide",
    actor: str = "merchant",
    now: datetime | None = None,
) -> UgcRightsGrant:
    open_request = tenant.first(
        UgcRightsGrant, UgcRightsGrant.ugc_post_id == post.id, UgcRightsGrant.status == "requested"
    )
    if open_request is not None:
        raise InvalidTransition(f"rights request {open_request.id} is still waiting for an answer")
    errors: dict[str, str] = {}
    if not scopes:
        errors["scopes"] = "must name at least one of: on_site, email, ads"
    if not request_text.strip():
        errors["request_text"] = "is required: it is part of the consent evidence"
    if errors:
        raise ValidationFailed(errors)
    grant = tenant.add(
        UgcRightsGrant(
            ugc_post_id=post.id,
            status="requested",
            scope_on_site="on_site" in scopes,
            scope_email="email" in scopes,
            scope_ads="ads" in scopes,
            duration_days=duration_days,
            territory=territory.strip() or "worldwide",
            request_text=request_text.strip(),
            requested_at=now or utcnow(),
        )
    )
    tenant.session.flush()
    audit(tenant, post, "rights", "requested", actor, grant_id=grant.id, scopes=list(scopes))
    return grant


def get_grant(tenant: Tenant, grant_id: int) -> UgcRightsGrant:
    grant = tenant.get(UgcRightsGrant, grant_id)
    if grant is None:
        raise NotFound(f"rights grant {grant_id} not found")
    return grant


def grant_rights(
    tenant: Tenant,
    grant: UgcRightsGrant,
    *,
    reply_text: str | None = None,
    evidence_url: str | None = None,
    consented_at: datetime | None = None,
    starts_at: datetime | None = None,
    actor: str = "merchant",
    now: datetime | None = None,
) -> UgcRightsGrant:
    """Record the author's yes with its evidence; the expiry is fixed from the duration."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    reply = (reply_text or "").strip() or None
    if reply is None and not evidence_url:
        errors["reply_text"] = "give the author's reply or a permalink to it (evidence_url)"
    if evidence_url and safe_link_url(evidence_url) is None:
        errors["evidence_url"] = "must be an https URL"
    if consented_at is not None and consented_at > now:
        errors["consented_at"] = "must not be in the future"
    if errors:
        raise ValidationFailed(errors)
    _transition(grant, "granted")
    grant.reply_text = reply
    grant.evidence_url = evidence_url
    grant.consented_at = consented_at or now
    grant.starts_at = starts_at or grant.consented_at
    grant.expires_at = grant_expiry(grant.starts_at, grant.duration_days)
    _close(tenant, grant, "granted", actor, None, now=None)
    return grant


def decline_rights(
    tenant: Tenant, grant: UgcRightsGrant, reason: str | None = None, actor: str = "merchant"
) -> UgcRightsGrant:
    _transition(grant, "declined")
    _close(tenant, grant, "declined", actor, reason, now=utcnow())
    return grant


def revoke_rights(
    tenant: Tenant,
    grant: UgcRightsGrant,
    reason: str | None = None,
    actor: str = "merchant",
    now: datetime | None = None,
) -> UgcRightsGrant:
    """The author withdrew consent: the post leaves every storefront at once."""
    _transition(grant, "revoked")
    _close(tenant, grant, "revoked", actor, reason, now=now or utcnow())
    return grant


def expire_due_grants(session: Session, now: datetime | None = None) -> int:
    """Mark granted rights past their expiry as expired (all shops); safe to run any time.

    Serving never waits for this: the storefront query compares expires_at with the clock. This
    keeps the merchant's view and audit trail honest.
    """
    now = now or utcnow()
    due = list(
        session.scalars(
            select(UgcRightsGrant).where(
                UgcRightsGrant.status == "granted", UgcRightsGrant.expires_at <= now
            )
        )
    )
    for grant in due:
        tenant = Tenant(session, grant.shop_id)
        _transition(grant, "expired")
        _close(tenant, grant, "expired", "system", None, now=now)
    return len(due)


def _transition(grant: UgcRightsGrant, target: str) -> None:
    if not can_transition(grant.status, target):
        raise InvalidTransition(f"a {grant.status} rights grant cannot become {target}")
    grant.status = target


def _close(
    tenant: Tenant,
    grant: UgcRightsGrant,
    action: str,
    actor: str,
    reason: str | None,
    *,
    now: datetime | None,
) -> None:
    if now is not None:
        grant.closed_at = now
        grant.reason = (reason or "").strip() or None
    post = get_post(tenant, grant.ugc_post_id)
    audit(
        tenant,
        post,
        "rights",
        action,
        actor,
        grant_id=grant.id,
        reason=grant.reason,
        expires_at=grant.expires_at.isoformat() if grant.expires_at else None,
    )
    bump_feed_version(tenant.session, tenant.shop_id)
