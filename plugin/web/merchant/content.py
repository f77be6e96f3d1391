"""Content (UGC): the moderation queue with each post's disclosure check beside it, the products
each post shows on, rights requests (request -> granted with evidence -> revoked/expired), and a
preview of the storefront carousel as shoppers see it."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from plugin.db import get_session
from plugin.domain.validation import ValidationFailed
from plugin.models import UgcPost, utcnow
from plugin.models.ugc import (
    MODERATION_STATUSES,
    RIGHTS_SCOPES,
    UGC_SOURCES,
    ProductSnapshot,
    UgcRightsGrant,
)
from plugin.services import ugc as ugc_service
from plugin.services import ugc_feed, ugc_rights
from plugin.services.media import media_hosts, variant_url
from plugin.web import admin_auth
from plugin.web.merchant import bp
from plugin.web.merchant.forms import paginate, query_args

SOURCE_LABELS = {"creator": "Creator", "merchant": "Your upload", "try_and_tag": "Try & Tag"}
SCOPE_LABELS = {"on_site": "On your site", "email": "In emails", "ads": "In ads"}


def _thumbnail(post: UgcPost, hosts: tuple[str, ...], public_url: str) -> str | None:
    for item in post.media or ():
        variants = sorted(item.get("variants") or (), key=lambda v: int(v.get("width", 0)))
        for variant in variants:
            url = variant_url(variant, public_url, hosts)
            if url is not None:
                return url
    return None


@bp.get("/admin/content")
@admin_auth.admin_page
def content() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    status = request.args.get("status", "pending")
    source = request.args.get("source", "")
    statement = tenant.select(UgcPost).order_by(UgcPost.created_at.desc(), UgcPost.id.desc())
    if status in MODERATION_STATUSES:
        statement = statement.where(UgcPost.moderation_status == status)
    else:
        status = ""
    if source in UGC_SOURCES:
        statement = statement.where(UgcPost.source == source)
    page = paginate(get_session(), statement, request.args.get("page", 1, type=int), per_page=12)
    posts = [post for (post,) in page.rows]
    grants: dict[int, UgcRightsGrant] = {}
    for grant in tenant.all(
        UgcRightsGrant, UgcRightsGrant.ugc_post_id.in_([post.id for post in posts])
    ):
        current = grants.get(grant.ugc_post_id)
        if current is None or grant.id > current.id:
            grants[grant.ugc_post_id] = grant
    product_ids = {pid for post in posts for pid in post.product_ids}
    titles = {
        row.product_id: row.title
        for row in tenant.all(ProductSnapshot, ProductSnapshot.product_id.in_(product_ids))
    }
    settings = ugc_service.ugc_settings(shop.settings)
    public_url = current_app.config["TASTEMAKER"].public_url
    hosts = media_hosts(settings.media_hosts)
    errors = _errors()
    return render_template(
        "merchant/content.html",
        shop=shop,
        page=page,
        posts=posts,
        grants=grants,
        titles=titles,
        thumbs={post.id: _thumbnail(post, hosts, public_url) for post in posts},
        status=status,
        statuses=MODERATION_STATUSES,
        source=source,
        sources=SOURCE_LABELS,
        scopes=SCOPE_LABELS,
        args=query_args(request.args, "status", "source"),
        errors=errors,
        # A refused action on a post this filter does not list is still reported, at the top.
        elsewhere={k: v for k, v in errors.items() if k not in {str(p.id) for p in posts}},
        now=utcnow(),
    )


def _errors() -> dict[str, str]:
    """A failed action's field message, carried back to the post it belongs to."""
    post, field = request.args.get("error_post", ""), request.args.get("error", "")
    return {post: field} if post and field else {}


def _back(post: UgcPost, **extra: Any) -> ResponseReturnValue:
    args = query_args(request.args, "status", "source", "page")
    return redirect(url_for("merchant.content", **args, **extra, _anchor=f"post-{post.id}"))


def _failed(post: UgcPost, failed: ValidationFailed | ugc_service.UgcError) -> ResponseReturnValue:
    get_session().rollback()
    if isinstance(failed, ValidationFailed):
        message = "; ".join(
            f"{name.replace('_', ' ')} {text}" for name, text in failed.fields.items()
        )
    else:
        message = str(failed)
    return _back(post, error_post=post.id, error=message[:300])


