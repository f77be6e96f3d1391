"""Connecting a WooCommerce store: WooCommerce's key-granting flow (`/wc-auth/v1/authorize`).

The merchant enters the store address; we send them to the store with a one-time, unguessable
`user_id`. The store POSTs the new keys as JSON to our callback (unauthenticated: the `user_id`
is the only correlation, so it is claimed atomically and only after the keys proved themselves
against the store), then sends the merchant back to the return page, which signs the browser
that started the connection (a signed cookie names its `user_id`) in to the new shop's admin:
no key to copy. Later visits start from wp-admin (`plugin.web.wordpress_login`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import CursorResult, select, update

from connectors.base import ConnectorError, CredentialsRevoked
from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.stores import InvalidStoreUrl, normalize_store_url
from connectors.woocommerce.subscriptions import verify_keys
from plugin import background
from plugin.crypto import constant_time_equals, new_token
from plugin.db import get_session
from plugin.extensions import connectors, credentials, manifest
from plugin.models import OAuthState, Shop, utcnow
from plugin.services import woocommerce_keys
from plugin.services.shops import create_or_reinstall_shop, find_shop
from plugin.web import admin_auth, rendering
from plugin.web.auth import require_shop

bp = Blueprint("woocommerce_auth", __name__)
rendering.install(bp)
logger = logging.getLogger(__name__)

PLATFORM = "woocommerce"
APP_NAME = "Tastemaker"
SCOPE = "read_write"
STATE_TTL = timedelta(minutes=30)
STATE_COOKIE = "tm_wc_connect"
STATE_SALT = "tastemaker-woocommerce-connect"
LOGIN_SECRET = "login_secret"  # noqa: S105 - the credentials key of the wp-admin link secret


@bp.get("/woocommerce/connect")
def connect_form() -> ResponseReturnValue:
    return render_template("woocommerce/connect.html", error=None, store_url="")


@bp.post("/woocommerce/connect")
def connect() -> ResponseReturnValue:
    connector = _connector()
    raw = request.form.get("store_url", "")
    try:
        domain = normalize_store_url(raw, override_url=connector.override_url)
    except InvalidStoreUrl as exc:
        return render_template("woocommerce/connect.html", error=str(exc), store_url=raw), 400
    callback_url = _app_url("callback_url")
    if not callback_url.startswith("https://") and not connector.override_url:
        # WooCommerce refuses a callback that is not https on its authorize page, before the
        # merchant can approve (401 "The callback_url needs to be over SSL"): say so here.
        message = "Tastemaker must be served over https (TASTEMAKER_PUBLIC_URL) to connect stores."
        return render_template("woocommerce/connect.html", error=message, store_url=raw), 503
    nonce = new_token(32)
    session = get_session()
    session.add(
        OAuthState(platform=PLATFORM, nonce=nonce, domain=domain, expires_at=utcnow() + STATE_TTL)
    )
    session.commit()
    query = urlencode(
        {
            "app_name": APP_NAME,
            "scope": SCOPE,
            "user_id": nonce,
            "return_url": _app_url("return_url"),
            "callback_url": callback_url,
        }
    )
    response = redirect(f"{connector.base_url(domain)}/wc-auth/v1/authorize?{query}", code=302)
    # Binds the return page's sign-in to this browser: a return URL opened elsewhere (a link
    # an attacker connected their own store with) signs nobody in.
    response.set_cookie(
        STATE_COOKIE,
        _state_signer().dumps(nonce),
        max_age=int(STATE_TTL.total_seconds()),
        path="/woocommerce",
        secure=request.is_secure or callback_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.post("/woocommerce/callback")
def callback() -> ResponseReturnValue:
    keys = request.get_json(silent=True, force=True)
    if not isinstance(keys, dict):
        return jsonify(error="expected a JSON object"), 400
    nonce = str(keys.get("user_id") or "")
    consumer_key = str(keys.get("consumer_key") or "")
    consumer_secret = str(keys.get("consumer_secret") or "")
    if not (consumer_key.startswith("ck_") and consumer_secret.startswith("cs_")):
        return jsonify(error="consumer_key and consumer_secret are required"), 400
    if keys.get("key_permissions") != SCOPE:
        return jsonify(error="read_write keys are required"), 400
    session = get_session()
    state = _pending_state(nonce)
    if state is None:
        return jsonify(error="unknown, used or expired user_id"), 403
    state_id, domain = state.id, state.domain
    session.commit()  # no transaction stays open while we call the store
    try:
        info = verify_keys(_connector(), domain, consumer_key, consumer_secret)
    except CredentialsRevoked as exc:
        logger.warning("woocommerce keys for %s refused by the store: %s", domain, exc)
        return jsonify(error="the store refused these keys"), 400
    except ConnectorError as exc:
        logger.warning("woocommerce keys for %s could not be checked: %s", domain, exc)
        return jsonify(error="the store could not be reached to check the keys"), 502
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(OAuthState)
        .where(OAuthState.id == state_id, OAuthState.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        session.rollback()
        return jsonify(error="unknown, used or expired user_id"), 403
    previous = _existing_credentials(domain)
    granted = {
        "consumer_key": consumer_key,
        "consumer_secret": consumer_secret,
        "key_id": keys.get("key_id"),
        "key_permissions": SCOPE,
        "query_string_auth": info.query_string_auth,
        "webhook_secret": str(previous.get("webhook_secret") or new_token(32)),
        LOGIN_SECRET: str(previous.get(LOGIN_SECRET) or new_token(32)),
    }
    shop = create_or_reinstall_shop(
        session,
        credentials(),
        platform=PLATFORM,
        domain=domain,
        credentials=granted,
        currency=info.currency,
        name=domain,
    )
    woocommerce_keys.record_grant(shop, previous, granted)
    session.execute(update(OAuthState).where(OAuthState.id == state_id).values(shop_id=shop.id))
    background.after_commit(session, background.REGISTER_WOOCOMMERCE_WEBHOOKS, shop.id)
    # A reconnect leaves the previous keys in the store: revoke them, keeping the new one.
    background.after_commit(session, background.REVOKE_UNUSED_WOOCOMMERCE_KEYS, shop.id)
    session.commit()
    logger.info("woocommerce store %s connected as shop %s", domain, shop.id)
    return jsonify(status="connected"), 200


@bp.get("/woocommerce/return")
def return_page() -> ResponseReturnValue:
    if request.args.get("success") != "1":
        return _result("Not connected", "The store did not grant access to Tastemaker.", retry=True)
    session = get_session()
    state = session.scalars(
        select(OAuthState).where(
            OAuthState.platform == PLATFORM, OAuthState.nonce == request.args.get("user_id", "")
        )
    ).first()
    if state is not None and (state.shop_id is None or state.expires_at < utcnow()):
        state = None  # not connected (yet), or a return URL found later in a browser history
    shop = session.get(Shop, state.shop_id) if state is not None and state.shop_id else None
    if state is None or shop is None or not shop.is_active:
        return _result(
            "Almost there",
            "The store has not confirmed the connection yet. If this persists, connect again.",
            retry=True,
        )
    started_here = _cookie_names(state.nonce)
    session.delete(state)
    if not started_here:
        session.commit()
        return _result(
            "Store connected",
            "Tastemaker now receives this store's orders.",
            signed_in=False,
            domain=shop.domain,
        )
    admin_auth.sign_in_browser(shop.id)
    session.commit()
    # The merchant lands in their admin, signed in, with what the WordPress plugin needs.
    return render_template(
        "woocommerce/connected.html", shop=shop, plugin_settings=plugin_settings(shop)
    )


@bp.post("/woocommerce/disconnect")
@require_shop
def disconnect() -> ResponseReturnValue:
    shop: Shop = g.shop
    if shop.platform != PLATFORM:
        return jsonify(error="not_woocommerce", message="this shop is not a WooCommerce store"), 400
    background.after_commit(get_session(), background.DISCONNECT_WOOCOMMERCE, shop.id)
    get_session().commit()
    return jsonify(status="disconnecting"), 202


def _pending_state(nonce: str) -> OAuthState | None:
    if not nonce:
        return None
    state = (
        get_session()
        .scalars(
            select(OAuthState).where(OAuthState.platform == PLATFORM, OAuthState.nonce == nonce)
        )
        .first()
    )
    if state is None or state.used_at is not None or state.expires_at < utcnow():
        return None
    return state


def _existing_credentials(domain: str) -> dict[str, Any]:
    """A reconnecting shop's credentials: its secrets are kept, so its webhooks and the companion
    plugin's sign-in links stay valid while the store reconnects, and its key is revoked."""
    shop = find_shop(get_session(), PLATFORM, domain)
    if shop is None or shop.credentials_encrypted is None:
        return {}
    return dict(credentials().open(shop.credentials_encrypted))


