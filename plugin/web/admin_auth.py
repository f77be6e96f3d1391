"""Who is signed in to the merchant pages: the one place every admin page and action asks.

Pages decorate their views with `admin_page` (GET: the sign-in page when nobody is signed in) or
`admin_action` (POST: 403 without a shop, CSRF checked) and read the shop with `current_shop()`
and its scoped queries with `current_tenant()`. How the merchant proved who they are (a session
cookie after an API-key sign-in or an install, or a platform session token when embedded) is
decided here only, so pages never depend on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import abort, g, render_template, session
from sqlalchemy import select

from plugin.crypto import sha256_hex
from plugin.db import get_session
from plugin.models import ApiKey, Shop
from plugin.services.shops import API_KEY_PREFIX
from plugin.tenancy import Tenant
from plugin.web import rendering

P = ParamSpec("P")
R = TypeVar("R")

SESSION_SHOP = "tm_admin_shop"
SESSION_KEY = "tm_admin_key"


def signed_in_shop() -> Shop | None:
    """This browser session's shop, re-checked on every request (revoking the key signs out)."""
    shop_id, key_id = session.get(SESSION_SHOP), session.get(SESSION_KEY)
    if not isinstance(shop_id, int) or not isinstance(key_id, int):
        return None
    db = get_session()
    key = db.get(ApiKey, key_id)
    shop = db.get(Shop, shop_id)
    if key is None or key.revoked_at is not None or key.shop_id != shop_id:
        return None
    if shop is None or shop.status == "uninstalled":
        return None
    return shop


def remember_shop(shop_id: int, key_id: int) -> None:
    """Start a fresh session for this shop (the old session's values, CSRF token included, go)."""
    session.clear()
    session[SESSION_SHOP] = shop_id
    session[SESSION_KEY] = key_id


def sign_in_with_key(clear_key: str) -> bool:
    if not clear_key.startswith(API_KEY_PREFIX):
        return False
    key = (
        get_session()
        .scalars(
            select(ApiKey).where(
                ApiKey.key_hash == sha256_hex(clear_key), ApiKey.revoked_at.is_(None)
            )
        )
        .first()
    )
    if key is None:
        return False
    remember_shop(key.shop_id, key.id)
    return True


def sign_out() -> None:
    session.clear()


def _bind(shop: Shop) -> None:
    g.shop = shop
    g.tenant = Tenant(get_session(), shop.id)


def current_shop() -> Shop:
    shop: Shop = g.shop
    return shop


def current_tenant() -> Tenant:
    tenant: Tenant = g.tenant
    return tenant


def admin_page(view: Callable[P, R]) -> Callable[P, Any]:
    """A page a signed-in merchant reads; anyone else sees the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        shop = signed_in_shop()
        if shop is None:
            return render_template("pages/sign_in.html"), 200
        _bind(shop)
        return view(*args, **kwargs)

    return wrapper


def admin_action(view: Callable[P, R]) -> Callable[P, Any]:
    """A state-changing request of a signed-in merchant: 403 for anyone else, CSRF checked."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        shop = signed_in_shop()
        if shop is None:
            abort(403)
        rendering.check_csrf()
        _bind(shop)
        return view(*args, **kwargs)

    return wrapper
