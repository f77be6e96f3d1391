"""CSRF tokens for server-rendered forms: a random value kept in the signed session cookie,
compared in constant time on every POST. (Embedded Shopify pages authenticate every request
with a session token instead, which is CSRF-safe by construction: see plugin.web.admin_auth.)"""

from __future__ import annotations

import secrets

from flask import abort, request, session

from plugin.crypto import constant_time_equals

CSRF_KEY = "tm_csrf"


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        session[CSRF_KEY] = token
    return token


def check_csrf() -> None:
    expected = session.get(CSRF_KEY)
    given = request.form.get("csrf_token", "")
    if not isinstance(expected, str) or not expected or not constant_time_equals(expected, given):
        abort(400, description="This form has expired. Reload the page and try again.")