def plugin_settings(shop: Shop) -> dict[str, str]:
    """What the companion plugin's settings page asks for, to show the merchant."""
    return {
        "Tastemaker URL": str(current_app.config["TASTEMAKER"].public_url).rstrip("/"),
        "Public shop key": shop.public_key,
        "Sign-in secret": str(credentials().open(shop.credentials_encrypted).get(LOGIN_SECRET)),
    }


def _state_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=STATE_SALT)


def _cookie_names(nonce: str) -> bool:
    cookie = request.cookies.get(STATE_COOKIE, "")
    try:
        signed = _state_signer().loads(cookie, max_age=int(STATE_TTL.total_seconds()))
    except BadSignature:
        return False
    return isinstance(signed, str) and constant_time_equals(signed, nonce)


def _connector() -> WooCommerceConnector:
    return cast(WooCommerceConnector, connectors().get(PLATFORM))


def _app_url(name: str) -> str:
    public_url = str(current_app.config["TASTEMAKER"].public_url).rstrip("/")
    return public_url + str(manifest().platform(PLATFORM)[name])


def _result(title: str, message: str, **context: Any) -> ResponseReturnValue:
    context.setdefault("retry", False)
    context.setdefault("signed_in", False)
    return render_template("woocommerce/result.html", title=title, message=message, **context)
