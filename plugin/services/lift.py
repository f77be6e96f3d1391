"""Lift tests: create, launch (randomize once, then freeze), hold later waves, activate waves, end.

A staggered launch draws its schedule once, at launch, from the test's recorded seed
(lift_schedule.assign: who goes in which wave, and each wave's date anywhere in the rollout of
waves x wave_days days) and stores each creator's go-live moment (launch + their day). It holds
each creator whose date is later than the launch back until that date through the existing
code and link services: the creator's campaign codes wait as `scheduled` (never sent to the
store) and their campaign links are switched off; `activate_due_waves` (a periodic job) turns
them on at the date: links back on, codes to `pending` and the usual creation job, so the code
reaches the store through the connector only then. Every step is conditional on the row's
current state, so running it twice changes nothing.

What the merchant configured and the randomization (seed, assignment) cannot change once the
test is running: updates are refused, assignments are only ever inserted.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import background
from plugin.domain.lift_schedule import assign
from plugin.domain.validation import InvalidTransition, ValidationFailed
from plugin.models import (
    Agreement,
    Campaign,
    Creator,
    DiscountCode,
    LiftAssignment,
    LiftTest,
    ReferralLink,
    utcnow,
)
from plugin.tenancy import Tenant

SEED_BITS = 48
OPEN_STATUSES = ("draft", "running")
SETTINGS = ("name", "product_ids", "waves", "wave_days", "holdout_bps")
SETTINGS += ("baseline_days", "duration_days")
DEFAULTS: dict[str, Any] = {
    "product_ids": [],
    "waves": 4,
    "wave_days": 7,
    "holdout_bps": 1000,
    "baseline_days": 28,
    "duration_days": 28,
}


def new_seed() -> int:
    return secrets.randbits(SEED_BITS)


def create_test(tenant: Tenant, values: Mapping[str, Any]) -> LiftTest:
    campaign = tenant.get(Campaign, values["campaign_id"])
    if campaign is None:
        raise ValidationFailed({"campaign_id": "does not exist in this shop"})
    if open_test(tenant, campaign.id) is not None:
        raise ValidationFailed({"campaign_id": "already has a lift test that has not ended"})
    seed = values.get("seed")
    test = LiftTest(
        campaign_id=campaign.id,
        name=values.get("name") or f"{campaign.name} lift test",
        design=values["design"],
        seed=new_seed() if seed is None else seed,
        **{**DEFAULTS, **{key: values[key] for key in SETTINGS if key in values and key != "name"}},
    )
    _check_schedule(test)
    tenant.add(test)
    tenant.session.flush()
    return test


def update_test(tenant: Tenant, test: LiftTest, values: Mapping[str, Any]) -> LiftTest:
    if test.status != "draft":
        raise InvalidTransition(
            f"a {test.status} lift test cannot change: its design and randomization are fixed "
            "at launch"
        )
    for key in SETTINGS:
        if key in values:
            setattr(test, key, values[key])
    _check_schedule(test)
    tenant.session.flush()
    return test


def _check_schedule(test: LiftTest) -> None:
    if test.design == "staggered" and test.waves < 2:
        raise ValidationFailed({"waves": "a staggered launch needs at least 2 waves"})
    if test.design == "holdout" and not 0 < test.holdout_bps < 10_000:
        raise ValidationFailed({"holdout_bps": "must be between 1 and 9999"})


def open_test(tenant: Tenant, campaign_id: int) -> LiftTest | None:
    return tenant.first(
        LiftTest, LiftTest.campaign_id == campaign_id, LiftTest.status.in_(OPEN_STATUSES)
    )


def participants(tenant: Tenant, campaign_id: int) -> list[Creator]:
    """Active creators with an agreement or a referral link in the campaign, by id."""
    agreed = select(Agreement.creator_id).where(
        Agreement.shop_id == tenant.shop_id, Agreement.campaign_id == campaign_id
    )
    linked = select(ReferralLink.creator_id).where(
        ReferralLink.shop_id == tenant.shop_id, ReferralLink.campaign_id == campaign_id
    )
    return tenant.all(
        Creator,
        Creator.status == "active",
        Creator.id.in_(agreed.union(linked).scalar_subquery()),
    )


def assignments(tenant: Tenant, test_id: int) -> list[LiftAssignment]:
    return sorted(
        tenant.all(LiftAssignment, LiftAssignment.test_id == test_id),
        key=lambda row: (row.wave, row.creator_id),
    )


def launch(tenant: Tenant, test: LiftTest, now: datetime | None = None) -> LiftTest:
    """Start the test. A staggered launch draws the schedule from the recorded seed, stores it,
    holds the campaign codes and links of every creator not live yet, and switches on those
    whose date is the launch itself."""
    if test.status != "draft":
        raise InvalidTransition(f"a {test.status} lift test cannot be launched again")
    launched = now or utcnow()
    if test.design == "staggered":
        creators = participants(tenant, test.campaign_id)
        if len(creators) < 2:
            raise InvalidTransition(
                "a staggered launch needs at least 2 active creators with an agreement or a "
                "link in the campaign"
            )
        live = _live_codes(tenant, test.campaign_id)
        schedule = assign(
            [creator.id for creator in creators], test.waves, test.waves * test.wave_days, test.seed
        )
        blocked = sorted(code for creator_id, code in live if schedule[creator_id][1] > 0)
        if blocked:
            raise InvalidTransition(
                "these codes are already live in the store and cannot be held back until a later "
                f"go-live date: {', '.join(blocked)}; launch before issuing the campaign's codes"
            )
        for creator_id, (wave, day) in sorted(schedule.items()):
            row = LiftAssignment(
                test_id=test.id,
                creator_id=creator_id,
                wave=wave,
                day=day,
                starts_at=launched + timedelta(days=day),
            )
            tenant.add(row)
            _hold(tenant, test, row)
    test.status = "running"
    test.launched_at = launched
    tenant.session.flush()
    if test.design == "staggered":
        activate_due(tenant.session, launched, shop_id=tenant.shop_id)
    return test


def end(tenant: Tenant, test: LiftTest, now: datetime | None = None) -> LiftTest:
    """Stop the test; creators still waiting for their wave go live now."""
    if test.status != "running":
        raise InvalidTransition(f"a {test.status} lift test cannot be ended")
    test.status = "ended"
    test.ended_at = now or utcnow()
    tenant.session.flush()
    for row in tenant.all(
        LiftAssignment, LiftAssignment.test_id == test.id, LiftAssignment.activated_at.is_(None)
    ):
        _activate(tenant, test, row, test.ended_at)
    return test


# --- holding and releasing a creator's codes and links ---------------------------------------


def _campaign_codes(tenant: Tenant, campaign_id: int, creator_id: int | None = None) -> Any:
    agreements = select(Agreement.id).where(
        Agreement.shop_id == tenant.shop_id, Agreement.campaign_id == campaign_id
    )
    criteria = [DiscountCode.agreement_id.in_(agreements.scalar_subquery())]
    if creator_id is not None:
        criteria.append(DiscountCode.creator_id == creator_id)
    return criteria


def _live_codes(tenant: Tenant, campaign_id: int) -> list[tuple[int, str]]:
    rows = tenant.all(
        DiscountCode, DiscountCode.status == "active", *_campaign_codes(tenant, campaign_id)
    )
    return [(row.creator_id, row.code) for row in rows]


def _hold(tenant: Tenant, test: LiftTest, row: LiftAssignment) -> None:
    if row.day == 0:
        return
    for code in tenant.all(
        DiscountCode,
        DiscountCode.status == "pending",
        *_campaign_codes(tenant, test.campaign_id, row.creator_id),
    ):
        code.status = "scheduled"
        code.starts_at = max(code.starts_at, row.starts_at)
    held = []
    for link in tenant.all(
        ReferralLink,
        ReferralLink.campaign_id == test.campaign_id,
        ReferralLink.creator_id == row.creator_id,
        ReferralLink.active.is_(True),
    ):
        link.active = False
        held.append(str(link.id))
    row.held_link_ids = held


def waiting_assignment(
    tenant: Tenant, creator_id: int, campaign_id: int | None
) -> LiftAssignment | None:
    """The creator's wave in a running staggered test of the campaign, if it has not started."""
    if campaign_id is None:
        return None
    return tenant.session.scalars(
        select(LiftAssignment)
        .join(LiftTest, LiftTest.id == LiftAssignment.test_id)
        .where(
            LiftAssignment.shop_id == tenant.shop_id,
            LiftAssignment.creator_id == creator_id,
            LiftAssignment.activated_at.is_(None),
            LiftTest.campaign_id == campaign_id,
            LiftTest.status == "running",
            LiftTest.design == "staggered",
        )
    ).first()


