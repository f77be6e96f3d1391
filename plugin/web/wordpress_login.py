"""One click from wp-admin: the companion plugin's short-lived, single-use signed login link.

The plugin's "Open Tastemaker" button (shown to users with `manage_woocommerce` only) sends the
browser to `/woocommerce/login?shop=<public key>&expires=<unix time>&nonce=<random>&signature=`
with HMAC-SHA256 over `LINK_VERSION|shop|expires|nonce`, keyed with the shop's own sign-in
secret (made at connection, kept encrypted with its credentials). No secret is in the URL, the
link lives at most MAX_LIFETIME seconds, and its nonce is recorded on use (a unique column) so a
replayed link is refused. Any failure signs nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from plugin.db import get_session
from plugin.extensions import credentials
from plugin.models import OAuthState, Shop, utcnow
from plugin.web import admin_auth, rendering
from plugin.web.woocommerce_auth import LOGIN_SECRET

bp = Blueprint("wordpress_login", __name__)
rendering.install(bp)
logger = logging.getLogger(__name__)

LINK_VERSION = "tastemaker-login-v1"
MAX_LIFETIME = 60  # seconds between the click in wp-admin and the link's expiry
CLOCK_SKEW = 5  # seconds a WordPress clock may run ahead of ours
NONCE_PLATFORM = "woocommerce-login"


def link_signature(secret: str, shop: str, expires: int, nonce: str) -> str:
    message = f"{LINK_VERSION}|{shop}|{expires}|{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@bp.get("/woocommerce/login")
def login() -> ResponseReturnValue:
    refusal = _check_link()
    if refusal is not None:
        logger.warning("wp-admin login link refused: %s", refusal)
        get_session().rollback()
        return render_template("pages/login_link_refused.html"), 403
    return redirect(url_for("pages.dashboard"))


def _check_link() -> str | None:
    """None when the link signed the browser in; else why not."""
    args = request.args
    public_key, nonce = args.get("shop", ""), args.get("nonce", "")
    try:
        expires = int(args.get("expires", ""))
    except ValueError:
        return "bad_expiry"
    now = int(time.time())
    if expires < now:
        return "expired"
    if expires > now + MAX_LIFETIME + CLOCK_SKEW:
        return "lifetime_too_long"
    if not 16 <= len(nonce) <= 64 or not nonce.isalnum():
        return "bad_nonce"
    session = get_session()
    shop = session.scalars(
        select(Shop).where(Shop.public_key == public_key, Shop.platform == "woocommerce")
    ).first()
    if shop is None or not shop.is_active:
        return "unknown_shop"
    secret = str(credentials().open(shop.credentials_encrypted).get(LOGIN_SECRET) or "")
    given = args.get("signature", "")
    if not secret or not hmac.compare_digest(
        link_signature(secret, public_key, expires, nonce).encode(), given.encode()
    ):
        return "bad_signature"
    session.execute(
        delete(OAuthState).where(
            OAuthState.platform == NONCE_PLATFORM, OAuthState.expires_at < utcnow()
        )
    )
    now_at = utcnow()
    session.add(
        OAuthState(
            platform=NONCE_PLATFORM,
            nonce=f"{shop.id}:{nonce}",
            domain=shop.domain,
            shop_id=shop.id,
            expires_at=datetime.fromtimestamp(expires + CLOCK_SKEW, UTC),
            used_at=now_at,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        return "replayed"
    admin_auth.sign_in_browser(shop.id)
    session.commit()
    logger.info("shop %s signed in from wp-admin", shop.id)
    return None
