"""The merchant pages under /admin/...: one blueprint, one module per workflow.

Pages are server-rendered HTML forms (POST + CSRF token, a confirmation page before anything
destructive); the one script (`merchant.js`, copy buttons) is optional, so every page works
without it.
"""

from __future__ import annotations

import importlib

from flask import Blueprint, Response

from plugin.domain import reasons
from plugin.web import rendering

bp = Blueprint("merchant", __name__)

# The pages' policy plus same-origin scripts (the copy button); everything else as rendering's.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; "
    f"frame-ancestors 'self' {rendering.SHOPIFY_FRAME_ANCESTORS}"
)

rendering.install(bp)
bp.add_app_template_filter(reasons.readable, "reason")


@bp.after_request
def page_policy(response: Response) -> Response:
    # Registered after rendering.install, so it runs first and rendering's setdefault keeps it.
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
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