def hold_new_code(tenant: Tenant, code: DiscountCode) -> bool:
    """Called when a code is created: True (and the code scheduled) if its creator's wave has
    not started, so it must not reach the store yet."""
    if code.agreement_id is None:
        return False
    agreement = tenant.get(Agreement, code.agreement_id)
    row = waiting_assignment(tenant, code.creator_id, agreement.campaign_id if agreement else None)
    if row is None:
        return False
    code.status = "scheduled"
    code.starts_at = max(code.starts_at, row.starts_at)
    return True


def hold_new_link(tenant: Tenant, link: ReferralLink) -> None:
    """Called when a link is created: off until the creator's wave starts, if it has not."""
    row = waiting_assignment(tenant, link.creator_id, link.campaign_id)
    if row is not None:
        link.active = False
        row.held_link_ids = [*row.held_link_ids, str(link.id)]


def activate_due(session: Session, now: datetime, *, shop_id: int | None = None) -> int:
    """Switch on every wave whose date has come (each assignment once). Returns how many."""
    statement = (
        select(LiftAssignment)
        .join(LiftTest, LiftTest.id == LiftAssignment.test_id)
        .where(
            LiftAssignment.activated_at.is_(None),
            LiftAssignment.starts_at <= now,
            LiftTest.status == "running",
        )
        .order_by(LiftAssignment.id)
        .with_for_update(skip_locked=True, of=LiftAssignment)
    )
    if shop_id is not None:
        statement = statement.where(LiftAssignment.shop_id == shop_id)
    rows = list(session.scalars(statement))
    for row in rows:
        tenant = Tenant(session, row.shop_id)
        test = tenant.get(LiftTest, row.test_id)
        if test is not None:
            _activate(tenant, test, row, now)
    return len(rows)


def _activate(tenant: Tenant, test: LiftTest, row: LiftAssignment, now: datetime) -> None:

    for link_id in row.held_link_ids:
        link = tenant.get(ReferralLink, int(link_id))
        if link is not None:
            link.active = True
    for code in tenant.all(
        DiscountCode,
        DiscountCode.status == "scheduled",
        *_campaign_codes(tenant, test.campaign_id, row.creator_id),
    ):
        code.status = "pending"
        code.starts_at = min(code.starts_at, now)  # ended early: live from now
        background.after_commit(tenant.session, background.CREATE_DISCOUNT_CODE, code.id)
    row.activated_at = now
    tenant.session.flush()
