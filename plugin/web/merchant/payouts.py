"""Payouts: batches of what creators are owed, approve, mark paid with the payment's reference,
cancel (confirmed first), the CSV of any batch, the payout history and the ledger."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from plugin.db import get_session
from plugin.models import Creator, LedgerEntry, Payout, utcnow
from plugin.services import overview
from plugin.services import payouts as payout_service
from plugin.web import admin_auth
from plugin.web.merchant import bp
from plugin.web.merchant.forms import paginate, query_args

PAYOUT_STATUSES = ("pending_approval", "approved", "paid", "cancelled")
LEDGER_KINDS = ("commission", "bonus", "flat_fee", "reversal", "adjustment", "sprint_credit")


@bp.get("/admin/payouts")
@admin_auth.admin_page
def payouts() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    db = get_session()
    status = request.args.get("status", "")
    creator_id = request.args.get("creator_id", type=int)
    history = (
        select(Payout, Creator.handle)
        .join(Creator, Creator.id == Payout.creator_id)
        .where(Payout.shop_id == shop.id)
        .order_by(Payout.created_at.desc(), Payout.id.desc())
    )
    if status in PAYOUT_STATUSES:
        history = history.where(Payout.status == status)
    if creator_id:
        history = history.where(Payout.creator_id == creator_id)
    kind = request.args.get("kind", "")
    ledger = (
        select(LedgerEntry, Creator.handle, Payout.status)
        .join(Creator, Creator.id == LedgerEntry.creator_id)
        .outerjoin(Payout, Payout.id == LedgerEntry.payout_id)
        .where(LedgerEntry.shop_id == shop.id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    )
    if kind in LEDGER_KINDS:
        ledger = ledger.where(LedgerEntry.kind == kind)
    if creator_id:
        ledger = ledger.where(LedgerEntry.creator_id == creator_id)
    open_batches = [
        view
        for view in overview.batch_views(db, shop.id, limit=20)
        if view.summary.pending_approval or view.summary.approved
    ]
    return render_template(
        "merchant/payouts.html",
        shop=shop,
        open_batches=open_batches,
        batches=payout_service.batch_summaries(db, shop.id, limit=50),
        history=paginate(db, history, request.args.get("page", 1, type=int)),
        ledger=paginate(db, ledger, request.args.get("ledger_page", 1, type=int), per_page=20),
        creators=tenant.all(Creator),
        creator_id=creator_id,
        status=status,
        statuses=PAYOUT_STATUSES,
        kind=kind,
        kinds=LEDGER_KINDS,
        args=query_args(request.args, "status", "creator_id", "kind"),
        now=utcnow(),
    )


def _back() -> ResponseReturnValue:
    return redirect(url_for("merchant.payouts", **query_args(request.args, "creator_id")))


@bp.post("/admin/payouts/run-batch")
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


@bp.post("/admin/payouts/<int:payout_id>/approval")
@admin_auth.admin_action
def approve(payout_id: int) -> ResponseReturnValue:
    payout = admin_auth.owned_or_404(Payout, payout_id)
    return _transition(
        lambda: payout_service.approve_payout(get_session(), payout.shop_id, payout.id),
        f"Payout #{payout.id} approved.",
    )


@bp.post("/admin/payouts/<int:payout_id>/payment")
@admin_auth.admin_action
def mark_paid(payout_id: int) -> ResponseReturnValue:
    payout = admin_auth.owned_or_404(Payout, payout_id)
    reference = request.form.get("external_reference", "").strip()
    if not reference or len(reference) > 255:
        flash(
            f"Payout #{payout.id}: enter the payment's reference from your payout provider "
            "(up to 255 characters).",
            "error",
        )
        return _back()
    return _transition(
        lambda: payout_service.mark_paid(get_session(), payout.shop_id, payout.id, reference),
        f"Payout #{payout.id} marked paid ({reference}).",
    )


@bp.get("/admin/payouts/<int:payout_id>/cancellation")
@admin_auth.admin_page
def confirm_cancel(payout_id: int) -> ResponseReturnValue:
    payout = admin_auth.owned_or_404(Payout, payout_id)
    creator = admin_auth.current_tenant().get(Creator, payout.creator_id)
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"Cancel payout #{payout.id}?",
        lines=[
            f"The amount returns to @{creator.handle if creator else '?'}'s available balance "
            "and goes into the next batch.",
        ],
        action=url_for("merchant.cancel", payout_id=payout.id),
        button="Cancel payout",
        danger=True,
        cancel=url_for("merchant.payouts"),
    )


@bp.post("/admin/payouts/<int:payout_id>/cancellation")
@admin_auth.admin_action
def cancel(payout_id: int) -> ResponseReturnValue:
    payout = admin_auth.owned_or_404(Payout, payout_id)
    return _transition(
        lambda: payout_service.cancel_payout(
            get_session(), payout.shop_id, payout.id, "cancelled from the payouts page"
        ),
        "Payout cancelled; the amount returns to the creator's balance.",
    )


def _transition(action: Callable[[], object], message: str) -> ResponseReturnValue:
    try:
        action()
    except payout_service.PayoutTransitionError as exc:
        get_session().rollback()
        flash(str(exc).capitalize() + ".", "error")
        return _back()
    get_session().commit()
    flash(message, "ok")
    return _back()


@bp.get("/admin/payouts/batches/<batch_key>.csv")
@admin_auth.admin_page
def batch_csv(batch_key: str) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    body = payout_service.batch_csv(get_session(), shop.id, batch_key)
    filename = f"tastemaker-payouts-{batch_key}.csv".replace('"', "")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
