"""Deliverables: the work an agreement lists, submitted by the creator and reviewed by the merchant.

Rows mirror the agreement's `deliverables` terms by position. A terms change updates what each
position asks for and keeps its progress; a position already submitted or approved cannot be
removed (its history and any fee it made due stay meaningful). Submissions run the disclosure
check on the caption the creator posted; every submission, check and review is appended to the
deliverable's audit trail. Approving a deliverable books its flat-fee share (payment schedule
"on_delivery") through the flat-fee job, after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from plugin import background
from plugin.domain import contracts as rules
from plugin.domain.disclosure import check_disclosure
from plugin.domain.validation import ValidationFailed
from plugin.models import Agreement, Creator, Deliverable, DeliverableEvent, Shop, utcnow
from plugin.services import contract_notices
from plugin.services.ugc import ugc_settings
from plugin.tenancy import Tenant

MAX_URL = 2048
MAX_TEXT = 5000
STARTED = ("submitted", "changes_requested", "approved")


def _due(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def for_agreement(tenant: Tenant, agreement_id: int) -> list[Deliverable]:
    return list(
        tenant.session.scalars(
            tenant.select(Deliverable, Deliverable.agreement_id == agreement_id).order_by(
                Deliverable.position
            )
        )
    )


def check_removable(tenant: Tenant, agreement: Agreement, count: int) -> None:
    """Terms listing `count` deliverables must not drop one already handed in."""
    for row in for_agreement(tenant, agreement.id):
        if row.position >= count and row.status in STARTED:
            raise ValidationFailed(
                {
                    "deliverables": f"deliverable {row.position + 1} ({row.kind}) is already "
                    f"{row.status.replace('_', ' ')} and cannot be removed"
                }
            )


def sync_deliverables(tenant: Tenant, agreement: Agreement) -> list[Deliverable]:
    """Make the rows match the agreement's listed deliverables (by position)."""
    wanted = list(agreement.deliverables or [])
    check_removable(tenant, agreement, len(wanted))
    rows = {row.position: row for row in for_agreement(tenant, agreement.id)}
    for position, row in list(rows.items()):
        if position >= len(wanted):
            tenant.session.delete(row)
    result = []
    for position, item in enumerate(wanted):
        row = rows.get(position)
        if row is None:
            row = tenant.add(
                Deliverable(agreement_id=agreement.id, creator_id=agreement.creator_id)
            )
            row.position = position
        row.kind = str(item.get("kind") or "deliverable")[:64]
        row.quantity = int(item.get("quantity") or 1)
        row.due_at = _due(item.get("due_at"))
        row.brief = str(item.get("notes") or "")
        result.append(row)
    tenant.session.flush()
    return result


def audit(
    tenant: Tenant, deliverable: Deliverable, category: str, action: str, actor: str, **detail: Any
) -> DeliverableEvent:
    return tenant.add(
        DeliverableEvent(
            deliverable_id=deliverable.id,
            category=category,
            action=action,
            actor=actor[:200],
            detail=detail,
        )
    )


def history(tenant: Tenant, deliverable_id: int) -> list[DeliverableEvent]:
    return list(
        tenant.session.scalars(
            tenant.select(
                DeliverableEvent, DeliverableEvent.deliverable_id == deliverable_id
            ).order_by(DeliverableEvent.occurred_at.desc(), DeliverableEvent.id.desc())
        )
    )


