"""Request schemas and JSON representations for the UGC admin API (plugin.web.ugc_api)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from plugin.domain.ugc_rules import GrantView, is_servable
from plugin.domain.validation import Field, Schema
from plugin.models.ugc import (
    MODERATION_STATUSES,
    NETWORKS,
    RIGHTS_SCOPES,
    UGC_SOURCES,
    ProductSnapshot,
    UgcAuditEvent,
    UgcPost,
    UgcRightsGrant,
)
from plugin.services.media import variant_url
from plugin.services.ugc import MAX_ITEMS

PRODUCT_ID = r"[A-Za-z0-9_.:/-]{1,64}"
PRODUCT_HINT = "must be 1-64 letters, digits or . _ : / -"
HOST = r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
ORIGIN = r"https://[a-z0-9.-]+(:[0-9]{1,5})?"

MEDIA_INPUT = Schema(
    "UgcMediaInput",
    (
        Field("url", "string", required=True, max_length=2048, description="https, allowed host"),
        Field("type", "string", choices=("image", "video")),
        Field("width", "integer", required=True, minimum=1, maximum=10_000),
        Field("height", "integer", required=True, minimum=1, maximum=10_000),
        Field("poster_url", "string", max_length=2048, description="required for a video"),
    ),
)
POST_FIELDS = (
    Field("source", "string", choices=UGC_SOURCES),
    Field("network", "string", choices=NETWORKS),
    Field("post_url", "string", nullable=True, max_length=2048),
    Field("caption", "string", max_length=5000),
    Field("alt_text", "string", max_length=300),
    Field("author_handle", "string", max_length=120),
    Field(
        "product_ids",
        "array",
        item_kind="string",
        max_length=20,
        description="store product ids",
    ),
    Field("creator_id", "integer", nullable=True, minimum=1),
    Field("campaign_id", "integer", nullable=True, minimum=1),
    Field("featured", "boolean"),
    Field("posted_at", "datetime", nullable=True),
)
POST_INPUT = Schema(
    "UgcPostInput", (*POST_FIELDS, Field("media", "object", required=True, items=MEDIA_INPUT))
)
UPLOAD_INPUT = Schema("UgcUploadInput", POST_FIELDS)
IMPORT_INPUT = Schema(
    "UgcImportInput",
    (Field("posts", "array", required=True, items=POST_INPUT, max_length=100),),
)
POST_PATCH = Schema(
    "UgcPostPatch",
    tuple(
        field
        for field in POST_FIELDS
        if field.name
        in {
            "network",
            "post_url",
            "caption",
            "alt_text",
            "author_handle",
            "product_ids",
            "featured",
        }
    ),
)
MODERATION_INPUT = Schema(
    "UgcModerationInput",
    (
        Field("action", "string", required=True, choices=("approve", "reject", "hide")),
        Field("reason", "string", nullable=True, max_length=2000),
    ),
)
RIGHTS_REQUEST_INPUT = Schema(
    "UgcRightsRequestInput",
    (
        Field("scopes", "array", required=True, item_kind="string", max_length=3),
        Field("request_text", "string", required=True, min_length=1, max_length=5000),
        Field("duration_days", "integer", nullable=True, minimum=1, maximum=3650),
        Field("territory", "string", max_length=255),
    ),
)
GRANT_INPUT = Schema(
    "UgcGrantInput",
    (
        Field("reply_text", "string", nullable=True, max_length=5000),
        Field("evidence_url", "string", nullable=True, max_length=2048),
        Field("consented_at", "datetime", nullable=True),
        Field("starts_at", "datetime", nullable=True),
    ),
)
REASON_INPUT = Schema(
    "UgcReasonInput", (Field("reason", "string", nullable=True, max_length=2000),)
)
PRODUCT_INPUT = Schema(
    "ProductSnapshotInput",
    (
        Field("product_id", "string", required=True, pattern=PRODUCT_ID, pattern_hint=PRODUCT_HINT),
        Field("title", "string", required=True, min_length=1, max_length=255),
        Field("price_minor", "integer", required=True, minimum=0, maximum=10**12),
        Field("currency", "currency", required=True),
        Field("variant_id", "string", required=True, pattern=PRODUCT_ID, pattern_hint=PRODUCT_HINT),
        Field("url", "string", max_length=2048),
    ),
)
CATALOG_INPUT = Schema(
    "ProductCatalogInput",
    (Field("products", "array", required=True, items=PRODUCT_INPUT, max_length=500),),
)
SETTINGS_INPUT = Schema(
    "UgcSettingsInput",
    (
        Field("disclosure_phrases", "array", item_kind="string", max_length=50),
        Field("media_hosts", "array", item_kind="string", max_length=50),
        Field("storefront_origins", "array", item_kind="string", max_length=20),
        Field("max_items", "integer", minimum=1, maximum=MAX_ITEMS),
    ),
)
LIST_QUERY = (
    Field("status", "string", choices=MODERATION_STATUSES),
    Field("source", "string", choices=UGC_SOURCES),
    Field("flagged", "string", choices=("true", "false")),
    Field("featured", "string", choices=("true", "false")),
    Field("product_id", "string", pattern=PRODUCT_ID, pattern_hint=PRODUCT_HINT),
)
SCOPES = RIGHTS_SCOPES


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def grant_view(grant: UgcRightsGrant) -> GrantView:
    return GrantView(grant.status, frozenset(grant.scopes), grant.starts_at, grant.expires_at)


def post_json(
    post: UgcPost,
    grants: Sequence[UgcRightsGrant],
    *,
    now: datetime,
    public_url: str,
    hosts: Iterable[str],
) -> dict[str, Any]:
    hosts = tuple(hosts)
    return {
        "id": post.id,
        "source": post.source,
        "network": post.network,
        "post_url": post.post_url,
        "caption": post.caption,
        "alt_text": post.alt_text,
        "author_handle": post.author_handle,
        "creator_id": post.creator_id,
        "campaign_id": post.campaign_id,
        "product_ids": list(post.product_ids),
        "featured": post.featured,
        "media": [
            {
                "type": item.get("type", "image"),
                "width": item.get("width"),
                "height": item.get("height"),
                "variants": [
                    {
                        "width": variant.get("width"),
                        "height": variant.get("height"),
                        "url": variant_url(variant, public_url, hosts),
                    }
                    for variant in item.get("variants") or ()
                ],
            }
            for item in post.media
        ],
        "moderation": {
            "status": post.moderation_status,
            "reason": post.moderation_reason,
            "moderated_at": iso(post.moderated_at),
        },
        "disclosure": {
            "ok": post.disclosure_ok,
            "matches": list(post.disclosure_matches),
            "checked_at": iso(post.disclosure_checked_at),
            "flagged": post.source == "creator" and post.disclosure_ok is False,
        },
        "rights": [grant_json(grant) for grant in grants],
        # What a shopper sees right now: the one storefront rule, evaluated for the merchant.
        "servable": is_servable(post.moderation_status, map(grant_view, grants), now),
        "posted_at": iso(post.posted_at),
        "created_at": iso(post.created_at),
    }


def grant_json(grant: UgcRightsGrant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "post_id": grant.ugc_post_id,
        "status": grant.status,
        "scopes": grant.scopes,
        "duration_days": grant.duration_days,
        "territory": grant.territory,
        "starts_at": iso(grant.starts_at),
        "expires_at": iso(grant.expires_at),
        "evidence": {
            "request_text": grant.request_text,
            "requested_at": iso(grant.requested_at),
            "reply_text": grant.reply_text,
            "evidence_url": grant.evidence_url,
            "consented_at": iso(grant.consented_at),
        },
        "closed_at": iso(grant.closed_at),
        "reason": grant.reason,
    }


def audit_json(event: UgcAuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "category": event.category,
        "action": event.action,
        "actor": event.actor,
        "detail": event.detail,
        "occurred_at": iso(event.occurred_at),
    }


def product_json(row: ProductSnapshot) -> dict[str, Any]:
    return {
        "product_id": row.product_id,
        "title": row.title,
        "price_minor": row.price_minor,
        "currency": row.currency,
        "variant_id": row.variant_id,
        "url": row.url,
    }
