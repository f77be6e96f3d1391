"""The merchant's admin API keys, as a page: create one with a label (shown once), list them by
prefix, revoke one after a confirmation step. Integrators use these keys with /api/v1."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from plugin.db import get_session
from plugin.models import ApiKey, utcnow
from plugin.services.shops import issue_api_key
from plugin.web import admin_auth, rendering
from plugin.web.woocommerce_auth import plugin_settings

bp = Blueprint("admin_keys", __name__)
rendering.install(bp)

LABEL_MAX = 120


@bp.get("/admin/keys")
@admin_auth.admin_page
def keys() -> ResponseReturnValue:
    return _keys_page()


@bp.post("/admin/keys")
@admin_auth.admin_action
def create_key() -> ResponseReturnValue:
    label = request.form.get("label", "").strip()
    if not label or len(label) > LABEL_MAX:
        flash(
            f"Give the key a label of 1 to {LABEL_MAX} characters (who or what uses it).", "error"
        )
        return _keys_page(label=label), 400
    if label == admin_auth.BROWSER_KEY_LABEL:
        flash("That label is reserved; choose another.", "error")
        return _keys_page(label=label), 400
    key, clear = issue_api_key(get_session(), admin_auth.current_shop().id, label=label)
    get_session().commit()
    # Rendered, not redirected: the key is in this answer only and never stored in clear.
    return _keys_page(created=key, clear_key=clear)


@bp.get("/admin/keys/<int:key_id>/revoke")
@admin_auth.admin_page
def confirm_revoke(key_id: int) -> ResponseReturnValue:
    return render_template(
        "pages/admin_key_revoke.html", shop=admin_auth.current_shop(), key=_live_key(key_id)
    )


@bp.post("/admin/keys/<int:key_id>/revoke")
@admin_auth.admin_action
def revoke_key(key_id: int) -> ResponseReturnValue:
    key = _live_key(key_id)
    key.revoked_at = utcnow()
    get_session().commit()
    flash(f"Key {key.prefix}… ({key.label}) revoked; it no longer works.", "ok")
    return redirect(url_for("admin_keys.keys"))


def _live_key(key_id: int) -> ApiKey:
    key = admin_auth.current_tenant().get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        abort(404)
    return key


def _keys_page(
    *, created: ApiKey | None = None, clear_key: str | None = None, label: str = ""
) -> str:
    shop = admin_auth.current_shop()
    rows = get_session().scalars(
        select(ApiKey)
        .where(ApiKey.shop_id == shop.id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return render_template(
        "pages/admin_keys.html",
        shop=shop,
        keys=list(rows),
        created=created,
        clear_key=clear_key,
        label=label,
        browser_label=admin_auth.BROWSER_KEY_LABEL,
        # A WooCommerce store's plugin needs these once more after a WordPress reinstall.
        plugin_settings=plugin_settings(shop) if shop.platform == "woocommerce" else None,
    )
