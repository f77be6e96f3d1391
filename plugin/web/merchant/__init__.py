"""The merchant pages under /admin/...: one blueprint, one module per workflow.

Pages are server-rendered HTML forms (POST + CSRF token, a confirmation page before anything
destructive, marked `form[data-confirm]` so that inside the Shopify admin it is asked in App
Bridge's modal instead: see plugin/static/embedded-admin.js); the one script (`merchant.js`,
copy buttons) is optional, so every page works without it.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response

from plugin.domain import reasons
from plugin.models import Shop
from plugin.services.ledger import shop_timezone
from plugin.web import rendering
from plugin.web.merchant.definitions import DEFINITIONS

bp = Blueprint("merchant", __name__)

# The pages' policy plus same-origin scripts (the copy button) and https images (posts' media
# on the creators' and the store's CDNs, shown in the review queue); the rest as rendering's.

rendering.install(bp)
bp.add_app_template_filter(reasons.readable, "reason")
bp.add_app_template_filter(reasons.percent, "percent")


def shop_day(value: datetime | None, shop: Shop) -> str:
    """A stored instant as the shop's calendar day ("03 Dec 2026"): merchants think in their
    own timezone, not UTC."""
    if value is None:
        return rendering.NO_VALUE
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(shop_timezone(shop)).strftime("%d %b %Y")


def shop_when(value: datetime | None, shop: Shop) -> str:
    if value is None:
        return rendering.NO_VALUE
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(shop_timezone(shop))
    return local.strftime("%d %b %Y, %H:%M ") + (local.tzname() or shop.timezone)


def shop_last_day(exclusive_end: datetime | None, shop: Shop) -> str:
    """The last day a period includes, for ends stored exclusive (the next midnight)."""
    if exclusive_end is None:
        return rendering.NO_VALUE
    return shop_day(exclusive_end - timedelta(microseconds=1), shop)


bp.add_app_template_global(DEFINITIONS, "metric_definitions")
bp.add_app_template_filter(shop_day, "shop_day")
bp.add_app_template_filter(shop_last_day, "shop_last_day")
bp.add_app_template_filter(shop_when, "shop_when")


@bp.after_request
def page_policy(response: Response) -> Response:
    # Registered after rendering.install, so it runs first and rendering's setdefault keeps it:
    # the request's own policy (framing, App Bridge) plus https images for creators' posts.
    from plugin.web import embedding  # imports admin_auth, which imports rendering

    policy = embedding.content_security_policy(images="'self' data: https:")
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


for _module in (
    "creators",
    "creator_import",
    "codes",
    "campaigns",
    "content",
    "programs",
    "payouts",
    "settings",
    "performance",
    "landing",
):
    importlib.import_module(f"{__name__}.{_module}")
