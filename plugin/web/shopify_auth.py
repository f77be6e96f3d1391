"""Installing Tastemaker on a Shopify store the OAuth way (non-embedded installs).

`/shopify/install` and `/shopify/callback` run the authorization code grant over a signed query
(`_signed_query`) with a one-time state nonce kept in the database and bound to the browser by a
signed cookie; the callback stores an expiring offline token encrypted, sends the webhook
registration job after commit and sends the merchant (a top-level redirect: the callback is
never framed) into the Shopify admin, to the app's embedded URL there.
Inside the Shopify admin (Shopify-managed installation, `application_url` = /admin) the app is
opened with a session token instead: see `plugin.web.shopify_embedded`, imported here so its
token resolver and authenticator are registered with the blueprint. When OAuth must leave the
iframe it does so through App Bridge (`open(url, "_top")`), never by a 302 inside the frame.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple, cast
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import CursorResult, delete, update

from connectors.base import (
    ConnectorError,
    RetryableConnectorError,
    ShopContext,
)
from connectors.shopify import ShopifyConnector
from connectors.shopify.oauth import query_hmac_valid, timestamp_fresh
from connectors.shopify.urls import valid_shop_domain
from plugin import background
from plugin.db import get_db, get_session
from plugin.extensions import connectors, credentials, manifest
from plugin.models import OAuthState, utcnow
from plugin.services import privacy
from plugin.services.credentials import ensure_fresh_credentials
from plugin.services.shops import (
    create_or_reinstall_shop,
    find_shop,
)
from plugin.web import admin_auth
from plugin.web.auth import current_tenant, require_shop
from plugin.web.shopify_embedded import connector as _connector

bp = Blueprint("shopify_auth", __name__)
logger = logging.getLogger(__name__)

PLATFORM = "shopify"
STATE_COOKIE = "shopify_app_state"
STATE_TTL = timedelta(minutes=5)
STATE_SALT = "tastemaker-shopify-oauth-state"


class SignedQuery(NamedTuple):
    connector: ShopifyConnector
    params: dict[str, Any]
    shop: str


def _signed_query(step: str) -> SignedQuery | ResponseReturnValue:
    """Shop domain (before any outbound call), HMAC over every parameter, fresh timestamp."""
    connector = _connector()
    if connector is None:
        return _error("shopify_not_configured", 503)
    params = _query_params(request)
    if params is None:
        return _error("duplicate_parameter", 400)
    shop = valid_shop_domain(params.get("shop"))
    if shop is None:
        return _error("invalid_shop", 400)
    if not query_hmac_valid(params, connector.secrets):
        logger.warning("shopify %s with a bad HMAC for %s", step, shop)
        return _error("invalid_hmac", 401)
    if not timestamp_fresh(params.get("timestamp")):
        return _error("stale_request", 400)
    return SignedQuery(connector, params, shop)


# -- install ------------------------------------------------------------------------------------


@bp.get("/shopify/install")
def install() -> ResponseReturnValue:
    verified = _signed_query("install")
    if not isinstance(verified, SignedQuery):
        return verified
    connector, _params, shop = verified
    if _inside_a_frame():
        # Shopify's authorize page refuses to be framed and the state cookie would be a
        # third-party cookie here: App Bridge sends the top window to this same signed URL.
        return render_template("pages/exit_iframe.html", target=request.full_path), 200
    session = get_session()
    existing = find_shop(session, PLATFORM, shop)
    if (
        existing is not None
        and existing.is_active
        and connector.credentials_usable(credentials().open(existing.credentials_encrypted))
    ):
        # An installed shop opening the app: nothing to authorize, open it in the admin.
        session.rollback()
        return redirect(_embedded_app_url(connector, shop))
    nonce = secrets.token_hex(32)
    session.add(
        OAuthState(
            platform=PLATFORM,
            nonce=nonce,
            domain=shop,
            shop_id=existing.id if existing is not None else None,
            expires_at=utcnow() + STATE_TTL,
        )
    )
    session.commit()
    target = connector.authorize_url(
        shop, manifest().scopes(PLATFORM), redirect_uri=_app_url("callback_url"), state=nonce
    )
    response = redirect(target)
    response.set_cookie(
        STATE_COOKIE,
        _state_signer().dumps(nonce),
        max_age=int(STATE_TTL.total_seconds()),
        path="/shopify",
        secure=request.is_secure or _app_url("callback_url").startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/shopify/callback")
def callback() -> ResponseReturnValue:
    verified = _signed_query("callback")
    if not isinstance(verified, SignedQuery):
        return verified
    connector, params, shop = verified
    state = str(params.get("state") or "")
    if not state or not _cookie_matches(state) or not _claim_state(state, shop):
        logger.warning("shopify callback with a bad or reused state for %s", shop)
        return _error("invalid_state", 400)
    code = str(params.get("code") or "")
    if not code:
        return _error("missing_code", 400)
    try:
        tokens = connector.exchange_code(shop, code)
        details = connector.shop_details(shop, tokens.access_token)
    except RetryableConnectorError as exc:
        logger.warning("shopify install of %s: Shopify unavailable: %s", shop, exc)
        return _error("shopify_unavailable", 502)
    except ConnectorError as exc:
        logger.warning("shopify install of %s refused: %s", shop, exc)
        return _error("install_failed", 400)
    session = get_session()
    installed = create_or_reinstall_shop(
        session,
        credentials(),
        platform=PLATFORM,
        domain=shop,
        credentials=tokens.as_credentials(),
        currency=details.currency,
        name=details.name,
        timezone=details.timezone,
    )
    background.after_commit(session, background.REGISTER_SHOPIFY_WEBHOOKS, installed.id)
    background.after_commit(session, background.PUBLISH_SHOPIFY_APP_DATA, installed.id)
    # The browser that completed OAuth is the merchant's (state cookie + Shopify's signature).
    admin_auth.sign_in_browser(installed.id)
    # This install is done: its nonce (used) and any abandoned ones for the shop can go.
    session.execute(
        delete(OAuthState).where(OAuthState.platform == PLATFORM, OAuthState.domain == shop)
    )
    session.commit()
    logger.info("shopify shop %s installed as shop %s", shop, installed.id)
    response = redirect(_embedded_app_url(connector, shop))
    response.delete_cookie(STATE_COOKIE, path="/shopify")
    return response


def _inside_a_frame() -> bool:
    dest = request.headers.get("Sec-Fetch-Dest")
    return dest == "iframe" or (dest is None and request.args.get("embedded") == "1")


# -- privacy exports (customers/data_request) ---------------------------------------------------


@bp.get("/shopify/privacy-exports")
@require_shop
def privacy_exports() -> ResponseReturnValue:
    tenant = current_tenant()
    return jsonify(exports=privacy.list_exports(_export_root(), tenant.shop_id))


@bp.get("/shopify/privacy-exports/<int:request_id>")
@require_shop
def privacy_export(request_id: int) -> ResponseReturnValue:
    path = privacy.export_path(_export_root(), current_tenant().shop_id, request_id)
    if path is None:
        return _error("not_found", 404)
    return Response(
        path.read_bytes(),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=data-request-{request_id}.json"},
    )


# -- wiring -------------------------------------------------------------------------------------


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    install_credentials_refresher(cast(Flask, state.app))


def install_credentials_refresher(app: Flask) -> None:
    """Give the app's Shopify connector the locked refresh, run in a transaction of its own."""
    registry = connectors(app)
    if PLATFORM not in registry.platforms():
        return
    connector = registry.get(PLATFORM)
    if not isinstance(connector, ShopifyConnector):
        return

    def refresh(context: ShopContext) -> Mapping[str, Any]:
        session = get_db(app).new_session()
        try:
            return ensure_fresh_credentials(session, credentials(app), connector, context.shop_id)
        finally:
            session.close()

    connector.credentials_refresher = refresh


