"""Try & Tag: the shop's offer, shopper submissions, and the reward each approved post earns.

A submission becomes a pending UgcPost (source "try_and_tag") plus its Reward row ("submitted"),
which remembers the shopper by email hash only and the offer shown to them. Approving the post
queues `workers.jobs.rewards.issue_try_and_tag_reward` after commit; that job creates the
discount code in the store, holding the reward by a short lease (`claim_reward`) rather than a
row lock, so no transaction stays open across the store call on either database.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import background
from plugin.crypto import hash_email, new_token, sha256_hex
from plugin.domain import post_check as post_rules
from plugin.domain import rewards as rules
from plugin.domain.validation import EMAIL_RE, ValidationFailed
from plugin.models import Order, Shop, utcnow
from plugin.models.rewards import TryAndTagProgram
from plugin.models.ugc import ProductSnapshot, Reward, UgcPost
from plugin.services.ledger import insert_ignore
from plugin.services.reward_contact import seal_contact, state_words
from plugin.services.ugc import create_post
from plugin.tenancy import Tenant

# Longer than the issuing job's timeout: a lease outlives any worker that still holds it.
LEASE = timedelta(minutes=5)
# Submissions one email may have waiting for review at once, across products.
MAX_WAITING_PER_EMAIL = 5
PROGRAM_FIELDS = (
    "enabled",
    "discount_kind",
    "discount_value",
    "code_valid_days",
    "code_prefix",
    "require_order",
    "terms",
    "verify_posts",
    "allowed_networks",
    "reward_kind",
)
REWARD_KINDS = ("discount_code", "store_credit")


class RewardConflict(Exception):
    """A change the reward's current state does not allow."""


@dataclass(frozen=True)
class Submission:
    """What a shopper sends, as typed (validated by `submit`)."""

    email: str
    post_url: str
    handle: str
    product_id: str
    order_number: str = ""


# --- the shop's offer ---------------------------------------------------------------------------


def get_program(tenant: Tenant) -> TryAndTagProgram | None:
    return tenant.first(TryAndTagProgram)


def program_or_default(tenant: Tenant) -> TryAndTagProgram:
    """The saved program, or the defaults a new one starts from (not added to the session)."""
    return get_program(tenant) or TryAndTagProgram(
        shop_id=tenant.shop_id,
        enabled=False,
        discount_kind="percentage",
        discount_value=1000,
        code_valid_days=30,
        code_prefix="TAG",
        require_order=False,
        terms="",
        verify_posts=True,
        allowed_networks=[],
        reward_kind="discount_code",
    )


def save_program(tenant: Tenant, values: Mapping[str, Any]) -> TryAndTagProgram:
    """Update the shop's program (created on first save); the merged offer must be valid."""
    current = program_or_default(tenant)
    merged = {name: values.get(name, getattr(current, name)) for name in PROGRAM_FIELDS}
    errors = rules.offer_errors(
        merged["discount_kind"], merged["discount_value"], merged["code_valid_days"]
    )
    if merged["reward_kind"] not in REWARD_KINDS:
        errors["reward_kind"] = "must be one of: " + ", ".join(REWARD_KINDS)
    elif merged["reward_kind"] == "store_credit" and merged["discount_kind"] != "fixed_amount":
        errors["reward_kind"] = "store credit is an amount: use discount_kind fixed_amount"
    unknown = [n for n in merged["allowed_networks"] or [] if n not in post_rules.DEFAULT_NETWORKS]
    if unknown:
        errors["allowed_networks"] = "must name only: " + ", ".join(post_rules.DEFAULT_NETWORKS)
    if errors:
        raise ValidationFailed(errors)
    # An upsert, so two first saves at once cannot both insert.
    now = utcnow()
    insert_ignore(
        tenant.session,
        TryAndTagProgram,
        {"shop_id": tenant.shop_id, "created_at": now, "updated_at": now},
        ("shop_id",),
    )
    program = tenant.first(TryAndTagProgram)
    assert program is not None
    if bool(program.enabled) != bool(merged["enabled"]):
        from plugin.services.ugc import bump_feed_version

        bump_feed_version(tenant.session, tenant.shop_id)  # the carousel's Try & Tag link
    for name, value in merged.items():
        setattr(program, name, value)
    tenant.session.flush()
    return program


# --- submissions --------------------------------------------------------------------------------