def clean_post_url(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        raise ValidationFailed({"post_url": "is required"})
    if len(url) > MAX_URL:
        raise ValidationFailed({"post_url": f"must be at most {MAX_URL} characters"})
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        raise ValidationFailed({"post_url": "must be the https:// address of the published post"})
    return url


def submit(
    tenant: Tenant,
    deliverable: Deliverable,
    creator: Creator,
    *,
    post_url: str,
    caption: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> Deliverable:
    """The creator hands in (or corrects) a deliverable; the disclosure check runs on it."""
    errors = {}
    try:
        url = clean_post_url(post_url)
    except ValidationFailed as failed:
        errors.update(failed.fields)
    if len(caption) > MAX_TEXT:
        errors["caption"] = f"must be at most {MAX_TEXT} characters"
    if len(notes) > MAX_TEXT:
        errors["notes"] = f"must be at most {MAX_TEXT} characters"
    if errors:
        raise ValidationFailed(errors)
    if deliverable.creator_id != creator.id:
        raise LookupError("not this creator's deliverable")
    agreement = tenant.get(Agreement, deliverable.agreement_id)
    if agreement is None or agreement.status not in ("active", "completed"):
        raise rules.DeliverableTransitionError("this agreement is not running")
    if agreement.terms_version and agreement.signed_at is None:
        raise rules.DeliverableTransitionError("accept the agreement before handing in work")
    status = rules.next_status(deliverable.status, "submit")
    moment = now or utcnow()
    deliverable.status = status
    deliverable.post_url = url
    deliverable.caption = caption.strip()
    deliverable.creator_notes = notes.strip()
    deliverable.submitted_at = moment
    actor = f"creator @{creator.handle}"
    tenant.session.flush()
    audit(tenant, deliverable, "submission", "submitted", actor, post_url=url, notes=notes.strip())
    run_disclosure_check(tenant, deliverable, actor, moment)
    tenant.session.flush()
    return deliverable


def run_disclosure_check(
    tenant: Tenant, deliverable: Deliverable, actor: str, now: datetime | None = None
) -> bool:
    shop = tenant.session.get(Shop, tenant.shop_id)
    phrases = ugc_settings(shop.settings if shop else None).disclosure_phrases
    result = check_disclosure(deliverable.caption, phrases)
    deliverable.disclosure_ok = result.disclosed
    deliverable.disclosure_matches = list(result.matches)
    audit(
        tenant,
        deliverable,
        "disclosure",
        "passed" if result.disclosed else "missing",
        actor,
        matches=list(result.matches),
        prominent=result.prominent,
        flagged=result.flagged,
        caption_checked=bool(deliverable.caption),
        checked_at=(now or utcnow()).isoformat(),
    )
    return result.disclosed


def review(
    tenant: Tenant,
    deliverable: Deliverable,
    decision: str,
    message: str = "",
    *,
    actor: str = "merchant",
    now: datetime | None = None,
) -> Deliverable:
    """Approve, or ask for changes (a message is then required)."""
    if decision not in rules.REVIEW_DECISIONS:
        raise ValidationFailed({"decision": "must be one of: " + ", ".join(rules.REVIEW_DECISIONS)})
    message = (message or "").strip()
    if decision == "request_changes" and not message:
        raise ValidationFailed({"message": "tell the creator what to change"})
    if len(message) > MAX_TEXT:
        raise ValidationFailed({"message": f"must be at most {MAX_TEXT} characters"})
    step = "approve" if decision == "approve" else "request_changes"
    deliverable.status = rules.next_status(deliverable.status, step)
    moment = now or utcnow()
    deliverable.reviewed_at = moment
    deliverable.feedback = message
    if step == "approve":
        deliverable.approved_at = moment

        background.after_commit(tenant.session, background.POST_SHOP_FLAT_FEES, tenant.shop_id)
    audit(
        tenant,
        deliverable,
        "review",
        "approved" if step == "approve" else "changes_requested",
        actor,
        message=message,
        disclosure_ok=deliverable.disclosure_ok,
    )
    tenant.session.flush()
    contract_notices.notify_deliverable_reviewed(tenant.session, deliverable.id)
    return deliverable


def open_work(tenant: Tenant, limit: int = 200) -> list[Deliverable]:
    """Deliverables waiting on someone: due, submitted or sent back; submitted first."""
    rows = tenant.all(Deliverable, Deliverable.status != "approved")
    order = {"submitted": 0, "changes_requested": 1, "due": 2}
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda d: (order.get(d.status, 3), d.due_at or far, d.id))
    return rows[:limit]
