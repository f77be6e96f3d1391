"""Who is signed in to the merchant pages: the one place every admin page and action asks.

Pages decorate their views with `admin_page` (GET: the sign-in page when nobody is signed in) or
`admin_action` (POST: refused without a shop, CSRF checked) and read the shop with
`current_shop()` and its scoped queries with `current_tenant()`. How the merchant proved who they
are is decided here only, so pages never depend on it:

- Embedded in the Shopify admin (an iframe on another site, where browsers drop our cookie):
  every request carries an App Bridge session token, as `Authorization: Bearer <id token>` (the
  small `embedded-admin.js` adds it to links and forms) or, on the admin's first document load,
  as the `id_token` query parameter Shopify adds. Such a request never reads or writes the
  session cookie (`CookielessSessionInterface`), so a stale cookie can never answer for it, and
  needs no CSRF token: nothing a browser sends on its own can carry the token.
- Standalone (self-hosters, a WooCommerce merchant arriving from wp-admin or after connecting):
  a signed session cookie that names the shop and the API key the sign-in stands on, re-checked
  on every request, rotated on sign-in, HttpOnly, Secure over https; forms carry a CSRF token.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import select

from plugin.crypto import sha256_hex
from plugin.db import get_session
from plugin.models import ApiKey, Shop
from plugin.services.shops import API_KEY_PREFIX, issue_api_key
from plugin.tenancy import Tenant
from plugin.web import csrf

P = ParamSpec("P")
R = TypeVar("R")
Owned = TypeVar("Owned")

SESSION_SHOP = "tm_admin_shop"
SESSION_KEY = "tm_admin_key"
SESSION_NONCE = "tm_admin_nonce"
LOCATION_HEADER = "X-Tastemaker-Location"
FLASH_HEADER = "X-Tastemaker-Flash"

# (token, may_install) -> the shop the token speaks for, or None. The Shopify web module
# registers the one resolver (App Bridge session tokens); `may_install` is True only on the
# admin's document load, where a shop without an offline token may get one by token exchange.
TokenResolver = Callable[[str, bool], Shop | None]
_RESOLVERS: list[TokenResolver] = []


def register_token_resolver(resolver: TokenResolver) -> TokenResolver:
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)
    return resolver


# -- how this request authenticates -------------------------------------------------------------


def request_token(req: Request | None = None) -> tuple[str, bool] | None:
    """The session token this request carries and whether it came with a document load."""
    req = req or request
    header = req.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if token.count(".") == 2 and not token.startswith(API_KEY_PREFIX):
            return token, False
    if req.method == "GET":
        token = req.args.get("id_token", "")
        if token.count(".") == 2:
            return token, True
    return None


# Pages the Shopify admin frames; elsewhere (a storefront form someone frames) a frame changes
# nothing about how the request is authenticated.
EMBEDDABLE_PATHS = ("/admin", "/shopify/install")


def embedded_request(req: Request | None = None) -> bool:
    """Inside the platform admin's iframe (or claiming to be): the cookie is not consulted."""
    req = req or request
    if request_token(req) is not None:
        return True
    framed = req.headers.get("Sec-Fetch-Dest") == "iframe" or req.args.get("embedded") == "1"
    return framed and req.path.startswith(EMBEDDABLE_PATHS)


# Per-request memo, kept in the WSGI environ: `g` can outlive a request (tests push one app
# context for many requests).
_SIGNED_IN = "tastemaker.admin.signed_in"
_VIA_SESSION_TOKEN = "tastemaker.admin.via_session_token"  # noqa: S105 - a key name


def token_authenticated() -> bool:
    return bool(request.environ.get(_VIA_SESSION_TOKEN))


def signed_in_shop() -> Shop | None:
    """This request's shop: from its session token when embedded, else from the cookie."""
    if _SIGNED_IN in request.environ:
        cached: Shop | None = request.environ[_SIGNED_IN]
        return cached
    shop: Shop | None = None
    found = request_token()
    if found is not None:
        token, may_install = found
        for resolver in _RESOLVERS:
            shop = resolver(token, may_install)
            if shop is not None:
                request.environ[_VIA_SESSION_TOKEN] = True
                break
    elif not embedded_request():
        shop = _cookie_shop()
    request.environ[_SIGNED_IN] = shop
    return shop


def resolved_shop() -> Shop | None:
    """The shop this request was already signed in as, without checking anything again."""
    shop: Shop | None = request.environ.get(_SIGNED_IN)
    return shop


