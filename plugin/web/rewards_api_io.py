"""Request schemas, OpenAPI components and JSON representations for plugin.web.rewards_api."""

from __future__ import annotations

from typing import Any

from flask import current_app

from plugin.domain import post_check as post_rules
from plugin.domain import rewards as rules
from plugin.domain.validation import Field, Schema
from plugin.models import Shop
from plugin.models.rewards import ReferralSprint, TryAndTagProgram
from plugin.models.ugc import Reward, UgcPost
from plugin.services import sprints as sprint_service
from plugin.web.admin_api.base import (
    BOOL,
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    component,
    iso,
    nullable,
    obj,
)
from plugin.web.auth import current_tenant

MAX_MINOR = 10**13

# --- schemas ------------------------------------------------------------------------------------

SETTINGS_INPUT = Schema(
    "TryAndTagSettingsInput",
    (
        Field("enabled", "boolean", description="open the submission form to shoppers"),
        Field("discount_kind", "string", choices=rules.DISCOUNT_KINDS),
        Field(
            "discount_value",
            "integer",
            minimum=1,
            maximum=rules.MAX_FIXED_MINOR,
            description="basis points for a percentage, minor units for a fixed amount",
        ),
        Field("code_valid_days", "integer", minimum=1, maximum=rules.MAX_VALID_DAYS),
        Field(
            "code_prefix",
            "string",
            pattern=rules.CODE_PREFIX_RE.pattern,
            pattern_hint="must be 1-12 capital letters or digits",
        ),
        Field("require_order", "boolean", description="only shoppers with a matching order"),
        Field("terms", "string", max_length=2000, description="shown on the form, plain text"),
        Field(
            "verify_posts",
            "boolean",
            description="fetch each post's public oEmbed; reward only live, disclosed posts",
        ),
        Field(
            "allowed_networks",
            "array",
            item_kind="string",
            max_length=len(post_rules.DEFAULT_NETWORKS),
            description="networks a post may be on; empty = "
            + ", ".join(post_rules.DEFAULT_NETWORKS),
        ),
        Field(
            "reward_kind",
            "string",
            choices=("discount_code", "store_credit"),
            description="store_credit needs discount_kind fixed_amount",
        ),
    ),
)
SPRINT_INPUT = Schema(
    "ReferralSprintInput",
    (
        Field("name", "string", required=True, min_length=1, max_length=200),
        Field("starts_at", "datetime", required=True),
        Field("ends_at", "datetime", required=True, description="exclusive"),
        Field(
            "credit_per_order_minor",
            "integer",
            required=True,
            minimum=1,
            maximum=rules.MAX_CREDIT_MINOR,
        ),
        Field("cap_per_creator_minor", "integer", nullable=True, minimum=1, maximum=MAX_MINOR),
        Field("campaign_id", "integer", nullable=True, minimum=1),
    ),
)
REWARD_QUERY = (Field("status", "string", choices=rules.REWARD_STATUSES), *PAGE_QUERY)

