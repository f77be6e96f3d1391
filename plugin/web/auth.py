"""Who is calling the admin API: the shop, from an API key or a platform session token.

Authenticators are tried in order; each returns a shop id or None. The Shopify connector's web
module adds one for App Bridge session tokens (`register_authenticator`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Request, g, jsonify, request
from sqlalchemy import select

from plugin.crypto import sha256_hex
from plugin.db import get_session
from plugin.models import ApiKey, Shop
from plugin.services.shops import API_KEY_PREFIX
from plugin.tenancy import Tenant

P = ParamSpec("P")
R = TypeVar("R")
Authenticator = Callable[[Request], int | None]

_AUTHENTICATORS: list[Authenticator] = []


def register_authenticator(authenticator: Authenticator) -> Authenticator:
    if authenticator not in _AUTHENTICATORS:
        _AUTHENTICATORS.append(authenticator)
    return authenticator


@register_authenticator
def api_key_authenticator(req: Request) -> int | None:
    """`Authorization: Bearer tmk_…` or `X-Tastemaker-Key: tmk_…`; only the hash is stored."""
    header = req.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    key = key or req.headers.get("X-Tastemaker-Key", "").strip()
    if not key.startswith(API_KEY_PREFIX):
        return None
    row = (
        get_session()
        .scalars(
            select(ApiKey).where(ApiKey.key_hash == sha256_hex(key), ApiKey.revoked_at.is_(None))
        )
        .first()
    )
    return row.shop_id if row else None


def current_tenant() -> Tenant:
    tenant: Tenant = g.tenant
    return tenant


def require_shop(view: Callable[P, R]) -> Callable[P, Any]:
    """Resolve the calling shop or answer 401; the view reads it with current_tenant()."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        for authenticator in _AUTHENTICATORS:
            shop_id = authenticator(request)
            if shop_id is not None:
                break
        else:
            return jsonify(
                error="unauthorized", message="a valid API key or session token is required"
            ), 401
        shop = get_session().get(Shop, shop_id)
        if shop is None or shop.status == "uninstalled":
            return jsonify(error="unauthorized", message="this shop is not installed"), 401
        g.shop = shop
        g.tenant = Tenant(get_session(), shop_id)
        return view(*args, **kwargs)

    return wrapper
