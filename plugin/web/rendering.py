"""What the server-rendered pages share: money and date filters, CSRF tokens, security headers.

Forms carry a per-session CSRF token (`plugin.web.csrf`). The Content-Security-Policy is built
per request by `plugin.web.embedding` (which shop's admin may frame the page, whether App Bridge
may load).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response

from plugin.domain.money import currency_exponent
from plugin.web import embedding
from plugin.web.csrf import csrf_token

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


def install(bp: Blueprint) -> None:
    """Filters, the CSRF global and security headers for a pages blueprint."""
    bp.add_app_template_filter(money, "money")
    bp.add_app_template_filter(bps, "bps")
    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(day, "day")
    bp.add_app_template_global(csrf_token, "csrf_token")

    @bp.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", embedding.content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response
