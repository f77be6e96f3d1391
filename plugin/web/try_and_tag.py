"""The public Try & Tag form: a shopper sends the link to their post and gets a private page
where their discount code appears once the shop approves the post.

`/try-and-tag/<shop public key>` serves a plain HTML form (no script) and takes its POST;
`/try-and-tag/<key>/submissions` takes the same fields as JSON (CORS for the shop's storefront
origins); `/try-and-tag/<key>/rewards/<token>` is the shopper's status page. Abuse limits: a
small body, an in-process budget of submissions per visitor, a honeypot field on the form, and
the service's rules (known networks only, one open submission per email and product).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from plugin.db import get_session
from plugin.domain import post_check as post_rules
from plugin.domain import rewards as rules
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Shop
from plugin.models.ugc import ProductSnapshot, UgcPost
from plugin.services import rewards as service
from plugin.services.ugc import ugc_settings
from plugin.services.ugc_feed import EventLimiter
from plugin.tenancy import Tenant
from plugin.web import rendering

bp = Blueprint("try_and_tag", __name__)
rendering.install(bp)

LIMITER_KEY = "tastemaker.try_and_tag_limiter"
MAX_BODY = 8 * 1024
SUBMISSIONS_PER_HOUR = 10
MAX_PRODUCTS = 500
SUBMISSION = Schema(
    "TryAndTagSubmission",
    (
        Field("email", "string", required=True, max_length=254),
        Field("post_url", "string", required=True, max_length=rules.MAX_POST_URL),
        Field("handle", "string", required=True, max_length=64),
        Field("product_id", "string", required=True, max_length=64),
        Field("order_number", "string", max_length=64),
    ),
)


def limiter() -> EventLimiter:
    budget: EventLimiter = current_app.extensions.setdefault(
        LIMITER_KEY, EventLimiter(per_window=SUBMISSIONS_PER_HOUR, window=timedelta(hours=1))
    )
    return budget


def _open_shop(public_key: str) -> Shop | None:
    if len(public_key) > 64:
        return None
    shop = get_session().scalars(select(Shop).where(Shop.public_key == public_key)).first()
    return shop if shop is not None and shop.is_active else None


def _visitor() -> str:
    # Keyed by address only: a script can vary its user agent, not (cheaply) its address.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, (request.remote_addr or "").encode(), hashlib.sha256).hexdigest()


def _submit(shop: Shop, data: object) -> tuple[str | None, dict[str, str]]:
    """Validate and record; (status page token, {}) or (None, field errors)."""
    try:
        values = SUBMISSION.validate(data)
        _reward, token = service.submit(
            Tenant(get_session(), shop.id),
            shop,
            service.Submission(
                email=values["email"],
                post_url=values["post_url"],
                handle=values["handle"],
                product_id=values["product_id"],
                order_number=values.get("order_number", ""),
            ),
        )
    except ValidationFailed as failed:
        get_session().rollback()
        return None, failed.fields
    get_session().commit()
    return token, {}


# --- the HTML form ------------------------------------------------------------------------------


@bp.get("/try-and-tag/<public_key>")
def form(public_key: str) -> ResponseReturnValue:
    shop = _open_shop(public_key)
    program = service.get_program(Tenant(get_session(), shop.id)) if shop else None
    if shop is None or program is None or not program.enabled:
        return render_template("try_and_tag/closed.html"), 404
    values = {"product_id": request.args.get("product", "")}
    return _render_form(shop, values, {})


@bp.post("/try-and-tag/<public_key>")
def submit_form(public_key: str) -> ResponseReturnValue:
    if (request.content_length or 0) > MAX_BODY:
        return Response("A submission carries at most 8 KB.", status=413, mimetype="text/plain")
    shop = _open_shop(public_key)
    program = service.get_program(Tenant(get_session(), shop.id)) if shop else None
    if shop is None or program is None or not program.enabled:
        return render_template("try_and_tag/closed.html"), 404
    values = {name: request.form.get(name, "") for name in SUBMISSION.field_names()}
    if request.form.get("website"):
        # The honeypot: people never see this field, form-filling scripts fill it in.
        return render_template("try_and_tag/received.html", shop=shop), 200
    if not limiter().take(shop.id, _visitor(), 1):
        errors = {"form": "Too many submissions from your network. Try again in an hour."}
        return _render_form(shop, values, errors, status=429)
    token, errors = _submit(shop, values)
    if token is None:
        return _render_form(shop, values, errors, status=422)
    return redirect(url_for(".status", public_key=public_key, token=token, new=1), code=303)


def _render_form(
    shop: Shop, values: Mapping[str, str], errors: Mapping[str, str], status: int = 200
) -> tuple[str, int]:
    tenant = Tenant(get_session(), shop.id)
    program = service.program_or_default(tenant)
    products = get_session().scalars(
        tenant.select(ProductSnapshot).order_by(ProductSnapshot.title).limit(MAX_PRODUCTS)
    )
    page = render_template(
        "try_and_tag/form.html",
        shop=shop,
        program=program,
        offer=rules.describe_offer(program.discount_kind, program.discount_value, shop.currency),
        networks=post_rules.network_names(post_rules.allowed_networks(program.allowed_networks)),
        products=list(products),
        values=values,
        errors=errors,
    )
    return page, status


@bp.get("/try-and-tag/<public_key>/rewards/<token>")
def status(public_key: str, token: str) -> ResponseReturnValue:
    shop = _open_shop(public_key)
    reward = service.reward_for_token(get_session(), shop.id, token) if shop else None
    if shop is None or reward is None:
        return render_template("try_and_tag/closed.html"), 404
    post = get_session().get(UgcPost, reward.ugc_post_id)
    return render_template(
        "try_and_tag/status.html",
        shop=shop,
        reward=reward,
        post=post,
        offer=rules.describe_offer(reward.discount_kind, reward.discount_value, reward.currency),
        new=request.args.get("new") == "1",
        token=token,
    )


@bp.post("/try-and-tag/<public_key>/rewards/<token>/recheck")
def recheck(public_key: str, token: str) -> ResponseReturnValue:
    """The shopper fixed their post: check it again. The private token is the credential, and a
    check changes nothing but the post's verdict, so no session or CSRF token is needed."""
    shop = _open_shop(public_key)
    reward = service.reward_for_token(get_session(), shop.id, token) if shop else None
    if shop is None or reward is None:
        return render_template("try_and_tag/closed.html"), 404
    if limiter().take(shop.id, _visitor(), 1):
        from plugin.services.post_checks import request_recheck

        request_recheck(get_session(), reward)
        get_session().commit()
    return redirect(url_for(".status", public_key=public_key, token=token), code=303)


