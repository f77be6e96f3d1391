"""The creator's contract pages: /creator/<token>/contract and /creator/<token>/deliverables.

The portal token is the credential (as on the earnings page). The agreement is shown in plain
language; accepting posts the version number and the hash of the document shown, so an
acceptance always names the exact words on the screen (a change in between is refused with a
request to read again). Deliverables are handed in with the post's link, its caption (for the
disclosure check) and optional notes; the merchant's feedback shows beside each.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.contracts import DeliverableTransitionError
from plugin.domain.validation import ValidationFailed
from plugin.models import Agreement, Campaign, Creator, Deliverable, Shop
from plugin.services import agreements as agreement_service
from plugin.services import deliverables as deliverable_service
from plugin.services.creators import creator_for_portal_token
from plugin.services.ledger import shop_timezone
from plugin.tenancy import Tenant
from plugin.web import csrf, rendering

bp = Blueprint("creator_contract", __name__)
rendering.install(bp)

SHOWN = ("draft", "active", "completed")


def _creator_or_404(token: str) -> tuple[Creator, Shop, Tenant]:
    db = get_session()
    creator = creator_for_portal_token(db, token)
    if creator is None:
        abort(404)
    shop = db.get(Shop, creator.shop_id)
    assert shop is not None  # creator_for_portal_token checked it
    return creator, shop, Tenant(db, shop.id)


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return render_template("pages/not_found.html"), 404


def _agreements(tenant: Tenant, creator: Creator) -> list[Agreement]:
    rows = tenant.all(Agreement, Agreement.creator_id == creator.id, Agreement.status.in_(SHOWN))
    return sorted(rows, key=lambda a: a.id)


@bp.get("/creator/<token>/contract")
def contract(token: str) -> ResponseReturnValue:
    return _render_contract(token, {})


def _render_contract(token: str, errors: dict[int, str], status: int = 200) -> ResponseReturnValue:
    creator, shop, tenant = _creator_or_404(token)
    campaigns = {c.id: c for c in tenant.all(Campaign)}
    views: list[dict[str, Any]] = []
    for agreement in _agreements(tenant, creator):
        current = agreement_service.version(tenant, agreement, agreement.terms_version)
        terms = current.terms if current else agreement_service.current_terms(agreement)
        clauses, shown_hash = agreement_service.document_for(terms, shop)
        accepted = agreement_service.acceptances(tenant, agreement)
        views.append(
            {
                "agreement": agreement,
                "campaign": campaigns.get(agreement.campaign_id or 0),
                "clauses": clauses,
                "hash": shown_hash,
                "state": agreement_service.acceptance_state(agreement),
                "acceptances": accepted,
                "changed": current.changed_fields if current and current.number > 1 else [],
            }
        )
    return (
        render_template(
            "contracts/creator_contract.html",
            token=token,
            creator=creator,
            shop=shop,
            views=views,
            held=agreement_service.held_items(tenant, creator.id),
            errors=errors,
            tz=shop_timezone(shop),
        ),
        status,
    )


@bp.post("/creator/<token>/contract/<int:agreement_id>/accept")
def accept(token: str, agreement_id: int) -> ResponseReturnValue:
    creator, _shop, tenant = _creator_or_404(token)
    csrf.check_csrf()
    agreement = tenant.get(Agreement, agreement_id)
    if agreement is None or agreement.creator_id != creator.id:
        abort(404)
    if request.form.get("agree") != "yes":
        return _render_contract(
            token, {agreement_id: "Tick the box to confirm you have read the terms."}, 422
        )
    try:
        agreement_service.accept(
            tenant,
            agreement,
            creator,
            version_number=request.form.get("version", type=int) or 0,
            shown_hash=request.form.get("document_hash", ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except agreement_service.AcceptanceRefused as refused:
        get_session().rollback()
        return _render_contract(token, {agreement_id: str(refused).capitalize() + "."}, 409)
    get_session().commit()
    flash("Thank you: you accepted the agreement. A copy of these terms stays on this page.", "ok")
    return redirect(url_for("creator_contract.contract", token=token))


@bp.get("/creator/<token>/deliverables")
def deliverables(token: str) -> ResponseReturnValue:
    return _render_deliverables(token, None, {}, {})


def _render_deliverables(
    token: str,
    failed_id: int | None,
    errors: dict[str, str],
    typed: dict[str, str],
    status: int = 200,
) -> ResponseReturnValue:
    creator, shop, tenant = _creator_or_404(token)
    groups = []
    for agreement in _agreements(tenant, creator):
        rows = deliverable_service.for_agreement(tenant, agreement.id)
        if rows:
            groups.append((agreement, rows))
    campaigns = {c.id: c for c in tenant.all(Campaign)}
    return (
        render_template(
            "contracts/creator_deliverables.html",
            token=token,
            creator=creator,
            shop=shop,
            groups=groups,
            campaigns=campaigns,
            failed_id=failed_id,
            errors=errors,
            typed=typed,
            tz=shop_timezone(shop),
        ),
        status,
    )


@bp.post("/creator/<token>/deliverables/<int:deliverable_id>")
def submit(token: str, deliverable_id: int) -> ResponseReturnValue:
    creator, _shop, tenant = _creator_or_404(token)
    csrf.check_csrf()
    row = tenant.get(Deliverable, deliverable_id)
    if row is None or row.creator_id != creator.id:
        abort(404)
    typed = {name: request.form.get(name, "")[:10_000] for name in ("post_url", "caption", "notes")}
    try:
        deliverable_service.submit(tenant, row, creator, **typed)
    except ValidationFailed as failed:
        get_session().rollback()
        return _render_deliverables(token, deliverable_id, failed.fields, typed, 422)
    except DeliverableTransitionError as exc:
        get_session().rollback()
        return _render_deliverables(
            token, deliverable_id, {"form": str(exc).capitalize() + "."}, typed, 409
        )
    disclosed = bool(row.disclosure_ok)
    get_session().commit()
    flash(
        "Handed in: the store will review it."
        + ("" if disclosed else " Your caption has no ad disclosure (#ad): please add it."),
        "ok" if disclosed else "error",
    )
    return redirect(url_for("creator_contract.deliverables", token=token))
