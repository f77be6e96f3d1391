"""The merchant's Outbox (`/admin/outbox`): every email Tastemaker sent or is sending for the shop.

In the embedded default (no SMTP server configured) this is where the mail "arrives". A
message's HTML part is served on its own URL under a sandboxing CSP, never inlined into the
admin page.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from plugin.models.email import OutboundEmail
from plugin.services import emails
from plugin.web import admin_auth, rendering

bp = Blueprint("outbox", __name__)
rendering.install(bp)


@bp.get("/admin/outbox")
@admin_auth.admin_page
def outbox() -> ResponseReturnValue:
    return render_template(
        "pages/outbox.html",
        shop=admin_auth.current_shop(),
        messages=emails.outbox(admin_auth.current_tenant()),
        smtp=bool(current_app.config["TASTEMAKER"].smtp_url),
    )


def _message(message_id: int) -> OutboundEmail:
    message = admin_auth.current_tenant().get(OutboundEmail, message_id)
    if message is None:
        abort(404)
    return message


@bp.get("/admin/outbox/<int:message_id>")
@admin_auth.admin_page
def message(message_id: int) -> ResponseReturnValue:
    return render_template(
        "pages/outbox_message.html", shop=admin_auth.current_shop(), message=_message(message_id)
    )


@bp.get("/admin/outbox/<int:message_id>/html")
@admin_auth.admin_page
def message_html(message_id: int) -> ResponseReturnValue:
    response = Response(_message(message_id).html_body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
