"""What moderating a Try & Tag post does to its reward.

Its own module because plugin.services.ugc.moderate calls it, and plugin.services.rewards builds
on plugin.services.ugc: living in rewards, it closed an import circle.
"""

from __future__ import annotations

from plugin import background
from plugin.models.ugc import Reward, UgcPost
from plugin.tenancy import Tenant


def after_moderation(tenant: Tenant, post: UgcPost) -> None:
    """Called by plugin.services.ugc.moderate for Try & Tag posts, inside its transaction."""
    reward = tenant.first(Reward, Reward.ugc_post_id == post.id)
    if post.moderation_status == "approved":
        if reward is not None and reward.status in ("submitted", "void", "needs_change"):
            reward.status = "pending"
        if reward is None or reward.status == "pending":
            background.after_commit(tenant.session, background.ISSUE_TRY_AND_TAG_REWARD, post.id)
    elif reward is not None and reward.status in ("submitted", "pending", "needs_change"):
        # No code for a rejected or hidden post; the shopper may submit another one.
        reward.status = "void"
        reward.is_open = None
        reward.email_encrypted = None