def submit(
    tenant: Tenant, shop: Shop, submission: Submission, *, now: datetime | None = None
) -> tuple[Reward, str]:
    """Record a shopper's post for review; returns its reward and the private status token.

    Raises ValidationFailed with one message per field; LookupError when the shop takes no
    submissions.
    """
    program = get_program(tenant)
    if program is None or not program.enabled:
        raise LookupError("this shop has no open Try & Tag program")
    session = tenant.session
    email = submission.email.strip()
    email_hash = hash_email(email)
    link = rules.parse_post_url(submission.post_url)
    handle = rules.normalize_handle(submission.handle)
    product_id = submission.product_id.strip()
    errors: dict[str, str] = {}
    if email_hash is None or len(email) > 254 or not EMAIL_RE.match(email):
        errors["email"] = "must be an email address"
    networks = post_rules.allowed_networks(program.allowed_networks or None)
    if link is None or link.network not in networks:
        names = post_rules.network_names(networks)
        errors["post_url"] = f"must be the https link to your post on {names}"
    if handle is None:
        errors["handle"] = "must be your handle there: up to 30 letters, digits, . _ or -"
    if tenant.first(ProductSnapshot, ProductSnapshot.product_id == product_id) is None:
        errors["product_id"] = "is not a product of this shop"
    order_id, order_error = _match_order(tenant, program, submission.order_number, email_hash)
    if order_error:
        errors["order_number"] = order_error
    if not errors and link is not None and email_hash is not None:
        errors.update(_already_open(tenant, link.url, email_hash, product_id))
    if errors or link is None or handle is None or email_hash is None:
        raise ValidationFailed(errors)
    token = new_token()
    try:
        with session.begin_nested():
            post = create_post(
                tenant,
                source="try_and_tag",
                # No picture of the post is taken: the merchant reviews it at its URL, and an
                # embed without variants is never served by the storefront feed.
                media=[{"type": "embed", "network": link.network, "url": link.url, "variants": []}],
                author_handle=handle,
                network=link.network,
                post_url=link.url,
                product_ids=[product_id],
                actor="shopper",
            )
            reward = tenant.add(
                Reward(
                    ugc_post_id=post.id,
                    status="submitted",
                    discount_kind=program.discount_kind,
                    discount_value=program.discount_value,
                    amount_minor=_amount(program.discount_kind, program.discount_value),
                    currency=shop.currency,
                    customer_email_hash=email_hash,
                    product_id=product_id,
                    is_open=True,
                    order_number=submission.order_number.strip() or None,
                    order_id=order_id,
                    claim_token_hash=sha256_hex(token),
                    kind=program.reward_kind,
                    email_encrypted=seal_contact(email, token),
                    created_at=now or utcnow(),
                )
            )
            session.flush()
            if program.verify_posts:
                background.after_commit(session, background.CHECK_TRY_AND_TAG_POST, post.id)
    except IntegrityError:
        # Another submission for this email and product committed first.
        raise ValidationFailed(
            {"email": "already has a submission for this product waiting for review"}
        ) from None
    return reward, token


def _match_order(
    tenant: Tenant, program: TryAndTagProgram, raw: str, email_hash: str | None
) -> tuple[int | None, str | None]:
    """The order the shopper names, when it is this shop's and was placed with their email."""
    if not raw.strip():
        return None, ("is required" if program.require_order else None)
    variants = rules.order_number_variants(raw)
    if variants is None:
        return None, "is not an order number"
    order = tenant.first(Order, Order.order_number.in_(variants))
    matched = (
        order is not None
        and email_hash is not None
        and order.customer_email_hash == email_hash
        and order.cancelled_at is None
    )
    if not matched and program.require_order:
        return None, "does not match an order placed with this email"
    return (order.id if matched and order is not None else None), None


def _already_open(
    tenant: Tenant, post_url: str, email_hash: str, product_id: str
) -> dict[str, str]:
    session = tenant.session
    same_post = tenant.first(
        UgcPost,
        UgcPost.source == "try_and_tag",
        UgcPost.post_url == post_url,
        UgcPost.moderation_status.in_(("pending", "approved")),
    )
    if same_post is not None:
        earlier = tenant.first(Reward, Reward.ugc_post_id == same_post.id)
        return {"post_url": "was already submitted and " + state_words(same_post, earlier)}
    mine = (Reward.shop_id == tenant.shop_id, Reward.customer_email_hash == email_hash)
    open_one = session.scalars(
        select(Reward).where(*mine, Reward.product_id == product_id, Reward.is_open.is_(True))
    ).first()
    if open_one is not None:
        post = session.get(UgcPost, open_one.ugc_post_id)
        return {
            "email": "already has a submission for this product, which "
            + state_words(post, open_one)
        }
    waiting = session.scalar(
        select(func.count(Reward.id)).where(*mine, Reward.status == "submitted")
    )
    if (waiting or 0) >= MAX_WAITING_PER_EMAIL:
        return {"email": "has too many submissions waiting for review"}
    return {}


def _amount(kind: str, value: int) -> int:
    return value if kind == "fixed_amount" else 0