def _cookie_shop() -> Shop | None:
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
    """Start a fresh session for this shop: the old session's values (CSRF token included) go
    and a new nonce makes the cookie differ from any earlier one (session rotation)."""
    session.clear()
    session[SESSION_SHOP] = shop_id
    session[SESSION_KEY] = key_id
    session[SESSION_NONCE] = secrets.token_urlsafe(16)
    request.environ.pop(_SIGNED_IN, None)


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


BROWSER_KEY_LABEL = "browser sign-ins"


def sign_in_browser(shop_id: int) -> None:
    """Sign this browser in to a shop it proved itself for without an API key (a Shopify
    install, a WooCommerce connection, a wp-admin login link). The session stands on the
    shop's "browser sign-ins" key, so revoking that key on the API keys page signs out every
    such browser. The caller commits."""
    db = get_session()
    key = db.scalars(
        select(ApiKey).where(
            ApiKey.shop_id == shop_id,
            ApiKey.label == BROWSER_KEY_LABEL,
            ApiKey.revoked_at.is_(None),
        )
    ).first()
    if key is None:
        key, _clear = issue_api_key(db, shop_id, label=BROWSER_KEY_LABEL)
    remember_shop(shop_id, key.id)


def sign_out() -> None:
    session.clear()
    request.environ.pop(_SIGNED_IN, None)


def _bind(shop: Shop) -> None:
    g.shop = shop
    g.tenant = Tenant(get_session(), shop.id)


def current_shop() -> Shop:
    shop: Shop = g.shop
    return shop


def current_tenant() -> Tenant:
    tenant: Tenant = g.tenant
    return tenant


# -- the decorators -----------------------------------------------------------------------------


def owned_or_404(model: type[Owned], row_id: int) -> Owned:
    """The signed-in shop's row of `model`, or 404 (another shop's row does not exist here)."""
    row = current_tenant().get(model, row_id)
    if row is None:
        abort(404)
    return row


def admin_page(view: Callable[P, R]) -> Callable[P, Any]:
    """A page a signed-in merchant reads; anyone else sees the sign-in page (standalone), the
    page that fetches it again with a session token (embedded), or 401 (a refused token)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        shop = signed_in_shop()
        if shop is None:
            return _not_signed_in()
        _bind(shop)
        return _for_token_client(view(*args, **kwargs))

    return wrapper


def admin_action(view: Callable[P, R]) -> Callable[P, Any]:
    """A state-changing request of a signed-in merchant: refused for anyone else; CSRF checked
    unless a session token (never sent by a browser on its own) authenticated it."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        shop = signed_in_shop()
        if shop is None:
            abort(401 if embedded_request() else 403)
        if not token_authenticated():
            csrf.check_csrf()
        _bind(shop)
        return _for_token_client(view(*args, **kwargs))

    return wrapper


def _not_signed_in() -> Any:
    if request_token() is not None:
        return render_template("pages/embedded_refused.html"), 401
    if embedded_request():
        return render_template("pages/embedded_reload.html"), 200
    return render_template("pages/sign_in.html"), 200


def _for_token_client(result: Any) -> Any:
    """A redirect answered to the embedded script becomes 204 + where to go + the flashed
    messages: fetch would follow a 302 silently and the messages would be lost with the
    session, which is never stored for these requests."""
    if not token_authenticated():
        return result
    response = make_response(result)
    if not 300 <= response.status_code < 400 or "Location" not in response.headers:
        return response
    flashes = session.pop("_flashes", [])
    answer = Response(status=204)
    answer.headers[LOCATION_HEADER] = response.headers["Location"]
    if flashes:
        answer.headers[FLASH_HEADER] = quote(json.dumps([list(item) for item in flashes]))
    return answer


# -- wiring: the cookie session only where a cookie is the proof --------------------------------


class CookielessSession(SecureCookieSession):
    """The session of a token-authenticated request: lives for the request only."""


class CookielessSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if embedded_request(request) or _api_bearer(request):
            return CookielessSession()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if isinstance(session, CookielessSession):
            return
        super().save_session(app, session, response)


def _api_bearer(req: Request) -> bool:
    return req.headers.get("Authorization", "").lower().startswith("bearer ")


def init_app(app: Flask) -> None:
    settings = app.config["TASTEMAKER"]
    secure = settings.is_production or settings.public_url.startswith("https://")
    app.session_interface = CookielessSessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Lax",
        # __Host-: only ever set by us, over https, for the whole origin (no Domain attribute).
        SESSION_COOKIE_NAME="__Host-tastemaker" if secure else "tastemaker_session",
    )


def app_url(path: str) -> str:
    return str(current_app.config["TASTEMAKER"].public_url).rstrip("/") + path
