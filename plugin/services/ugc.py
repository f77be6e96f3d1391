"""The UGC library: posts, moderation, disclosure checks, the product catalog.

Usage rights live in plugin.services.ugc_rights; beacon events and CTR in
plugin.services.ugc_events.

Every function takes a Tenant (or a session and shop id) and never commits: the caller owns the
transaction. Each change a storefront could see bumps the shop's feed version in the same
transaction, so the storefront cache drops stale responses the moment it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from plugin.domain.disclosure import DisclosureResult, check_disclosure, clean_phrases
from plugin.domain.ugc_rules import MODERATION_ACTIONS, safe_link_url
from plugin.domain.validation import ValidationFailed
from plugin.models import Campaign, Creator, utcnow
from plugin.models.ugc import (
    ProductSnapshot,
    UgcAuditEvent,
    UgcFeedVersion,
    UgcPost,
    UgcPostProduct,
)
from plugin.services import try_and_tag_moderation
from plugin.tenancy import Tenant

DEFAULT_MAX_ITEMS = 12
MAX_ITEMS = 24


class UgcError(Exception):
    """Base class for UGC service failures that a caller turns into an HTTP answer."""


class NotFound(UgcError):
    pass


class InvalidTransition(UgcError):
    """A moderation or rights change that the current state does not allow."""


@dataclass(frozen=True)
class UgcShopSettings:
    disclosure_phrases: tuple[str, ...] = ()
    media_hosts: tuple[str, ...] = ()
    storefront_origins: tuple[str, ...] = ()
    max_items: int = DEFAULT_MAX_ITEMS


def ugc_settings(shop_settings: Mapping[str, Any] | None) -> UgcShopSettings:
    """The shop's UGC settings, stored under Shop.settings["ugc"]; malformed values are ignored."""
    raw = (shop_settings or {}).get("ugc") or {}
    if not isinstance(raw, Mapping):
        return UgcShopSettings()

    def strings(name: str) -> tuple[str, ...]:
        value = raw.get(name)
        if not isinstance(value, list):
            return ()
        return tuple(item for item in value if isinstance(item, str))

    max_items = raw.get("max_items")
    return UgcShopSettings(
        disclosure_phrases=clean_phrases(strings("disclosure_phrases")),
        media_hosts=strings("media_hosts"),
        storefront_origins=strings("storefront_origins"),
        max_items=max_items
        if isinstance(max_items, int) and 1 <= max_items <= MAX_ITEMS
        else DEFAULT_MAX_ITEMS,
    )


FEED_CHANGED_KEY = "tastemaker.ugc_feed_changed"


def bump_feed_version(session: Session, shop_id: int) -> None:
    """Atomic +1 on the shop's storefront version (an upsert, never read-modify-write).

    The shop id is also noted on the session: when it commits, this process's storefront caches
    drop what they knew about the shop at once (plugin.services.ugc_feed); other processes see
    the new version within FeedCache.shop_ttl.
    """
    session.info.setdefault(FEED_CHANGED_KEY, set()).add(shop_id)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(UgcFeedVersion).values(shop_id=shop_id, version=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[UgcFeedVersion.shop_id],
            set_={"version": UgcFeedVersion.version + 1},
        )
    )


def audit(
    tenant: Tenant, post: UgcPost, category: str, action: str, actor: str, **detail: Any
) -> UgcAuditEvent:
    return tenant.add(
        UgcAuditEvent(
            ugc_post_id=post.id, category=category, action=action, actor=actor, detail=detail
        )
    )


def get_post(tenant: Tenant, post_id: int) -> UgcPost:
    post = tenant.get(UgcPost, post_id)
    if post is None:
        raise NotFound(f"post {post_id} not found")
    return post


def create_post(
    tenant: Tenant,
    *,
    source: str,
    media: list[dict[str, Any]],
    caption: str = "",
    author_handle: str = "",
    network: str = "other",
    post_url: str | None = None,
    alt_text: str = "",
    product_ids: Sequence[str] = (),
    creator_id: int | None = None,
    campaign_id: int | None = None,
    featured: bool = False,
    posted_at: datetime | None = None,
    actor: str = "merchant",
    settings: UgcShopSettings | None = None,
) -> UgcPost:
    """A new post, pending moderation; creator posts get their disclosure checked at once."""
    errors: dict[str, str] = {}
    creator = tenant.get(Creator, creator_id) if creator_id is not None else None
    if creator_id is not None and creator is None:
        errors["creator_id"] = "is not a creator of this shop"
    if source == "creator" and creator_id is None:
        errors["creator_id"] = "is required for a creator post"
    if campaign_id is not None and tenant.get(Campaign, campaign_id) is None:
        errors["campaign_id"] = "is not a campaign of this shop"
    if post_url is not None and safe_link_url(post_url) is None:
        errors["post_url"] = "must be an https URL"
    if not media:
        errors["media"] = "is required: upload an image or give a media URL"
    handle = author_handle.strip().lstrip("@") or (creator.handle if creator else "")
    if not handle:
        errors["author_handle"] = "is required"
    if errors:
        raise ValidationFailed(errors)
    post = tenant.add(
        UgcPost(
            source=source,
            creator_id=creator_id,
            campaign_id=campaign_id,
            network=network,
            post_url=post_url,
            media=media,
            caption=caption,
            alt_text=alt_text,
            author_handle=handle,
            featured=featured,
            posted_at=posted_at,
        )
    )
    tenant.session.flush()
    audit(tenant, post, "content", "created", actor, source=source)
    set_products(tenant, post, product_ids)
    if source == "creator":
        run_disclosure_check(tenant, post, settings or UgcShopSettings(), actor="system")
    return post


