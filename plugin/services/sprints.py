"""Referral sprints: a window in which each creator earns a micro-credit per qualifying order.

A qualifying order is attributed to the creator (through the sprint's campaign, if it names one),
not a self-referral, placed in [starts_at, ends_at), paid, and neither cancelled, deleted, fully
refunded nor a test. Counted with one SQL aggregate over attributions and orders.

Settlement posts one "bonus" ledger entry per creator, keyed `sprint:<id>:creator:<id>`, held
like commissions until the shop's hold period after the sprint's end. The sprint row is locked
and stamped in the same transaction, and the ledger keys are unique, so settling twice (or two
workers at once) credits nobody twice. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin import background
from plugin.domain import rewards as rules
from plugin.domain.money import format_minor_units
from plugin.domain.rewards import Standing
from plugin.domain.validation import ValidationFailed
from plugin.models import Attribution, Campaign, Creator, Order, Shop, utcnow
from plugin.models.rewards import ReferralSprint
from plugin.services.ledger import post_entry
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

COUNTED_STATUSES = ("paid", "partially_refunded")
# Time for late webhooks and the periodic reconciliation to land before a sprint is settled
# automatically; a merchant may settle by hand as soon as it ends.
SETTLE_DELAY = timedelta(hours=1)
SPRINT_FIELDS = (
    "name",
    "starts_at",
    "ends_at",
    "credit_per_order_minor",
    "cap_per_creator_minor",
    "campaign_id",
)


class SprintConflict(Exception):
    """A change the sprint's current state does not allow."""


def create_sprint(
    tenant: Tenant, shop: Shop, values: Mapping[str, Any], *, now: datetime | None = None
) -> ReferralSprint:
    now = now or utcnow()
    _check(tenant, values, values["starts_at"], values["ends_at"])
    if values["ends_at"] <= now:
        raise ValidationFailed({"ends_at": "must be in the future"})
    sprint = tenant.add(
        ReferralSprint(
            name=values["name"],
            starts_at=values["starts_at"],
            ends_at=values["ends_at"],
            credit_per_order_minor=values["credit_per_order_minor"],
            cap_per_creator_minor=values.get("cap_per_creator_minor"),
            campaign_id=values.get("campaign_id"),
            currency=shop.currency,
        )
    )
    tenant.session.flush()
    return sprint


def update_sprint(
    tenant: Tenant, sprint: ReferralSprint, values: Mapping[str, Any]
) -> ReferralSprint:
    if sprint.settled_at is not None:
        raise SprintConflict("a settled sprint cannot change")
    starts_at = values.get("starts_at", sprint.starts_at)
    ends_at = values.get("ends_at", sprint.ends_at)
    _check(tenant, values, starts_at, ends_at)
    for name in SPRINT_FIELDS:
        if name in values:
            setattr(sprint, name, values[name])
    tenant.session.flush()
    return sprint


def delete_sprint(tenant: Tenant, sprint: ReferralSprint) -> None:
    if sprint.settled_at is not None:
        raise SprintConflict("a settled sprint has ledger entries and cannot be deleted")
    tenant.session.delete(sprint)


def _check(
    tenant: Tenant, values: Mapping[str, Any], starts_at: datetime, ends_at: datetime
) -> None:
    errors = rules.window_errors(starts_at, ends_at)
    campaign_id = values.get("campaign_id")
    if campaign_id is not None and tenant.get(Campaign, campaign_id) is None:
        errors["campaign_id"] = "is not a campaign of this shop"
    if errors:
        raise ValidationFailed(errors)


def request_settlement(tenant: Tenant, sprint: ReferralSprint) -> None:
    """Queue the settlement of an ended sprint (after the caller commits)."""

    status = state(sprint)
    if status == "settled":
        raise SprintConflict("this sprint is already settled")
    if status != "ended":
        raise SprintConflict("a sprint can be settled once it has ended")
    background.after_commit(tenant.session, background.SETTLE_SPRINT, sprint.id)


def state(sprint: ReferralSprint, now: datetime | None = None) -> str:
    return rules.sprint_state(sprint.starts_at, sprint.ends_at, sprint.settled_at, now or utcnow())


