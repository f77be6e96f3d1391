"""Try & Tag post checks: is the shopper's post still public, and does it disclose the reward?

`check_try_and_tag_post` (a job) fetches the post's public oEmbed/metadata through
plugin.services.safe_fetch and hands the outcome to `apply_outcome`, which records it on the post
and in its audit trail, re-runs the disclosure check on the caption it found, and moves the
reward: a post that is gone or undisclosed goes back to the shopper as `needs_change` with the
reason (by email and on their status page) and is never rewarded as is; a passing post that the
merchant approved goes on to the issuing job.

Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from plugin import background
from plugin.domain import post_check as rules
from plugin.domain.disclosure import DEFAULT_PHRASES
from plugin.models import Shop
from plugin.models.rewards import TryAndTagProgram
from plugin.models.ugc import Reward, UgcPost
from plugin.services import notifications
from plugin.services.reward_contact import open_contact
from plugin.services.rewards import program_or_default
from plugin.services.ugc import audit, run_disclosure_check, ugc_settings
from plugin.tenancy import Tenant

CHECK = "check"


def ask_for_check(session: Session, post_id: int) -> None:
    background.after_commit(session, background.CHECK_TRY_AND_TAG_POST, post_id)


def gate(shop: Shop, post: UgcPost, program: TryAndTagProgram) -> str | None:
    """Before issuing: None (go ahead), CHECK (fetch the post first), or why it cannot be."""
    if program.verify_posts and (
        post.post_checked_at is None
        or (post.moderated_at is not None and post.post_checked_at < post.moderated_at)
        or post.post_check_status == "unreachable"
    ):
        return CHECK  # checked before approval (or never): it may have gone since
    if post.post_check_status == "gone":
        return rules.needs_change_reason("gone", post.disclosure_ok, ())
    if post.disclosure_ok is False:
        return rules.needs_change_reason("live", False, _phrases(shop))
    return None


def apply_outcome(
    session: Session, shop: Shop, post: UgcPost, outcome: rules.CheckOutcome, now: datetime
) -> None:
    tenant = Tenant(session, shop.id)
    previous = post.post_check_status
    post.post_check_status = outcome.status
    post.post_checked_at = now
    post.post_check_error = outcome.reason or None
    action = "post_gone" if outcome.status == "gone" and previous == "live" else "post_checked"
    audit(tenant, post, "content", action, "system", status=outcome.status, reason=outcome.reason)
    if outcome.metadata is not None:
        post.caption = outcome.metadata.caption
        run_disclosure_check(tenant, post, ugc_settings(shop.settings), actor="system", now=now)
    reward = tenant.first(Reward, Reward.ugc_post_id == post.id)
    if reward is None or outcome.status == "unreachable":
        return  # an unreachable network proves nothing either way; the job retries
    reason = rules.needs_change_reason(outcome.status, post.disclosure_ok, _phrases(shop))
    if reason and reward.status in ("submitted", "pending", "needs_change"):
        hold(session, shop, post, reward, reason, now)
    elif not reason and reward.status == "needs_change":
        reward.status = "pending" if post.moderation_status == "approved" else "submitted"
        reward.error = None
    if reward.status == "pending" and post.moderation_status == "approved":
        background.after_commit(session, background.ISSUE_TRY_AND_TAG_REWARD, post.id)


def hold(
    session: Session, shop: Shop, post: UgcPost, reward: Reward, reason: str, now: datetime
) -> None:
    """Not rewardable as is: back to the shopper with the reason (once per reason)."""
    # The reason stays on the reward while an approval re-checks it: same reason, no new email.
    already = reward.error == reason
    reward.status = "needs_change"
    reward.error = reason
    reward.lease_until = None
    if already:
        return
    audit(Tenant(session, shop.id), post, "disclosure", "needs_change", "system", reason=reason)
    contact = open_contact(reward)
    if contact is not None:
        email, token = contact
        notifications.try_and_tag_needs_change(
            session,
            shop,
            reward,
            email,
            status_url(shop, token),
            reason,
            attempt=int(now.timestamp()),
        )


def request_recheck(session: Session, reward: Reward) -> bool:
    """The shopper says they fixed the post: check it again (only when it needs a change)."""
    if reward.status != "needs_change":
        return False
    ask_for_check(session, reward.ugc_post_id)
    return True


def status_url(shop: Shop, token: str) -> str:
    # Built by hand: jobs run outside a request, where url_for cannot build URLs.
    base = str(current_app.config["TASTEMAKER"].public_url).rstrip("/")
    return f"{base}/try-and-tag/{shop.public_key}/rewards/{token}"


def program_for(session: Session, shop_id: int) -> TryAndTagProgram:
    return program_or_default(Tenant(session, shop_id))


def _phrases(shop: Shop) -> tuple[str, ...]:
    return (*DEFAULT_PHRASES, *ugc_settings(shop.settings).disclosure_phrases)


def metadata_url(post: UgcPost) -> str:
    overrides = current_app.config["TASTEMAKER"].post_check_endpoints
    return rules.metadata_url(post.network, post.post_url or "", overrides)
