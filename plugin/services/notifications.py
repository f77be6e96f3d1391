"""One function per event a person hears about by email. Each renders its message once and queues
it under a key naming the event, so asking twice (a retried request or job) sends one email.

For other modules (contracts, deliverables): call `contract_changed` / `deliverable_reviewed`
inside your transaction; the email goes out after commit from the `send_email` job.
Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.domain import rewards as reward_rules
from plugin.domain.money import format_minor_units
from plugin.models import Creator, LedgerEntry, Payout, Shop
from plugin.models.joining import CreatorApplication, CreatorInvitation
from plugin.models.ugc import Reward
from plugin.services.emails import Email, queue_email


def money(minor: int, currency: str) -> str:
    return f"{currency} {format_minor_units(minor, currency)}"


PAYOUT_METHOD_LABELS = {
    "bank_transfer": "bank transfer",
    "paypal": "PayPal",
    "store_credit": "store credit",
}


def creator_invited(
    session: Session, shop: Shop, invitation: CreatorInvitation, accept_url: str
) -> int | None:
    return queue_email(
        session,
        shop,
        Email(
            key=f"invitation:{invitation.id}:sent",
            event="creator_invited",
            to=invitation.email,
            template="invitation",
            context={
                "name": invitation.name,
                "message": invitation.message,
                "accept_url": accept_url,
                "expires_at": invitation.expires_at,
            },
        ),
    )


def application_approved(
    session: Session,
    shop: Shop,
    application: CreatorApplication,
    portal_url: str,
    *,
    code: str | None = None,
    link_url: str | None = None,
) -> int | None:
    return queue_email(
        session,
        shop,
        Email(
            key=f"application:{application.id}:approved",
            event="application_approved",
            to=application.email,
            template="application_approved",
            context={
                "name": application.name,
                "portal_url": portal_url,
                "code": code,
                "link_url": link_url,
                "message": application.decision_message,
            },
        ),
    )


def application_declined(
    session: Session, shop: Shop, application: CreatorApplication
) -> int | None:
    return queue_email(
        session,
        shop,
        Email(
            key=f"application:{application.id}:declined",
            event="application_declined",
            to=application.email,
            template="application_declined",
            context={"name": application.name, "message": application.decision_message},
        ),
    )


def payout_status_changed(session: Session, payout: Payout) -> int | None:
    """The creator hears when a payout is approved and when it is paid (one email each)."""
    if payout.status not in ("approved", "paid"):
        return None
    shop = session.get(Shop, payout.shop_id)
    creator = session.get(Creator, payout.creator_id)
    recipient = creator and (creator.payout_email or creator.email)
    if shop is None or creator is None or not recipient:
        return None
    entries = session.scalar(
        select(func.count(LedgerEntry.id)).where(LedgerEntry.payout_id == payout.id)
    )
    return queue_email(
        session,
        shop,
        Email(
            key=f"payout:{payout.id}:{payout.status}",
            event=f"payout_{payout.status}",
            to=recipient,
            template="payout",
            context={
                "name": creator.name or "@" + creator.handle,
                "status": payout.status,
                "amount": money(payout.amount_minor, payout.currency),
                "method": PAYOUT_METHOD_LABELS.get(creator.payout_method, ""),
                "reference": payout.reference,
                "entries": int(entries or 0),
            },
        ),
    )


def try_and_tag_reward(
    session: Session, shop: Shop, reward: Reward, email: str, status_url: str
) -> int | None:
    """The shopper's code (or store credit); their address is forgotten once it is sent."""
    return queue_email(
        session,
        shop,
        Email(
            key=f"reward:{reward.id}:issued",
            event="try_and_tag_reward",
            to=email,
            template="reward",
            forget_address=True,
            context={
                "kind": reward.kind,
                "code": reward.code,
                "amount": money(reward.amount_minor, reward.currency),
                "offer": reward_rules.describe_offer(
                    reward.discount_kind, reward.discount_value, reward.currency
                ),
                "expires_at": reward.expires_at,
                "status_url": status_url,
            },
        ),
    )


def try_and_tag_needs_change(
    session: Session,
    shop: Shop,
    reward: Reward,
    email: str,
    status_url: str,
    reason: str,
    attempt: int,
) -> int | None:
    """Back to the shopper: why the post cannot be rewarded yet (one email per check round)."""
    return queue_email(
        session,
        shop,
        Email(
            key=f"reward:{reward.id}:needs-change:{attempt}",
            event="try_and_tag_needs_change",
            to=email,
            template="reward_needs_change",
            context={"reason": reason, "status_url": status_url},
        ),
    )


def contract_changed(
    session: Session,
    shop: Shop,
    creator: Creator,
    *,
    agreement_id: int,
    version: int,
    portal_url: str | None = None,
) -> int | None:
    """The creator's terms changed: please read and accept the new version."""
    return _creator_update(
        session,
        shop,
        creator,
        key=f"agreement:{agreement_id}:version:{version}:accept",
        event="contract_changed",
        headline="Your agreement changed and needs your acceptance",
        detail="Nothing changes for you until you accept the new terms on your creator page.",
        action_url=portal_url,
        action_label="Read and accept the new terms",
    )


def deliverable_reviewed(
    session: Session,
    shop: Shop,
    creator: Creator,
    *,
    deliverable_id: int,
    decision: str,
    note: str = "",
    reviewed_at: datetime | None = None,
    portal_url: str | None = None,
) -> int | None:
    """A deliverable was approved or needs changes (one email per review)."""
    stamp = reviewed_at.isoformat() if reviewed_at else decision
    approved = decision == "approved"
    return _creator_update(
        session,
        shop,
        creator,
        key=f"deliverable:{deliverable_id}:review:{stamp}",
        event="deliverable_reviewed",
        headline="Your deliverable was approved" if approved else "Your deliverable needs changes",
        detail=note,
        action_url=portal_url,
        action_label="Open your creator page",
    )


def _creator_update(
    session: Session,
    shop: Shop,
    creator: Creator,
    *,
    key: str,
    event: str,
    headline: str,
    detail: str,
    action_url: str | None,
    action_label: str,
) -> int | None:
    if not creator.email:
        return None
    return queue_email(
        session,
        shop,
        Email(
            key=key,
            event=event,
            to=creator.email,
            template="creator_update",
            context={
                "name": creator.name or "@" + creator.handle,
                "headline": headline,
                "detail": detail,
                "action_url": action_url,
                "action_label": action_label,
            },
        ),
    )