# --- the JSON endpoint --------------------------------------------------------------------------


@bp.route("/try-and-tag/<public_key>/submissions", methods=["OPTIONS"])
def submissions_preflight(public_key: str) -> ResponseReturnValue:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(response, _open_shop(public_key))


@bp.post("/try-and-tag/<public_key>/submissions")
def submit_json(public_key: str) -> ResponseReturnValue:
    if (request.content_length or 0) > MAX_BODY:
        return _problem(413, "too_large", "a submission carries at most 8 KB")
    shop = _open_shop(public_key)
    program = service.get_program(Tenant(get_session(), shop.id)) if shop else None
    if shop is None or program is None or not program.enabled:
        return _problem(404, "not_found", "this shop takes no Try & Tag submissions")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:  # a chunked body carries no Content-Length to check up front
        return _cors(_problem(413, "too_large", "a submission carries at most 8 KB"), shop)
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
        return _cors(_problem(400, "malformed_json", "the body is not valid JSON"), shop)
    if not limiter().take(shop.id, _visitor(), 1):
        response = _problem(429, "rate_limited", "too many submissions; try again in an hour")
        response.headers["Retry-After"] = "3600"
        return _cors(response, shop)
    token, errors = _submit(shop, data)
    if token is None:
        body = json.dumps({"error": "validation", "fields": errors})
        return _cors(Response(body, status=422, mimetype="application/json"), shop)
    status_url = url_for(".status", public_key=public_key, token=token, _external=False)
    public_url = current_app.config["TASTEMAKER"].public_url.rstrip("/")
    body = json.dumps({"status": "submitted", "status_url": public_url + status_url})
    return _cors(Response(body, status=201, mimetype="application/json"), shop)


def _cors(response: Response, shop: Shop | None) -> Response:
    response.headers["Vary"] = "Origin"
    origin = request.headers.get("Origin")
    if shop is not None and origin:
        allowed = {f"https://{shop.domain}", *ugc_settings(shop.settings).storefront_origins}
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
    return response


def _problem(status: int, error: str, message: str) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    return Response(json.dumps(body), status=status, mimetype="application/json")