def reward_for_token(session: Session, shop_id: int, token: str) -> Reward | None:
    if not token or len(token) > 64:
        return None
    return Tenant(session, shop_id).first(Reward, Reward.claim_token_hash == sha256_hex(token))


# --- moderation and the merchant's actions ------------------------------------------------------


def retry_reward(tenant: Tenant, reward: Reward) -> Reward:
    """Send a failed reward to the store again (e.g. after fixing the shop's settings)."""

    if reward.status != "failed":
        raise RewardConflict(f"a {reward.status} reward cannot be retried; only a failed one")
    reward.status = "pending"
    reward.attempts = 0
    reward.error = None
    reward.lease_until = None
    background.after_commit(tenant.session, background.ISSUE_TRY_AND_TAG_REWARD, reward.ugc_post_id)
    return reward


# --- issuing (the rewards job) ------------------------------------------------------------------


def ensure_reward(session: Session, post: UgcPost, shop: Shop) -> None:
    """Give an approved post without a submission (a merchant import) its reward row.

    Only while the shop's program is enabled: nobody promised this author anything otherwise.
    An insert that ignores a concurrent one, so a post never gets two.
    """
    tenant = Tenant(session, post.shop_id)
    if tenant.first(Reward, Reward.ugc_post_id == post.id) is not None:
        return
    program = get_program(tenant)
    if program is None or not program.enabled:
        return
    now = utcnow()
    values = {
        "shop_id": post.shop_id,
        "ugc_post_id": post.id,
        "status": "pending",
        "discount_kind": program.discount_kind,
        "discount_value": program.discount_value,
        "amount_minor": _amount(program.discount_kind, program.discount_value),
        "currency": shop.currency,
        "created_at": now,
        "updated_at": now,
    }
    insert_ignore(session, Reward, values, ("ugc_post_id",))


def claim_reward(session: Session, post_id: int, now: datetime) -> Reward | None:
    """Take the post's unissued reward for one round of store calls, or None if nothing is due
    or another worker holds it. A conditional UPDATE: of two workers, exactly one wins."""
    claimed = session.execute(
        update(Reward)
        .where(
            Reward.ugc_post_id == post_id,
            Reward.status.in_(("submitted", "pending")),
            or_(Reward.lease_until.is_(None), Reward.lease_until <= now),
        )
        .values(status="pending", lease_until=now + LEASE, attempts=Reward.attempts + 1)
        .returning(Reward.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if claimed is None:
        return None
    return session.get(Reward, claimed, populate_existing=True)


def mark_issued(
    reward: Reward, *, platform_id: str | None, expires_at: datetime, now: datetime
) -> None:
    reward.status = "issued"
    reward.platform_id = platform_id
    reward.issued_at = now
    reward.expires_at = expires_at
    reward.error = None
    reward.unconfirmed_code = None
    reward.lease_until = None


def mark_failed(reward: Reward, error: str) -> None:
    reward.status = "failed"
    reward.error = error
    reward.lease_until = None


def release(reward: Reward, error: str, *, unconfirmed: bool = False) -> None:
    """Give the lease back with the reward still pending, to be tried again."""
    reward.error = error
    reward.lease_until = None
    if unconfirmed:
        reward.unconfirmed_code = reward.code


def stuck_post_ids(
    session: Session, now: datetime, grace: timedelta, limit: int = 500
) -> list[int]:
    """Approved Try & Tag posts whose reward is still owed: the queue lost the job, retries ran
    out, or the shop was reconnected since. Their own jobs get `grace` to finish first."""
    cutoff = now - grace
    pending = (
        select(Reward.ugc_post_id)
        .join(Shop, Shop.id == Reward.shop_id)
        .where(
            Shop.status == "active",
            Reward.status == "pending",
            Reward.updated_at <= cutoff,
            or_(Reward.lease_until.is_(None), Reward.lease_until <= now),
        )
    )
    rewardless = (
        select(UgcPost.id)
        .join(Shop, Shop.id == UgcPost.shop_id)
        .join(TryAndTagProgram, TryAndTagProgram.shop_id == UgcPost.shop_id)
        .outerjoin(Reward, Reward.ugc_post_id == UgcPost.id)
        .where(
            Shop.status == "active",
            TryAndTagProgram.enabled.is_(True),
            UgcPost.source == "try_and_tag",
            UgcPost.moderation_status == "approved",
            UgcPost.moderated_at <= cutoff,
            Reward.id.is_(None),
        )
    )
    ids = list(session.scalars(pending.order_by(Reward.ugc_post_id).limit(limit)))
    ids += session.scalars(rewardless.order_by(UgcPost.id).limit(limit))
    return ids
