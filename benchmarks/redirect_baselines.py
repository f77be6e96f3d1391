"""The redirect benchmark's baselines, as importable WSGI apps (`module:attribute` for a server).

`raw`: a plain WSGI callable answering the same 302 (the server's own ceiling for a Python app);
`flask_app`: a bare one-route Flask app answering it (what a plain Flask view would cost).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SHOP_DOMAIN = "bench-mugs.myshopify.com"
LOCATION = f"https://{SHOP_DOMAIN}/discount/BENCH10?redirect=/products/mug"
HEADERS = [
    ("Location", LOCATION),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
]


def raw(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("302 Found", [*HEADERS, ("Content-Length", "0")])
    return [b""]


def bare_app() -> Flask:
    app = Flask(__name__)

    @app.get("/r/<slug>")
    def follow(slug: str) -> Response:
        return Response(status=302, headers=HEADERS)

    return app


flask_app = bare_app()
