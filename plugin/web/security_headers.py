"""Security headers on every response the pages' own filter does not already cover.

- `X-Content-Type-Options: nosniff` everywhere: a JSON or CSV body is never sniffed into HTML.
- `Strict-Transport-Security` in production (the public URL is https there): browsers stop
  trying plain http for the app's host.
- Machine endpoints (`/api/`, `/openapi.json`, `/healthz`, `/readyz`): a CSP that allows nothing
  and no framing (they are data, never a page), and `Cache-Control: no-store` for the API's
  authenticated answers and the health checks (nothing per-shop lands in a shared cache).

Values a blueprint set itself (the admin pages' CSP, a cacheable storefront feed) are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, current_app, request

if TYPE_CHECKING:
    from flask import Flask

HSTS = "max-age=31536000; includeSubDomains"
MACHINE_PREFIXES = ("/api/", "/openapi.json", "/healthz", "/readyz")
NO_STORE_PREFIXES = ("/api/", "/healthz", "/readyz")


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    settings = current_app.config["TASTEMAKER"]
    if settings.is_production and settings.public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    path = request.path
    if path.startswith(MACHINE_PREFIXES):
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
    if path.startswith(NO_STORE_PREFIXES):
        headers.setdefault("Cache-Control", "no-store")
    return response
