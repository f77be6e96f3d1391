"""What the server-rendered pages share: money and date filters, CSRF tokens, security headers.

Forms carry a per-session CSRF token (a random value kept in the signed session cookie) that is
compared in constant time on every POST. The Content-Security-Policy is built per request by
`plugin.web.embedding` (which shop's admin may frame the page, whether App Bridge may load).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response, abort, request, session

from plugin.crypto import constant_time_equals
from plugin.domain.money import currency_exponent

CSRF_KEY = "tm_csrf"
NO_VALUE = "\u2013"  # an en dash: shown where a quotient has no value


def money(minor: int | None, currency: str) -> str:
    """`1234567, "USD"` -> "USD 12,345.67"; the currency's own number of decimals."""
    exponent = currency_exponent(currency)
    value = Decimal(minor or 0).scaleb(-exponent)
    return f"{currency} {value:,.{exponent}f}"


def bps(value: int | None, digits: int = 1) -> str:
    """Basis points as a percentage: 1234 -> "12.3%"; None (a quotient over zero) -> NO_VALUE."""
    if value is None:
        return NO_VALUE
    return f"{Decimal(value) / 100:,.{digits}f}%"


def when(value: datetime | str | None) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%d %b %Y, %H:%M UTC")


def day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value is not None else NO_VALUE


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


def install(bp: Blueprint) -> None:
    """Filters, the CSRF global and security headers for a pages blueprint."""
    bp.add_app_template_filter(money, "money")
    bp.add_app_template_filter(bps, "bps")
    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(day, "day")
    bp.add_app_template_global(csrf_token, "csrf_token")

    @bp.after_request
    def security_headers(response: Response) -> Response:
        from plugin.web import embedding  # imports admin_auth, which imports this module

        response.headers.setdefault("Content-Security-Policy", embedding.content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response