def qualifying_counts(
    session: Session, sprint: ReferralSprint, until: datetime
) -> list[tuple[int, int]]:
    """(creator id, qualifying orders placed in [starts_at, until)), one SQL aggregate."""
    shop_id = sprint.shop_id
    query = (
        select(Attribution.creator_id, func.count(Order.id))
        .join(Order, Order.id == Attribution.order_id)
        .join(Creator, Creator.id == Attribution.creator_id)
        .where(
            Attribution.shop_id == shop_id,
            Order.shop_id == shop_id,
            Creator.shop_id == shop_id,
            Attribution.self_referral.is_(False),
            Order.placed_at >= sprint.starts_at,
            Order.placed_at < until,
            Order.paid_at.is_not(None),
            Order.cancelled_at.is_(None),
            Order.deleted_at.is_(None),
            Order.is_test.is_(False),
            Order.status.in_(COUNTED_STATUSES),
        )
        .group_by(Attribution.creator_id)
    )
    if sprint.campaign_id is not None:
        query = query.where(Attribution.campaign_id == sprint.campaign_id)
    return [(int(creator_id), int(count)) for creator_id, count in session.execute(query)]


def leaderboard(
    session: Session, sprint: ReferralSprint, now: datetime | None = None
) -> list[Standing]:
    """Standings so far (the final ones once the sprint has ended)."""
    until = min(now or utcnow(), sprint.ends_at)
    if until <= sprint.starts_at:
        return []
    return rules.rank_standings(
        qualifying_counts(session, sprint, until),
        sprint.credit_per_order_minor,
        sprint.cap_per_creator_minor,
    )


def creator_handles(tenant: Tenant, creator_ids: list[int]) -> dict[int, str]:
    if not creator_ids:
        return {}
    rows = tenant.session.execute(
        select(Creator.id, Creator.handle).where(
            Creator.shop_id == tenant.shop_id, Creator.id.in_(creator_ids)
        )
    )
    return {int(creator_id): handle for creator_id, handle in rows}


def settle_sprint(
    session: Session, sprint_id: int, *, now: datetime | None = None
) -> ReferralSprint | None:
    """Credit every creator of an ended sprint once; None when it is gone, running or settled."""
    now = now or utcnow()
    # A second settler waits on this lock, then finds the sprint settled and does nothing.
    sprint = session.scalars(
        select(ReferralSprint)
        .where(ReferralSprint.id == sprint_id, ReferralSprint.settled_at.is_(None))
        .with_for_update()
    ).first()
    if sprint is None or sprint.ends_at > now:
        return None
    shop = session.get(Shop, sprint.shop_id)
    if shop is None:
        return None
    available_at = sprint.ends_at + timedelta(days=shop.hold_days)
    total = creators = 0
    for standing in leaderboard(session, sprint, sprint.ends_at):
        if standing.credit_minor <= 0:
            continue
        posted = post_entry(
            session,
            shop.id,
            creator_id=standing.creator_id,
            kind="bonus",
            amount_minor=standing.credit_minor,
            currency=sprint.currency,
            available_at=available_at,
            idempotency_key=rules.settlement_key(sprint.id, standing.creator_id),
            reason=_reason(sprint, standing),
        )
        if not posted:
            logger.warning(
                "sprint %s: creator %s was already credited", sprint.id, standing.creator_id
            )
        total += standing.credit_minor
        creators += 1
    sprint.settled_at = now
    sprint.settled_total_minor = total
    sprint.settled_creators = creators
    session.flush()
    return sprint


def _reason(sprint: ReferralSprint, standing: Standing) -> str:
    def money(minor: int) -> str:
        return f"{sprint.currency} {format_minor_units(minor, sprint.currency)}"

    text = (
        f"Referral sprint {sprint.name!r}: {standing.orders} orders x "
        f"{money(sprint.credit_per_order_minor)}"
    )
    cap = sprint.cap_per_creator_minor
    if cap is not None and standing.orders * sprint.credit_per_order_minor > cap:
        text += f", capped at {money(cap)}"
    return text


def due_sprint_ids(session: Session, now: datetime | None = None) -> list[int]:
    """Unsettled sprints that ended at least SETTLE_DELAY ago, of shops still installed."""
    cutoff = (now or utcnow()) - SETTLE_DELAY
    return list(
        session.scalars(
            select(ReferralSprint.id)
            .join(Shop, Shop.id == ReferralSprint.shop_id)
            .where(
                ReferralSprint.settled_at.is_(None),
                ReferralSprint.ends_at <= cutoff,
                Shop.status != "uninstalled",
            )
            .order_by(ReferralSprint.id)
        )
    )
