"""The merchant's UGC API under /api/v1/ugc: posts, uploads, moderation, rights, catalog, CTR.

Every route is scoped to the calling shop (require_shop + current_tenant); a post or grant of
another shop is simply not found. Errors: 400 malformed JSON, 404 unknown, 409 a state change the
current state forbids, 422 field-level validation messages, like the rest of the admin API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from plugin.db import get_session
from plugin.domain.validation import Schema, ValidationFailed
from plugin.models.ugc import ProductSnapshot, UgcAuditEvent, UgcPost
from plugin.services import ugc as service
from plugin.services import ugc_events
from plugin.services import ugc_rights as rights
from plugin.services.media import MAX_UPLOAD_BYTES, store_upload
from plugin.web import ugc_api_io as io
from plugin.web import ugc_api_requests as req
from plugin.web.auth import current_tenant, require_shop

PREFIX = "/api/v1/ugc"
PAGE_SIZE = 50
bp = Blueprint("ugc_api", __name__)


@bp.errorhandler(ValidationFailed)
def _validation(error: ValidationFailed) -> tuple[Response, int]:
    return jsonify(error="validation", fields=error.fields), 422


@bp.errorhandler(service.InvalidTransition)
def _conflict(error: service.InvalidTransition) -> tuple[Response, int]:
    return jsonify(error="conflict", message=str(error)), 409


@bp.errorhandler(service.NotFound)
@bp.errorhandler(HttpNotFound)
def _not_found(_error: Exception) -> tuple[Response, int]:
    return jsonify(error="not_found", message="no such resource in this shop"), 404


@bp.errorhandler(req.MalformedJson)
def _malformed(error: req.MalformedJson) -> tuple[Response, int]:
    return jsonify(error="malformed_json", message=str(error)), 400


def route(rule: str, *methods: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        bp.add_url_rule(PREFIX + rule, view.__name__, require_shop(view), methods=list(methods))
        return view

    return decorate


# --- posts ----------------------------------------------------------------------------------


@route("/posts", "GET")
def list_posts() -> ResponseReturnValue:
    """The library and the moderation queue (?status=pending), newest first."""
    params = {name: request.args[name] for name in request.args if name != "cursor"}
    clean = Schema("query", io.LIST_QUERY).validate(params, partial=True)
    tenant = current_tenant()
    query = tenant.select(UgcPost)
    if "status" in clean:
        query = query.where(UgcPost.moderation_status == clean["status"])
    if "source" in clean:
        query = query.where(UgcPost.source == clean["source"])
    if clean.get("featured"):
        query = query.where(UgcPost.featured.is_(clean["featured"] == "true"))
    if clean.get("flagged") == "true":
        query = query.where(UgcPost.source == "creator", UgcPost.disclosure_ok.is_(False))
    if "product_id" in clean:
        tagged = service.posts_tagged(tenant, clean["product_id"])
        query = query.where(UgcPost.id.in_(tagged))
    cursor = request.args.get("cursor", "")
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed({"cursor": "is not a cursor this API returned"})
        query = query.where(UgcPost.id < int(cursor))
    rows = list(get_session().scalars(query.order_by(UgcPost.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return jsonify(data=req.render_posts(rows), next_cursor=str(rows[-1].id) if more else None)


@route("/posts", "POST")
def create_post() -> ResponseReturnValue:
    """Add one post by media URL (merchant import, or on a creator's behalf)."""
    values = req.body(io.POST_INPUT)
    post = req.create_from(values, req.remote_from(values))
    req.commit()
    return jsonify(req.render_posts([post])[0]), 201


@route("/posts/import", "POST")
def import_posts() -> ResponseReturnValue:
    """Up to 100 posts at once, all or nothing; errors name the item (posts[3].media.url)."""
    values = req.body(io.IMPORT_INPUT)
    created = []
    for index, item in enumerate(values["posts"]):
        try:
            created.append(req.create_from(item, req.remote_from(item)))
        except ValidationFailed as failed:
            get_session().rollback()
            raise ValidationFailed(
                {f"posts[{index}].{name}": message for name, message in failed.fields.items()}
            ) from None
    req.commit()
    return jsonify(data=req.render_posts(created)), 201


@route("/posts/upload", "POST")
def upload_post() -> ResponseReturnValue:
    """A creator's submission (or a merchant's own photo): multipart with a `media` file."""
    upload = request.files.get("media")
    if upload is None:
        raise ValidationFailed({"media": "is required: send the image as a multipart file"})
    form: dict[str, Any] = {key: request.form[key] for key in request.form if key != "product_ids"}
    for name in ("creator_id", "campaign_id"):
        if name in form:
            if not form[name].isdigit():
                raise ValidationFailed({name: "must be an integer"})
            form[name] = int(form[name])
    if "featured" in form:
        form["featured"] = form["featured"] == "true"
    products = [p.strip() for raw in request.form.getlist("product_ids") for p in raw.split(",")]
    form["product_ids"] = [p for p in products if p]
    form.setdefault("source", "creator")
    values = io.UPLOAD_INPUT.validate(form)
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    media = store_upload(data, current_app.config["TASTEMAKER"].media_dir, current_tenant().shop_id)
    post = req.create_from(values, [media])
    req.commit()
    return jsonify(req.render_posts([post])[0]), 201


@route("/posts/<int:post_id>", "GET")
def get_post(post_id: int) -> ResponseReturnValue:
    """One post with its rights history and whether a shopper can see it now."""
    return jsonify(req.render_posts([service.get_post(current_tenant(), post_id)])[0])


@route("/posts/<int:post_id>", "PATCH")
def update_post(post_id: int) -> ResponseReturnValue:
    """Edit a post; `featured` marks it for the storefront's fallback."""
    tenant = current_tenant()
    post = service.get_post(tenant, post_id)
    values = req.body(io.POST_PATCH, partial=True)
    req.check_products(values.get("product_ids", ()))
    featured = values.pop("featured", None)
    if values:
        service.update_post(tenant, post, values, settings=req.settings())
    if featured is not None:
        service.set_featured(tenant, post, featured)
    req.commit()
    return jsonify(req.render_posts([post])[0])


@route("/posts/<int:post_id>", "DELETE")
def delete_post(post_id: int) -> ResponseReturnValue:
    """Delete a post (it leaves the storefront as this commits)."""
    tenant = current_tenant()
    service.delete_post(tenant, service.get_post(tenant, post_id))
    req.commit()
    return Response(status=204)


@route("/posts/<int:post_id>/moderation", "POST")
def moderate_post(post_id: int) -> ResponseReturnValue:
    """approve / reject (with a reason) / hide."""
    tenant = current_tenant()
    post = service.get_post(tenant, post_id)
    values = req.body(io.MODERATION_INPUT)
    service.moderate(tenant, post, values["action"], reason=values.get("reason"))
    req.commit()
    return jsonify(req.render_posts([post])[0])


@route("/posts/<int:post_id>/disclosure-check", "POST")
def check_disclosure(post_id: int) -> ResponseReturnValue:
    """Re-run the disclosure check on the caption (#ad, #sponsored, paid partnership, ...)."""
    tenant = current_tenant()
    post = service.get_post(tenant, post_id)
    result = service.run_disclosure_check(tenant, post, req.settings())
    req.commit()
    return jsonify(
        disclosed=result.disclosed,
        matches=list(result.matches),
        prominent=result.prominent,
        flagged=result.flagged,
        checked_at=io.iso(post.disclosure_checked_at),
    )


@route("/posts/<int:post_id>/audit", "GET")
def post_audit(post_id: int) -> ResponseReturnValue:
    """The post's trail: moderation decisions, disclosure checks, rights changes."""
    tenant = current_tenant()
    post = service.get_post(tenant, post_id)
    events = tenant.all(UgcAuditEvent, UgcAuditEvent.ugc_post_id == post.id)
    events.sort(key=lambda event: event.id)
    return jsonify(data=[io.audit_json(event) for event in events])


# --- rights ---------------------------------------------------------------------------------


@route("/posts/<int:post_id>/rights", "POST")
def request_rights(post_id: int) -> ResponseReturnValue:
    """Ask the author for usage rights: scopes, duration, territory and the request text."""
    tenant = current_tenant()
    post = service.get_post(tenant, post_id)
    values = req.body(io.RIGHTS_REQUEST_INPUT)
    unknown = [scope for scope in values["scopes"] if scope not in io.SCOPES]
    if unknown:
        raise ValidationFailed({"scopes": "must be some of: " + ", ".join(io.SCOPES)})
    grant = rights.request_rights(
        tenant,
        post,
        scopes=values["scopes"],
        request_text=values["request_text"],
        duration_days=values.get("duration_days"),
        territory=values.get("territory", "worldwide"),
    )
    req.commit()
    return jsonify(io.grant_json(grant)), 201


@route("/rights/<int:grant_id>/grant", "POST")
def grant_rights(grant_id: int) -> ResponseReturnValue:
    """Record consent with its evidence (the author's reply or a permalink to it)."""
    tenant = current_tenant()
    grant = rights.get_grant(tenant, grant_id)
    values = req.body(io.GRANT_INPUT)
    rights.grant_rights(tenant, grant, **values)
    req.commit()
    return jsonify(io.grant_json(grant))


@route("/rights/<int:grant_id>/decline", "POST")
def decline_rights(grant_id: int) -> ResponseReturnValue:
    """Record that the author said no."""
    tenant = current_tenant()
    grant = rights.get_grant(tenant, grant_id)
    rights.decline_rights(tenant, grant, req.body(io.REASON_INPUT).get("reason"))
    req.commit()
    return jsonify(io.grant_json(grant))


@route("/rights/<int:grant_id>/revoke", "POST")
def revoke_rights(grant_id: int) -> ResponseReturnValue:
    """Consent withdrawn: the post leaves the storefront as this commits."""
    tenant = current_tenant()
    grant = rights.get_grant(tenant, grant_id)
    rights.revoke_rights(tenant, grant, req.body(io.REASON_INPUT).get("reason"))
    req.commit()
    return jsonify(io.grant_json(grant))


# --- catalog, settings, metrics -------------------------------------------------------------


@route("/products", "GET")
def list_products() -> ResponseReturnValue:
    """The product catalog shoppable slides use."""
    rows = current_tenant().all(ProductSnapshot)
    rows.sort(key=lambda row: row.product_id)
    return jsonify(data=[io.product_json(row) for row in rows])


@route("/products", "PUT")
def upsert_products() -> ResponseReturnValue:
    """Insert or update catalog entries by product id (what shoppable slides show)."""
    rows = service.upsert_products(current_tenant(), req.body(io.CATALOG_INPUT)["products"])
    req.commit()
    return jsonify(data=[io.product_json(row) for row in rows])


@route("/settings", "GET")
def get_settings() -> ResponseReturnValue:
    """UGC settings: disclosure phrases, media hosts, storefront origins, max items."""
    return jsonify(req.settings_json(req.settings()))


@route("/settings", "PUT")
def put_settings() -> ResponseReturnValue:
    """Change UGC settings (any subset of the fields)."""
    values = req.body(io.SETTINGS_INPUT, partial=True)
    errors: dict[str, str] = {}
    for name, pattern in (("media_hosts", io.HOST), ("storefront_origins", io.ORIGIN)):
        for index, item in enumerate(values.get(name, ())):
            if not re.fullmatch(pattern, item):
                errors[f"{name}[{index}]"] = "is not a valid " + name.rstrip("s").replace("_", " ")
    if errors:
        raise ValidationFailed(errors)
    current = dict(g.shop.settings or {})
    current["ugc"] = {**req.settings_json(req.settings()), **values}
    g.shop.settings = current  # a new dict, so the JSON column is marked changed
    service.bump_feed_version(get_session(), g.shop.id)
    req.commit()
    return jsonify(req.settings_json(req.settings()))


@route("/metrics/ctr", "GET")
def ctr() -> ResponseReturnValue:
    """Carousel click-through per post or per creator (?by=creator), from beacon events."""
    by = request.args.get("by", "post")
    if by not in {"post", "creator"}:
        raise ValidationFailed({"by": "must be one of: post, creator"})
    compute = ugc_events.ctr_by_creator if by == "creator" else ugc_events.ctr_by_post
    rows = compute(get_session(), current_tenant().shop_id)
    return jsonify(
        data=[
            {
                f"{by}_id": row.key,
                "label": row.label,
                "impressions": row.impressions,
                "clicks": row.clicks,
                "ctr_bps": row.ctr_bps,
            }
            for row in rows
        ]
    )
