"""Settings: hold period, attribution window, payout minimum (the API's ShopSettingsInput rules),
the storefront origins the carousel answers, and the currency and timezone the shop reports."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.validation import ValidationFailed
from plugin.extensions import credentials
from plugin.services import ugc as ugc_service
from plugin.services import woocommerce_keys
from plugin.web import admin_auth
from plugin.web.admin_api.keys import SHOP_INPUT
from plugin.web.merchant import bp
from plugin.web.merchant.forms import INVALID_FORM, form_errors, form_values, money_text
from plugin.web.ugc_api_io import ORIGIN


def _form(errors: dict[str, str], form: Any, status: int = 200) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    keys_left, keys_problem = woocommerce_keys.keys_left_in_store(shop, credentials())
    return (
        render_template(
            "merchant/settings.html",
            shop=shop,
            errors=errors,
            form=form,
            keys_left=keys_left,
            keys_problem=keys_problem,
        ),
        status,
    )


@bp.get("/admin/settings")
@admin_auth.admin_page
def settings() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    origins = ugc_service.ugc_settings(shop.settings).storefront_origins
    return _form(
        {},
        {
            "hold_days": shop.hold_days,
            "attribution_window_days": shop.attribution_window_days,
            "payout_minimum_minor": money_text(shop.payout_minimum_minor, shop.currency),
            "storefront_origins": "\n".join(origins),
        },
    )


@bp.post("/admin/settings")
@admin_auth.admin_action
def save_settings() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    errors: dict[str, str] = {}
    try:
        values = form_values(SHOP_INPUT, request.form, shop=shop, money=("payout_minimum_minor",))
    except ValidationFailed as failed:
        errors.update(form_errors(failed))
        values = {}
    origins = [
        line.strip().rstrip("/")
        for line in request.form.get("storefront_origins", "").replace(",", "\n").splitlines()
        if line.strip()
    ]
    bad = [origin for origin in origins if not re.fullmatch(ORIGIN, origin)]
    if bad:
        errors["storefront_origins"] = f"must be https origins like https://shop.example ({bad[0]})"
    elif len(origins) > 20:
        errors["storefront_origins"] = "can list at most 20 origins"
    if errors:
        return _form(errors, request.form, INVALID_FORM)
    for column, value in values.items():
        setattr(shop, column, value)
    current = dict(shop.settings or {})
    current["ugc"] = {**dict(current.get("ugc") or {}), "storefront_origins": origins}
    shop.settings = current  # a new dict, so the JSON column is marked changed
    ugc_service.bump_feed_version(get_session(), shop.id)
    get_session().commit()
    flash("Settings saved. New commissions use them; existing ones keep their dates.", "ok")
    return redirect(url_for("merchant.settings"))