def update_post(
    tenant: Tenant,
    post: UgcPost,
    changes: Mapping[str, Any],
    *,
    actor: str = "merchant",
    settings: UgcShopSettings | None = None,
) -> UgcPost:
    """Edit caption, alt text, author, post URL or tagged products; re-checks disclosure."""
    new_url = changes.get("post_url")
    if new_url is not None and safe_link_url(new_url) is None:
        raise ValidationFailed({"post_url": "must be an https URL"})
    for name in ("caption", "alt_text", "post_url", "network"):
        if name in changes:
            setattr(post, name, changes[name])
    if "author_handle" in changes:
        handle = str(changes["author_handle"]).strip().lstrip("@")
        if not handle:
            raise ValidationFailed({"author_handle": "must not be empty"})
        post.author_handle = handle
    if "product_ids" in changes:
        set_products(tenant, post, changes["product_ids"])
    audit(tenant, post, "content", "edited", actor, fields=sorted(changes))
    if "caption" in changes and post.source == "creator":
        run_disclosure_check(tenant, post, settings or UgcShopSettings(), actor="system")
    bump_feed_version(tenant.session, tenant.shop_id)
    return post


def set_products(tenant: Tenant, post: UgcPost, product_ids: Iterable[str]) -> None:
    """Tag the post with store products; the JSON list and the lookup rows change together."""
    wanted = list(dict.fromkeys(str(pid).strip() for pid in product_ids if str(pid).strip()))
    post.product_ids = wanted
    tenant.session.execute(
        delete(UgcPostProduct).where(
            UgcPostProduct.shop_id == tenant.shop_id, UgcPostProduct.ugc_post_id == post.id
        )
    )
    for product_id in wanted:
        tenant.add(UgcPostProduct(ugc_post_id=post.id, product_id=product_id))
    bump_feed_version(tenant.session, tenant.shop_id)


def posts_tagged(tenant: Tenant, product_id: str) -> Select[tuple[int]]:
    """Ids of the shop's posts tagged with a store product (a subquery)."""
    return select(UgcPostProduct.ugc_post_id).where(
        UgcPostProduct.shop_id == tenant.shop_id, UgcPostProduct.product_id == product_id
    )


def delete_post(tenant: Tenant, post: UgcPost) -> None:
    tenant.session.delete(post)
    bump_feed_version(tenant.session, tenant.shop_id)


def moderate(
    tenant: Tenant,
    post: UgcPost,
    action: str,
    *,
    reason: str | None = None,
    actor: str = "merchant",
    now: datetime | None = None,
) -> UgcPost:
    """approve / reject (a reason is required) / hide; repeating the current state is a no-op."""
    target = MODERATION_ACTIONS.get(action)
    if target is None:
        raise ValidationFailed({"action": "must be one of: " + ", ".join(MODERATION_ACTIONS)})
    reason = (reason or "").strip() or None
    if target == "rejected" and reason is None:
        raise ValidationFailed({"reason": "is required to reject a post"})
    if post.moderation_status == target and post.moderation_reason == reason:
        return post
    previous = post.moderation_status
    post.moderation_status = target
    post.moderation_reason = reason
    post.moderated_at = now or utcnow()
    audit(tenant, post, "moderation", target, actor, previous=previous, reason=reason)
    bump_feed_version(tenant.session, tenant.shop_id)
    if post.source == "try_and_tag":
        try_and_tag_moderation.after_moderation(
            tenant, post
        )  # queues the reward's job after commit, never inline
    return post


def set_featured(tenant: Tenant, post: UgcPost, featured: bool, actor: str = "merchant") -> UgcPost:
    if post.featured != featured:
        post.featured = featured
        audit(tenant, post, "featured", "featured" if featured else "unfeatured", actor)
        bump_feed_version(tenant.session, tenant.shop_id)
    return post


def run_disclosure_check(
    tenant: Tenant,
    post: UgcPost,
    settings: UgcShopSettings,
    actor: str = "merchant",
    now: datetime | None = None,
) -> DisclosureResult:
    """Check the caption, store the result on the post and in the audit trail."""
    result = check_disclosure(post.caption, settings.disclosure_phrases)
    post.disclosure_ok = result.disclosed
    post.disclosure_matches = list(result.matches)
    post.disclosure_checked_at = now or utcnow()
    audit(
        tenant,
        post,
        "disclosure",
        "passed" if result.disclosed else "missing",
        actor,
        matches=list(result.matches),
        prominent=result.prominent,
        flagged=result.flagged,
        checked_at=post.disclosure_checked_at.isoformat(),
    )
    return result


def upsert_products(tenant: Tenant, items: Iterable[Mapping[str, Any]]) -> list[ProductSnapshot]:
    """Insert or update catalog rows by store product id (validated by the caller's schema)."""
    rows = []
    for index, item in enumerate(items):
        url = str(item.get("url") or "")
        if url and safe_link_url(url) is None:
            raise ValidationFailed({f"products[{index}].url": "must be https or a /path"})
        product_id = str(item["product_id"])
        row = tenant.first(ProductSnapshot, ProductSnapshot.product_id == product_id)
        if row is None:
            row = tenant.add(ProductSnapshot(product_id=product_id, title="", variant_id=""))
        row.title = item["title"]
        row.price_minor = item["price_minor"]
        row.currency = item["currency"]
        row.variant_id = str(item["variant_id"])
        row.url = url
        rows.append(row)
    bump_feed_version(tenant.session, tenant.shop_id)
    tenant.session.flush()
    return rows