SETTINGS = component(
    "TryAndTagSettings",
    obj(
        {
            "enabled": BOOL,
            "discount_kind": {"type": "string", "enum": list(rules.DISCOUNT_KINDS)},
            "discount_value": INT,
            "code_valid_days": INT,
            "code_prefix": STR,
            "require_order": BOOL,
            "terms": STR,
            "verify_posts": BOOL,
            "allowed_networks": {"type": "array", "items": STR},
            "reward_kind": {"type": "string", "enum": ["discount_code", "store_credit"]},
            "currency": CURRENCY,
            "offer": STR,
            "form_url": STR,
        }
    ),
)
REWARD = component(
    "Reward",
    obj(
        {
            "id": INT,
            "ugc_post_id": INT,
            "status": {"type": "string", "enum": list(rules.REWARD_STATUSES)},
            "discount_kind": {"type": "string", "enum": list(rules.DISCOUNT_KINDS)},
            "discount_value": INT,
            "currency": CURRENCY,
            "code": nullable(STR),
            "platform_id": nullable(STR),
            "issued_at": nullable(TIME),
            "expires_at": nullable(TIME),
            "error": nullable(STR),
            "attempts": INT,
            "product_id": nullable(STR),
            "order_number": nullable(STR),
            "order_verified": BOOL,
            "author_handle": STR,
            "network": STR,
            "post_url": nullable(STR),
            "moderation_status": STR,
            "created_at": TIME,
        }
    ),
)
SPRINT = component(
    "ReferralSprint",
    obj(
        {
            "id": INT,
            "name": STR,
            "status": {"type": "string", "enum": list(rules.SPRINT_STATES)},
            "starts_at": TIME,
            "ends_at": TIME,
            "credit_per_order_minor": INT,
            "cap_per_creator_minor": nullable(INT),
            "currency": CURRENCY,
            "campaign_id": nullable(INT),
            "settled_at": nullable(TIME),
            "settled_total_minor": INT,
            "settled_creators": INT,
            "created_at": TIME,
        }
    ),
)
STANDING = obj({"rank": INT, "creator_id": INT, "handle": STR, "orders": INT, "credit_minor": INT})
LEADERBOARD = component(
    "SprintLeaderboard",
    obj(
        {
            "sprint_id": INT,
            "status": {"type": "string", "enum": list(rules.SPRINT_STATES)},
            "as_of": TIME,
            "currency": CURRENCY,
            "total_credit_minor": INT,
            "entries": {"type": "array", "items": STANDING},
        }
    ),
)


# --- representations ----------------------------------------------------------------------------


def settings_json(program: TryAndTagProgram, shop: Shop) -> dict[str, Any]:
    public_url = current_app.config["TASTEMAKER"].public_url.rstrip("/")
    return {
        "enabled": program.enabled,
        "discount_kind": program.discount_kind,
        "discount_value": program.discount_value,
        "code_valid_days": program.code_valid_days,
        "code_prefix": program.code_prefix,
        "require_order": program.require_order,
        "terms": program.terms,
        "verify_posts": program.verify_posts,
        "allowed_networks": list(post_rules.allowed_networks(program.allowed_networks or None)),
        "reward_kind": program.reward_kind,
        "currency": shop.currency,
        "offer": rules.describe_offer(program.discount_kind, program.discount_value, shop.currency),
        "form_url": f"{public_url}/try-and-tag/{shop.public_key}",
    }


def reward_json(reward: Reward, post: UgcPost | None) -> dict[str, Any]:
    return {
        "id": reward.id,
        "ugc_post_id": reward.ugc_post_id,
        "status": reward.status,
        "discount_kind": reward.discount_kind,
        "discount_value": reward.discount_value,
        "currency": reward.currency,
        "code": reward.code,
        "platform_id": reward.platform_id,
        "issued_at": iso(reward.issued_at),
        "expires_at": iso(reward.expires_at),
        "error": reward.error,
        "attempts": reward.attempts,
        "product_id": reward.product_id,
        "order_number": reward.order_number,
        "order_verified": reward.order_id is not None,
        "author_handle": post.author_handle if post else "",
        "network": post.network if post else "other",
        "post_url": post.post_url if post else None,
        "moderation_status": post.moderation_status if post else "deleted",
        "created_at": iso(reward.created_at),
    }


def rewards_json(rewards: list[Reward]) -> list[dict[str, Any]]:
    post_ids = [reward.ugc_post_id for reward in rewards]
    posts = {post.id: post for post in current_tenant().all(UgcPost, UgcPost.id.in_(post_ids))}
    return [reward_json(reward, posts.get(reward.ugc_post_id)) for reward in rewards]


def sprint_json(sprint: ReferralSprint) -> dict[str, Any]:
    return {
        "id": sprint.id,
        "name": sprint.name,
        "status": sprint_service.state(sprint),
        "starts_at": iso(sprint.starts_at),
        "ends_at": iso(sprint.ends_at),
        "credit_per_order_minor": sprint.credit_per_order_minor,
        "cap_per_creator_minor": sprint.cap_per_creator_minor,
        "currency": sprint.currency,
        "campaign_id": sprint.campaign_id,
        "settled_at": iso(sprint.settled_at),
        "settled_total_minor": sprint.settled_total_minor,
        "settled_creators": sprint.settled_creators,
        "created_at": iso(sprint.created_at),
    }
