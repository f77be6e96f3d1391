"""The calling shop's settings and its admin API keys."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from plugin.domain.validation import Field, Schema
from plugin.models import ApiKey, Shop, utcnow
from plugin.services.shops import issue_api_key
from plugin.web.admin_api.base import (
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    api_route,
    component,
    iso,
    json_body,
    list_route,
    nullable,
    obj,
    owned_or_404,
    saved,
)
from plugin.web.auth import current_tenant

KEY_INPUT = Schema("ApiKeyInput", (Field("label", "string", max_length=120),))
SHOP_INPUT = Schema(
    "ShopSettingsInput",
    (
        Field("attribution_window_days", "integer", minimum=1, maximum=365),
        Field("hold_days", "integer", minimum=0, maximum=365),
        Field("payout_minimum_minor", "integer", minimum=0, maximum=10**12),
    ),
)

API_KEY = component(
    "ApiKey",
    obj(
        {
            "id": INT,
            "prefix": STR,
            "label": STR,
            "created_at": TIME,
            "revoked_at": nullable(TIME),
            "key": STR,
        },
        optional=("key",),
    ),
)
SHOP = component(
    "Shop",
    obj(
        {
            "id": INT,
            "platform": STR,
            "domain": STR,
            "name": STR,
            "currency": CURRENCY,
            "timezone": STR,
            "status": STR,
            "attribution_window_days": INT,
            "hold_days": INT,
            "payout_minimum_minor": INT,
        }
    ),
)


def key_json(key: ApiKey, clear: str | None = None) -> dict[str, Any]:
    body = {
        "id": key.id,
        "prefix": key.prefix,
        "label": key.label,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }
    if clear is not None:
        body["key"] = clear
    return body


def shop_json(shop: Shop) -> dict[str, Any]:
    return {
        "id": shop.id,
        "platform": shop.platform,
        "domain": shop.domain,
        "name": shop.name,
        "currency": shop.currency,
        "timezone": shop.timezone,
        "status": shop.status,
        "attribution_window_days": shop.attribution_window_days,
        "hold_days": shop.hold_days,
        "payout_minimum_minor": shop.payout_minimum_minor,
    }


@api_route("/shop", "GET", summary="The calling shop and its settings", tag="shop", response=SHOP)
def get_shop() -> ResponseReturnValue:
    return jsonify(shop_json(g.shop))


@api_route(
    "/shop",
    "PATCH",
    summary="Change the attribution window, hold period or payout minimum",
    tag="shop",
    request=SHOP_INPUT,
    partial=True,
    response=SHOP,
)
def update_shop() -> ResponseReturnValue:
    shop: Shop = g.shop
    for column, value in json_body(SHOP_INPUT, partial=True).items():
        setattr(shop, column, value)
    return saved(shop_json, shop)


list_route(
    "/api-keys",
    ApiKey,
    key_json,
    name="list_api_keys",
    summary="List API keys (prefixes only; keys are stored hashed)",
    tag="api-keys",
    response=API_KEY,
    query=PAGE_QUERY,
)


@api_route(
    "/api-keys",
    "POST",
    summary="Create an API key; the key is shown in this response only",
    tag="api-keys",
    request=KEY_INPUT,
    response=API_KEY,
    status=201,
)
def create_api_key() -> ResponseReturnValue:
    values = json_body(KEY_INPUT)
    tenant = current_tenant()
    key, clear = issue_api_key(tenant.session, tenant.shop_id, values.get("label", ""))
    return saved(key_json, key, clear, status=201)


@api_route(
    "/api-keys/<int:key_id>",
    "DELETE",
    summary="Revoke an API key",
    tag="api-keys",
    response=API_KEY,
)
def revoke_api_key(key_id: int) -> ResponseReturnValue:
    key = owned_or_404(ApiKey, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return saved(key_json, key)