def _query_params(req: Request) -> dict[str, Any] | None:
    """Every query parameter (the HMAC covers all of them); None if a plain one repeats."""
    params: dict[str, Any] = {}
    for key in req.args:
        values = req.args.getlist(key)
        if key.endswith("[]"):
            params[key] = values
        elif len(values) > 1:
            return None
        else:
            params[key] = values[0]
    return params


def _state_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=STATE_SALT)


def _cookie_matches(state: str) -> bool:
    cookie = request.cookies.get(STATE_COOKIE)
    if not cookie:
        return False
    try:
        nonce = _state_signer().loads(cookie, max_age=int(STATE_TTL.total_seconds()))
    except BadSignature:
        return False
    return isinstance(nonce, str) and bool(hmac.compare_digest(nonce.encode(), state.encode()))


def _claim_state(state: str, shop: str) -> bool:
    """Use the nonce once: the conditional UPDATE lets exactly one request through."""
    session = get_session()
    now = utcnow()
    result = session.execute(
        update(OAuthState)
        .where(
            OAuthState.platform == PLATFORM,
            OAuthState.nonce == state,
            OAuthState.domain == shop,
            OAuthState.used_at.is_(None),
            OAuthState.expires_at > now,
        )
        .values(used_at=now)
    )
    claimed = cast(CursorResult[Any], result).rowcount  # an UPDATE's result has a rowcount
    session.commit()
    return bool(claimed == 1)


def _embedded_app_url(connector: ShopifyConnector, shop: str) -> str:
    """The app inside this shop's Shopify admin: `https://admin.shopify.com/store/<store>/apps/
    <client id>`, what Shopify's libraries build from the `host` parameter (base64 of
    `admin.shopify.com/store/<store>`). Built from the validated shop domain rather than from
    `host`, so nothing the query says can send the merchant elsewhere; the admin origin is a
    setting so the demo lands in its admin stand-in."""
    admin = str(current_app.config["TASTEMAKER"].shopify_admin_origin).rstrip("/")
    store = shop.split(".", 1)[0]
    return f"{admin}/store/{quote(store)}/apps/{quote(connector.api_key)}"


def _app_url(name: str) -> str:
    public = str(current_app.config["TASTEMAKER"].public_url).rstrip("/")
    return public + str(manifest().platform(PLATFORM)[name])


def _export_root() -> Path:
    return privacy.export_root(current_app.config["TASTEMAKER"].media_dir)


def _error(reason: str, status: int) -> ResponseReturnValue:
    return jsonify(error=reason), status
