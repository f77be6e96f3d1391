"""Rewards jobs: Try & Tag discount codes, referral sprint settlement, rights expiry.

`issue_try_and_tag_reward` takes a post id and works from the reward's current state: a lease
(plugin.services.rewards.claim_reward) lets exactly one worker call the store at a time, and an
issued, failed or void reward is left alone, so running it twice or concurrently is safe. It
commits before every store call (no transaction or lock spans the network on either database).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from connectors.base import (
    CredentialsRevoked,
    DiscountCodeSpec,
    DiscountCodeTaken,
    RetryableConnectorError,
    StoreCreditSpec,
    TerminalConnectorError,
)
from plugin.db import get_session
from plugin.domain import rewards as rules
from plugin.extensions import connectors, credentials
from plugin.models import Shop, utcnow
from plugin.models.ugc import Reward, UgcPost
from plugin.services import notifications, post_checks, sprints
from plugin.services import rewards as service
from plugin.services.reward_contact import open_contact
from plugin.services.shops import mark_needs_reconnect, shop_context
from plugin.services.ugc_rights import expire_due_grants
from plugin.tenancy import Tenant
from workers.registry import RetryableJobError, job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)

# Longer than an issuing job's whole retry window: the sweeper only re-sends stuck rewards.
SWEEP_GRACE = timedelta(minutes=10)
UNCONFIRMED_CREDIT = "store-credit"


@job("rewards", timeout=60)
def issue_try_and_tag_reward(post_id: int) -> None:
    session = get_session()
    now = utcnow()
    post = session.get(UgcPost, post_id)
    if post is None or post.source != "try_and_tag" or post.moderation_status != "approved":
        session.rollback()  # gone, or rejected/hidden meanwhile: no reward
        return
    shop = session.get(Shop, post.shop_id)
    if shop is None or not shop.is_active:
        session.rollback()  # the sweeper comes back once the shop is reconnected
        return
    service.ensure_reward(session, post, shop)
    program = service.program_or_default(Tenant(session, shop.id))
    owed = Tenant(session, shop.id).first(Reward, Reward.ugc_post_id == post_id)
    if owed is not None and owed.status == "pending":
        verdict = post_checks.gate(shop, post, program)
        if verdict == post_checks.CHECK:
            post_checks.ask_for_check(session, post_id)  # which sends this job again on a pass
            session.commit()
            return
        if verdict:
            post_checks.hold(session, shop, post, owed, verdict, now)
            session.commit()
            return
    reward = service.claim_reward(session, post_id, now)
    if reward is None:
        session.commit()
        return
    if reward.attempts > rules.MAX_ISSUE_ATTEMPTS:
        service.mark_failed(
            reward, f"gave up after {rules.MAX_ISSUE_ATTEMPTS} attempts: {reward.error or ''}"
        )
        session.commit()
        return
    prefix, valid_days = program.code_prefix, program.code_valid_days
    if reward.kind == "store_credit":
        _issue_store_credit(session, shop, reward, valid_days, now)
        return
    if reward.code is None:
        reward.code = rules.new_reward_code(prefix)
    context = shop_context(session, credentials(), shop)
    connector = connectors().get(shop.platform)
    handle = post.author_handle
    session.commit()  # the lease is ours now

    tried = [reward.code]
    for _candidate in range(rules.MAX_CODE_CANDIDATES):
        expires_at = rules.code_expiry(now, valid_days)
        spec = DiscountCodeSpec(
            code=reward.code,
            title=f"Try & Tag @{handle}: {reward.code}",
            kind=reward.discount_kind,
            value=reward.discount_value,
            currency=reward.currency,
            starts_at=now,
            ends_at=expires_at,
            usage_limit=1,
            once_per_customer=True,
        )
        try:
            created = connector.create_discount_code(context, spec)
        except DiscountCodeTaken as exc:
            if reward.unconfirmed_code and exc.code.lower() == reward.unconfirmed_code.lower():
                # Our earlier call timed out after the store had created the code: it is ours.
                service.mark_issued(reward, platform_id=None, expires_at=expires_at, now=now)
                _tell_shopper(session, shop, reward)
                session.commit()
                return
            reward.code = rules.next_code(
                tried, exc.alternatives, lambda: rules.new_reward_code(prefix)
            )
            reward.unconfirmed_code = None
            tried.append(reward.code)
            session.commit()
            continue
        except RetryableConnectorError as exc:
            service.release(reward, str(exc), unconfirmed=True)
            session.commit()
            raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
        except CredentialsRevoked as exc:
            logger.warning(
                "shop %s revoked our credentials while rewarding post %s", shop.id, post_id
            )
            mark_needs_reconnect(session, shop.id)
            service.release(reward, str(exc))
        except TerminalConnectorError as exc:
            service.mark_failed(reward, str(exc))
        else:
            service.mark_issued(
                reward, platform_id=created.platform_id, expires_at=expires_at, now=now
            )
            reward.code = created.code
            _tell_shopper(session, shop, reward)
        session.commit()
        return
    service.mark_failed(reward, "the store had every candidate code already: " + ", ".join(tried))
    session.commit()


def _issue_store_credit(
    session: Session, shop: Shop, reward: Reward, valid_days: int, now: datetime
) -> None:
    """Credit the shopper's customer account (a coupon only their email can use on WooCommerce).

    Shopify's credit mutation has no idempotency key: after an answer that never arrived, the
    credit may exist, so the reward is failed for the merchant to check instead of paid twice.
    """
    contact = open_contact(reward)
    if contact is None:
        service.mark_failed(reward, "no shopper email to credit (it was not given or is gone)")
        session.commit()
        return
    if reward.unconfirmed_code == UNCONFIRMED_CREDIT:
        service.mark_failed(
            reward,
            "the store's answer to the credit was lost: check the customer's store credit in "
            "the store, then retry if it is missing",
        )
        session.commit()
        return
    context = shop_context(session, credentials(), shop)
    connector = connectors().get(shop.platform)
    expires_at = rules.code_expiry(now, valid_days)
    spec = StoreCreditSpec(
        customer_email=contact[0],
        amount_minor=reward.amount_minor,
        currency=reward.currency,
        reference=f"reward:{reward.id}",
        expires_at=expires_at,
    )
    session.commit()  # the lease is ours now
    try:
        issued = connector.issue_store_credit(context, spec)
    except RetryableConnectorError as exc:
        reward.error = str(exc)
        reward.lease_until = None
        reward.unconfirmed_code = UNCONFIRMED_CREDIT
        session.commit()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except CredentialsRevoked as exc:
        mark_needs_reconnect(session, shop.id)
        service.release(reward, str(exc))
    except TerminalConnectorError as exc:
        service.mark_failed(reward, str(exc))
    else:
        service.mark_issued(reward, platform_id=issued.platform_id, expires_at=expires_at, now=now)
        reward.code = issued.code
        _tell_shopper(session, shop, reward)
    session.commit()


def _tell_shopper(session: Session, shop: Shop, reward: Reward) -> None:
    """Email the code to the address given with the post, then forget the address."""
    contact = open_contact(reward)
    if contact is not None:
        email, token = contact
        notifications.try_and_tag_reward(
            session, shop, reward, email, post_checks.status_url(shop, token)
        )
    reward.email_encrypted = None


@job("periodic")
def sweep_pending_rewards() -> int:
    """Re-send rewards still owed after their own job had time to finish."""
    session = get_session()
    post_ids = service.stuck_post_ids(session, utcnow(), SWEEP_GRACE)
    session.rollback()
    for post_id in post_ids:
        enqueue(issue_try_and_tag_reward, post_id)
    return len(post_ids)


@job("rewards", timeout=120)
def settle_sprint(sprint_id: int) -> None:
    session = get_session()
    settled = sprints.settle_sprint(session, sprint_id)
    session.commit()
    if settled is not None:
        logger.info(
            "sprint %s settled: %s to %s creators",
            settled.id,
            settled.settled_total_minor,
            settled.settled_creators,
        )


@job("periodic")
def settle_due_sprints() -> int:
    session = get_session()
    sprint_ids = sprints.due_sprint_ids(session)
    session.rollback()
    for sprint_id in sprint_ids:
        enqueue(settle_sprint, sprint_id)
    return len(sprint_ids)


@job("periodic")
def expire_rights_grants() -> int:
    """Mark UGC usage rights past their end date as expired (plugin.services.ugc_rights)."""
    session = get_session()
    expired = expire_due_grants(session)
    session.commit()
    return expired
