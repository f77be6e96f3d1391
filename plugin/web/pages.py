"""The merchant dashboard at /admin: creators, attributions, ledger, payouts and metrics.

Who is signed in is `admin_auth`'s business (a session token inside the Shopify admin, a session
cookie standalone). No secret travels in a URL: `?key=` is ignored; the standalone API-key
sign-in is a POST form with a CSRF token. Actions are POST forms with a CSRF token.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.metrics import METRIC_DEFINITIONS
from plugin.models import Creator, Payout, utcnow
from plugin.services import overview
from plugin.services import payouts as payout_service
from plugin.services.creators import issue_portal_token
from plugin.services.metrics import creator_metrics, shop_summary
from plugin.tenancy import Tenant
from plugin.web import admin_auth, csrf, rendering
from plugin.web.admin_nav import NAV_ITEMS

bp = Blueprint("pages", __name__)
rendering.install(bp)
bp.add_app_template_global(NAV_ITEMS, "admin_nav")

PERIODS = (7, 30, 90, 365)
# The dashboard lists the program's top creators; the full list is paginated (/admin/creators).
DASHBOARD_CREATORS = 25


@bp.get("/admin")
@admin_auth.admin_page
def dashboard() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    days = request.args.get("days", type=int) or 30
    if days not in PERIODS:
        days = 30
    db = get_session()
    end = utcnow()
    # Metrics count whole shop-local days: today and the days - 1 before it.
    start = end - timedelta(days=days - 1)
    performances = creator_metrics(db, shop.id, start=start, end=end)
    top = overview.top_creator_ids(performances, DASHBOARD_CREATORS)
    return render_template(
        "pages/admin.html",
        shop=shop,
        days=days,
        periods=PERIODS,
        summary=shop_summary(db, shop.id, start=start, end=end),
        by_creator={row.creator_id: row.performance for row in performances},
        creators=overview.creator_rows(db, shop.id, creator_ids=top),
        creator_count=len(performances),
        attributions=overview.attribution_rows(db, shop.id, limit=20),
        ledger=overview.recent_ledger(db, shop.id),
        batches=overview.batch_views(db, shop.id),
        method_labels=overview.METHOD_LABELS,
        definitions=METRIC_DEFINITIONS,
        now=end,
    )


@bp.post("/admin/sign-in")
def sign_in() -> ResponseReturnValue:
    csrf.check_csrf()
    if not admin_auth.sign_in_with_key(request.form.get("api_key", "").strip()):
        flash("That API key is not valid or was revoked.", "error")
    return redirect(url_for("pages.dashboard"))


@bp.post("/admin/sign-out")
def sign_out() -> ResponseReturnValue:
    csrf.check_csrf()
    admin_auth.sign_out()
    return redirect(url_for("pages.dashboard"))


@bp.post("/admin/payouts/batch")
@admin_auth.admin_action
def run_batch() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    batch_key = "manual-" + utcnow().strftime("%Y%m%dT%H%M%S")
    created = payout_service.batch_payouts(get_session(), shop.id, batch_key)
    get_session().commit()
    if created:
        flash(f"Batch {batch_key}: {len(created)} payouts waiting for your approval.", "ok")
    else:
        flash("Nobody is owed at least the payout minimum right now.", "ok")
    return _back()


@bp.post("/admin/payouts/<int:payout_id>/<action>")
@admin_auth.admin_action
def payout_action(payout_id: int, action: str) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    db = get_session()
    if Tenant(db, shop.id).get(Payout, payout_id) is None:
        abort(404)
    try:
        if action == "approve":
            payout_service.approve_payout(db, shop.id, payout_id)
            message = "Payout approved."
        elif action == "mark-paid":
            reference = request.form.get("external_reference", "").strip()
            if not reference or len(reference) > 255:
                flash("Enter the payment's reference from your payout provider.", "error")
                return _back()
            payout_service.mark_paid(db, shop.id, payout_id, reference)
            message = f"Payout marked paid ({reference})."
        elif action == "cancel":
            payout_service.cancel_payout(db, shop.id, payout_id, "cancelled from the dashboard")
            message = "Payout cancelled; the amount returns to the creator's balance."
        else:
            abort(404)
    except payout_service.PayoutTransitionError as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return _back()
    db.commit()
    flash(message, "ok")
    return _back()


@bp.get("/admin/payouts/batches/<batch_key>/export.csv")
@admin_auth.admin_page
def export_batch(batch_key: str) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    body = payout_service.batch_csv(get_session(), shop.id, batch_key)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tastemaker-payouts.csv"'},
    )


@bp.post("/admin/creators/<int:creator_id>/portal-link")
@admin_auth.admin_action
def portal_link(creator_id: int) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = Tenant(get_session(), shop.id)
    creator = tenant.get(Creator, creator_id)
    if creator is None:
        abort(404)
    token = issue_portal_token(tenant, creator)
    get_session().commit()
    url = f"{current_app.config['TASTEMAKER'].public_url.rstrip('/')}/creator/{token}"
    flash(
        f"Private link for @{creator.handle} (shown once; it replaces any older one): {url}", "ok"
    )
    return _back()


def _back() -> ResponseReturnValue:
    return redirect(url_for("pages.dashboard", days=request.args.get("days", type=int)))
