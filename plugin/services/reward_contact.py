"""What Try & Tag keeps to reach a shopper, and what it tells them about a submission.

The shopper's address and status-page token are kept encrypted (Fernet, the credentials key)
only until the reward email is queued; after that only the email hash remains.
"""

from __future__ import annotations

from plugin.models.ugc import Reward, UgcPost


def seal_contact(email: str, token: str) -> bytes:
    """The shopper's address and status-page token, encrypted, for the emails still to send."""
    from plugin.extensions import credentials

    return credentials().seal({"email": email, "token": token})


def open_contact(reward: Reward) -> tuple[str, str] | None:
    from plugin.extensions import credentials

    if not reward.email_encrypted:
        return None
    sealed = credentials().open(reward.email_encrypted)
    email, token = sealed.get("email"), sealed.get("token")
    if not isinstance(email, str) or not isinstance(token, str):
        return None
    return email, token


def state_words(post: UgcPost | None, reward: Reward | None) -> str:
    """The truth about an earlier submission, for the duplicate message."""
    status = reward.status if reward is not None else None
    if status == "issued":
        return "has already been rewarded"
    if status == "needs_change":
        return "needs a change before it can be rewarded (see its status page)"
    if status in ("pending",) or (post is not None and post.moderation_status == "approved"):
        return "is approved; its reward is on its way"
    if status == "failed":
        return "is approved, but the shop could not create its reward yet"
    return "is waiting for the shop's review"
