"""Request plumbing shared by the UGC API views (plugin.web.ugc_api): reading JSON bodies, the
shop's UGC settings, rendering posts with their grants, creating posts from validated input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app, g, request

from plugin.db import get_session
from plugin.domain.validation import Schema, ValidationFailed
from plugin.models import utcnow
from plugin.models.ugc import UgcPost, UgcRightsGrant
from plugin.services import ugc as service
from plugin.services.media import media_hosts, remote_media
from plugin.web import ugc_api_io as io
from plugin.web.auth import current_tenant


class MalformedJson(Exception):
    pass


def body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedJson(f"the request body is not valid JSON: {exc}") from None
    return schema.validate(data, partial=partial)


def settings() -> service.UgcShopSettings:
    return service.ugc_settings(g.shop.settings)


def commit() -> None:
    get_session().commit()


def render_posts(posts: Sequence[UgcPost]) -> list[dict[str, Any]]:
    ids = [post.id for post in posts]
    grants: dict[int, list[UgcRightsGrant]] = {post_id: [] for post_id in ids}
    if ids:
        query = current_tenant().select(UgcRightsGrant, UgcRightsGrant.ugc_post_id.in_(ids))
        for grant in get_session().scalars(query.order_by(UgcRightsGrant.id)):
            grants[grant.ugc_post_id].append(grant)
    public_url = current_app.config["TASTEMAKER"].public_url
    hosts = media_hosts(settings().media_hosts)
    now = utcnow()
    return [
        io.post_json(post, grants[post.id], now=now, public_url=public_url, hosts=hosts)
        for post in posts
    ]


def check_products(product_ids: Sequence[str], where: str = "product_ids") -> None:
    for index, product_id in enumerate(product_ids):
        if not re.fullmatch(io.PRODUCT_ID, product_id):
            raise ValidationFailed({f"{where}[{index}]": io.PRODUCT_HINT})


def create_from(values: Mapping[str, Any], media: list[dict[str, Any]]) -> UgcPost:
    check_products(values.get("product_ids", ()))
    return service.create_post(
        current_tenant(),
        source=values.get("source", "merchant"),
        media=media,
        caption=values.get("caption", ""),
        author_handle=values.get("author_handle", ""),
        network=values.get("network", "other"),
        post_url=values.get("post_url"),
        alt_text=values.get("alt_text", ""),
        product_ids=values.get("product_ids", ()),
        creator_id=values.get("creator_id"),
        campaign_id=values.get("campaign_id"),
        featured=values.get("featured", False),
        posted_at=values.get("posted_at"),
        settings=settings(),
    )


def remote_from(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    media = values["media"]
    try:
        return [
            remote_media(
                media["url"],
                width=media["width"],
                height=media["height"],
                hosts=media_hosts(settings().media_hosts),
                kind=media.get("type", "image"),
                poster_url=media.get("poster_url"),
            )
        ]
    except ValidationFailed as failed:
        renamed = {"media_url": "media.url", "poster_url": "media.poster_url"}
        raise ValidationFailed({renamed.get(k, k): v for k, v in failed.fields.items()}) from None


def settings_json(value: service.UgcShopSettings) -> dict[str, Any]:
    return {
        "disclosure_phrases": list(value.disclosure_phrases),
        "media_hosts": list(value.media_hosts),
        "storefront_origins": list(value.storefront_origins),
        "max_items": value.max_items,
    }