@bp.post("/admin/content/<int:post_id>/moderate")
@admin_auth.admin_action
def moderate(post_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    action = request.form.get("action", "")
    try:
        ugc_service.moderate(
            admin_auth.current_tenant(), post, action, reason=request.form.get("reason")
        )
    except (ValidationFailed, ugc_service.UgcError) as failed:
        return _failed(post, failed)
    get_session().commit()
    flash(f"Post by @{post.author_handle} is {post.moderation_status}.", "ok")
    return _back(post)


@bp.post("/admin/content/<int:post_id>/feature")
@admin_auth.admin_action
def feature(post_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    ugc_service.set_featured(admin_auth.current_tenant(), post, request.form.get("on") == "1")
    get_session().commit()
    flash(
        "Featured on pages without their own posts." if post.featured else "No longer featured.",
        "ok",
    )
    return _back(post)


@bp.post("/admin/content/<int:post_id>/disclosure")
@admin_auth.admin_action
def check_disclosure(post_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    shop = admin_auth.current_shop()
    result = ugc_service.run_disclosure_check(
        admin_auth.current_tenant(), post, ugc_service.ugc_settings(shop.settings)
    )
    get_session().commit()
    flash("Disclosure found." if result.disclosed else "No disclosure found in the caption.", "ok")
    return _back(post)


@bp.post("/admin/content/<int:post_id>/products")
@admin_auth.admin_action
def set_products(post_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    ids = [part.strip() for part in request.form.get("product_ids", "").split(",") if part.strip()]
    try:
        ugc_service.set_products(admin_auth.current_tenant(), post, ids)
    except (ValidationFailed, ugc_service.UgcError) as failed:
        return _failed(post, failed)
    get_session().commit()
    flash("Products saved: the post shows on their pages once approved with rights.", "ok")
    return _back(post)


@bp.post("/admin/content/<int:post_id>/rights/request")
@admin_auth.admin_action
def request_rights(post_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    days = request.form.get("duration_days", "").strip()
    try:
        if days and not days.isdigit():
            raise ValidationFailed({"duration_days": "must be a whole number of days"})
        ugc_rights.request_rights(
            admin_auth.current_tenant(),
            post,
            scopes=[s for s in RIGHTS_SCOPES if request.form.get(f"scope_{s}")],
            request_text=request.form.get("request_text", ""),
            duration_days=int(days) if days else None,
            territory=request.form.get("territory", "worldwide"),
        )
    except (ValidationFailed, ugc_service.UgcError) as failed:
        return _failed(post, failed)
    get_session().commit()
    flash(
        f"Rights request recorded. Send it to @{post.author_handle} and note their answer here.",
        "ok",
    )
    return _back(post)


def _grant_or_404(post: UgcPost, grant_id: int) -> UgcRightsGrant:
    grant = admin_auth.current_tenant().get(UgcRightsGrant, grant_id)
    if grant is None or grant.ugc_post_id != post.id:
        abort(404)
    return grant


@bp.post("/admin/content/<int:post_id>/rights/<int:grant_id>/grant")
@admin_auth.admin_action
def grant_rights(post_id: int, grant_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    grant = _grant_or_404(post, grant_id)
    try:
        ugc_rights.grant_rights(
            admin_auth.current_tenant(),
            grant,
            reply_text=request.form.get("reply_text"),
            evidence_url=request.form.get("evidence_url", "").strip() or None,
        )
    except (ValidationFailed, ugc_service.UgcError) as failed:
        return _failed(post, failed)
    get_session().commit()
    flash("Rights granted; the evidence is kept with the post.", "ok")
    return _back(post)


@bp.get("/admin/content/<int:post_id>/rights/<int:grant_id>/revoke")
@admin_auth.admin_page
def confirm_revoke(post_id: int, grant_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    grant = _grant_or_404(post, grant_id)
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"Revoke the rights to @{post.author_handle}'s post?",
        lines=[
            "Do this when the author withdraws consent: the post leaves every storefront "
            "carousel at once. The request and its evidence stay in the post's history.",
        ],
        action=url_for("merchant.revoke_rights", post_id=post.id, grant_id=grant.id),
        button="Revoke rights",
        danger=True,
        cancel=url_for("merchant.content", status="") + f"#post-{post.id}",
    )


@bp.post("/admin/content/<int:post_id>/rights/<int:grant_id>/revoke")
@admin_auth.admin_action
def revoke_rights(post_id: int, grant_id: int) -> ResponseReturnValue:
    post = admin_auth.owned_or_404(UgcPost, post_id)
    grant = _grant_or_404(post, grant_id)
    try:
        ugc_rights.revoke_rights(admin_auth.current_tenant(), grant, request.form.get("reason"))
    except (ValidationFailed, ugc_service.UgcError) as failed:
        return _failed(post, failed)
    get_session().commit()
    flash("Rights revoked; the post no longer shows on your storefront.", "ok")
    return _back(post)


@bp.get("/admin/content/carousel")
@admin_auth.admin_page
def carousel() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    product = request.args.get("product", "").strip()[:64] or None
    feed_shop = ugc_feed.lookup_shop(get_session(), shop.public_key)
    feed: dict[str, Any] = {"posts": [], "source": "none"}
    if feed_shop is not None:
        feed, _ = ugc_feed.build_feed(
            get_session(),
            feed_shop,
            product,
            feed_shop.settings.max_items,
            utcnow(),
            current_app.config["TASTEMAKER"].public_url,
        )
    products = (
        get_session()
        .scalars(
            select(ProductSnapshot)
            .where(ProductSnapshot.shop_id == tenant.shop_id)
            .order_by(ProductSnapshot.title)
        )
        .all()
    )
    return render_template(
        "merchant/carousel.html",
        shop=shop,
        feed=feed,
        product=product,
        products=products,
    )
