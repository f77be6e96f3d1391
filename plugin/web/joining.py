"""How creators join: the shop's public application page (`/apply/<public key>`), the invitation
page a creator opens from their email (`/join/<token>`), and the merchant's review pages
(`/admin/applications`, `/admin/invitations`).

The public pages are spam-safe without a script: an 8 KB body limit, a honeypot field, an
in-process budget per visitor and per shop, and one answer for every accepted-looking
submission (a known email is never revealed).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

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
from sqlalchemy import select

from plugin.db import get_session
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Shop
from plugin.models.joining import CreatorApplication, CreatorInvitation
from plugin.services import joining
from plugin.services.ugc_feed import EventLimiter
from plugin.tenancy import Tenant
from plugin.web import admin_auth, csrf, rendering

bp = Blueprint("joining", __name__)
rendering.install(bp)

MAX_BODY = 8 * 1024
PER_VISITOR_PER_HOUR = 5
PER_SHOP_PER_HOUR = 60
VISITOR_LIMITER_KEY = "tastemaker.apply_visitor_limiter"
SHOP_LIMITER_KEY = "tastemaker.apply_shop_limiter"
NETWORKS = ("instagram", "tiktok", "youtube", "pinterest")
APPLICATION = Schema(
    "CreatorApplication",
    (
        Field("name", "string", required=True, min_length=1, max_length=200),
        Field("email", "email", required=True),
        Field("niche", "string", max_length=120),
        Field("audience_size", "integer", minimum=0, maximum=10_000_000_000),
        Field("pitch", "string", max_length=2000),
    ),
)
HANDLE_MAX = 64


def _limiter(key: str, per_hour: int) -> EventLimiter:
    limiter: EventLimiter = current_app.extensions.setdefault(
        key, EventLimiter(per_window=per_hour, window=timedelta(hours=1))
    )
    return limiter


def _visitor() -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, (request.remote_addr or "").encode(), hashlib.sha256).hexdigest()


def _public_url() -> str:
    return str(current_app.config["TASTEMAKER"].public_url)


def _open_shop(public_key: str) -> Shop | None:
    if len(public_key) > 64:
        return None
    shop = get_session().scalars(select(Shop).where(Shop.public_key == public_key)).first()
    return shop if shop is not None and shop.is_active else None


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = {
        name: request.form.get(name, "").strip() for name in APPLICATION.field_names()
    }
    audience = values.get("audience_size") or "0"
    values["audience_size"] = int(audience) if audience.isdigit() and len(audience) < 12 else -1
    values["social_handles"] = {
        network: handle
        for network in NETWORKS
        if (handle := request.form.get(network, "").strip().lstrip("@")[:HANDLE_MAX])
    }
    return values


# --- the public application page ----------------------------------------------------------------


@bp.get("/apply/<public_key>")
def apply_form(public_key: str) -> ResponseReturnValue:
    shop = _open_shop(public_key)
    if shop is None:
        return render_template("joining/closed.html"), 404
    return _render_apply(shop, {}, {})


@bp.post("/apply/<public_key>")
def apply_submit(public_key: str) -> ResponseReturnValue:
    if (request.content_length or 0) > MAX_BODY:
        return Response("An application carries at most 8 KB.", status=413, mimetype="text/plain")
    shop = _open_shop(public_key)
    if shop is None:
        return render_template("joining/closed.html"), 404
    values = _form_values()
    if request.form.get("website"):
        return render_template("joining/received.html", shop=shop), 200  # the honeypot
    errors: dict[str, str] = {}
    if request.form.get("consent") != "yes":
        errors["consent"] = "Please read and accept the program terms."
    if not values["social_handles"]:
        errors["social"] = "Give at least one of your handles."
    try:
        clean = APPLICATION.validate({k: v for k, v in values.items() if k != "social_handles"})
    except ValidationFailed as failed:
        errors.update(failed.fields)
        clean = {}
    if errors:
        return _render_apply(shop, values, errors, status=422)
    if not _limiter(VISITOR_LIMITER_KEY, PER_VISITOR_PER_HOUR).take(shop.id, _visitor(), 1) or (
        not _limiter(SHOP_LIMITER_KEY, PER_SHOP_PER_HOUR).take(shop.id, "*", 1)
    ):
        errors = {"form": "Too many applications right now. Please try again in an hour."}
        return _render_apply(shop, values, errors, status=429)
    tenant = Tenant(get_session(), shop.id)
    try:
        joining.apply(tenant, shop, {**clean, "social_handles": values["social_handles"]})
    except ValidationFailed as failed:
        get_session().rollback()
        return _render_apply(shop, values, failed.fields, status=429)
    get_session().commit()
    return redirect(url_for(".apply_received", public_key=public_key), code=303)


@bp.get("/apply/<public_key>/received")
def apply_received(public_key: str) -> ResponseReturnValue:
    shop = _open_shop(public_key)
    if shop is None:
        return render_template("joining/closed.html"), 404
    return render_template("joining/received.html", shop=shop)


def _render_apply(
    shop: Shop, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "joining/apply.html",
        shop=shop,
        terms=joining.program_terms(shop),
        networks=NETWORKS,
        values=values,
        errors=errors,
    )
    return page, status


# --- the invitation page ------------------------------------------------------------------------


def _invitation_or_404(token: str) -> tuple[CreatorInvitation, Shop]:
    db = get_session()
    invitation = joining.invitation_for_token(db, token)
    shop = db.get(Shop, invitation.shop_id) if invitation else None
    if invitation is None or shop is None or not shop.is_active:
        abort(404)
    return invitation, shop


@bp.get("/join/<token>")
def invitation(token: str) -> ResponseReturnValue:
    invitation, shop = _invitation_or_404(token)
    return render_template(
        "joining/invitation.html",
        shop=shop,
        invitation=invitation,
        usable=joining.invitation_usable(invitation),
        terms=joining.program_terms(shop),
        token=token,
        networks=NETWORKS,
        errors={},
    )


@bp.post("/join/<token>")
def accept(token: str) -> ResponseReturnValue:
    csrf.check_csrf()
    invitation, shop = _invitation_or_404(token)
    if request.form.get("consent") != "yes":
        flash("Please read and accept the program terms.", "error")
        return redirect(url_for(".invitation", token=token))
    values = _form_values()
    tenant = Tenant(get_session(), shop.id)
    try:
        onboarded = joining.accept_invitation(tenant, shop, invitation, values)
    except ValidationFailed as failed:
        get_session().rollback()
        flash(" ".join(failed.fields.values()).capitalize() + ".", "error")
        return redirect(url_for(".invitation", token=token))
    get_session().commit()
    flash("Welcome aboard! Bookmark this page: it is your private creator page.", "ok")
    return redirect(url_for("creator_portal.earnings", token=onboarded.portal_token), code=303)


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return render_template("pages/not_found.html"), 404


# --- the merchant's review pages ----------------------------------------------------------------


@bp.get("/admin/applications")
@admin_auth.admin_page
def applications() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    apply_url = f"{_public_url().rstrip('/')}/apply/{shop.public_key}"
    return render_template(
        "joining/admin_applications.html",
        shop=shop,
        applications=joining.pending_applications(admin_auth.current_tenant()),
        apply_url=apply_url,
    )


def _application(application_id: int) -> CreatorApplication:
    application = admin_auth.current_tenant().get(CreatorApplication, application_id)
    if application is None:
        abort(404)
    return application


@bp.post("/admin/applications/<int:application_id>/approve")
@admin_auth.admin_action
def approve(application_id: int) -> ResponseReturnValue:
    application = _application(application_id)
    message = request.form.get("message", "")[:2000]
    try:
        onboarded = joining.approve(
            admin_auth.current_tenant(),
            admin_auth.current_shop(),
            application,
            _public_url(),
            message,
        )
    except ValidationFailed as failed:
        get_session().rollback()
        flash(" ".join(failed.fields.values()).capitalize() + ".", "error")
        return redirect(url_for(".applications"))
    get_session().commit()
    flash(
        f"Approved: @{onboarded.creator.handle} is a creator now; their code, link and private "
        "page are on their way by email.",
        "ok",
    )
    return redirect(url_for(".applications"))


@bp.get("/admin/applications/<int:application_id>/decline")
@admin_auth.admin_page
def confirm_decline(application_id: int) -> ResponseReturnValue:
    return render_template(
        "joining/admin_decline.html",
        shop=admin_auth.current_shop(),
        application=_application(application_id),
    )


@bp.post("/admin/applications/<int:application_id>/decline")
@admin_auth.admin_action
def decline(application_id: int) -> ResponseReturnValue:
    application = _application(application_id)
    try:
        joining.decline(
            admin_auth.current_tenant(),
            admin_auth.current_shop(),
            application,
            request.form.get("message", "")[:2000],
        )
    except ValidationFailed as failed:
        get_session().rollback()
        flash(" ".join(failed.fields.values()).capitalize() + ".", "error")
        return redirect(url_for(".applications"))
    get_session().commit()
    flash(f"Declined {application.name}'s application; they have been told by email.", "ok")
    return redirect(url_for(".applications"))


@bp.get("/admin/invitations")
@admin_auth.admin_page
def invitations() -> ResponseReturnValue:
    return render_template(
        "joining/admin_invitations.html",
        shop=admin_auth.current_shop(),
        invitations=joining.invitations(admin_auth.current_tenant()),
    )


INVITATION = Schema(
    "CreatorInvitation",
    (
        Field("email", "email", required=True),
        Field("name", "string", max_length=200),
        Field("message", "string", max_length=2000),
    ),
)


@bp.post("/admin/invitations")
@admin_auth.admin_action
def send_invitation() -> ResponseReturnValue:
    try:
        values = INVITATION.validate(
            {name: request.form.get(name, "").strip() for name in INVITATION.field_names()}
        )
        joining.invite(
            admin_auth.current_tenant(),
            admin_auth.current_shop(),
            email=values["email"],
            name=values.get("name", ""),
            message=values.get("message", ""),
            public_url=_public_url(),
        )
    except ValidationFailed as failed:
        get_session().rollback()
        detail = "; ".join(f"{name} {message}" for name, message in failed.fields.items())
        flash(f"Invitation not sent: {detail}.", "error")
        return redirect(url_for(".invitations"))
    get_session().commit()
    flash(f"Invitation sent to {values['email']}.", "ok")
    return redirect(url_for(".invitations"))


@bp.post("/admin/invitations/<int:invitation_id>/revoke")
@admin_auth.admin_action
def revoke(invitation_id: int) -> ResponseReturnValue:
    invitation = admin_auth.current_tenant().get(CreatorInvitation, invitation_id)
    if invitation is None:
        abort(404)
    joining.revoke_invitation(invitation)
    get_session().commit()
    flash("Invitation revoked: its link no longer works.", "ok")
    return redirect(url_for(".invitations"))
