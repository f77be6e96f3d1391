"""A stand-in for the Shopify admin (admin.shopify.com) for the demo and the browser tests.

It serves, from its own origin, the page that frames the app for one shop the way Shopify's
admin does (`/store/<store>/apps/<app handle or API key>[/<path>]` frames
`<app>/<path>?embedded=1&host=…&id_token=…&shop=…&timestamp=…&hmac=…`), and the App Bridge
globals the framed pages use: `app-bridge.js` (loaded by the app's pages instead of Shopify's
CDN script, see TASTEMAKER_SHOPIFY_APP_BRIDGE_URL) gives them `shopify.idToken()`,
`shopify.toast`, `shopify.loading()`, `shopify.modal`, `shopify.saveBar`, the `<ui-modal>` and
`<ui-save-bar>` elements, `<form data-save-bar>` and `open(url, "_top")`, and reads their
`<ui-nav-menu>` and `<ui-title-bar>`; this page draws them (admin-host.js) and signs the session
tokens it hands out with the app's client secret, as Shopify does. Production uses Shopify's real
admin and CDN script; nothing here is used by the app itself.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Flask, Response, abort, jsonify
from markupsafe import escape
from werkzeug.serving import make_server

from connectors.shopify.oauth import calculate_query_hmac
from connectors.shopify.urls import valid_shop_domain

ASSETS = Path(__file__).resolve().parent / "admin_host_assets"
TOKEN_SECONDS = 60


class AdminHost:
    def __init__(self, api_key: str, api_secret: str, app_url: str, handle: str = "tastemaker"):
        self.api_key = api_key
        self.api_secret = api_secret
        self.app_url = app_url.rstrip("/")
        self.handle = handle
        self.url = ""
        self._server: Any = None
        self.flask = self._build_app()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, host: str = "localhost", port: int = 0) -> AdminHost:
        self._server = make_server(host, port, self.flask, threaded=True)
        self.url = f"http://{host}:{self._server.port}"
        threading.Thread(target=self._server.serve_forever, name="admin-host", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def app_bridge_url(self) -> str:
        return f"{self.url}/app-bridge.js"

    def app_link(self, shop: str) -> str:
        """Where a merchant of `shop` opens the app in this admin."""
        return f"{self.url}/store/{shop.split('.', 1)[0]}/apps/{self.handle}"

    def session_token(self, shop: str) -> str:
        now = int(time.time())
        claims = {
            "iss": f"https://{shop}/admin",
            "dest": f"https://{shop}",
            "aud": self.api_key,
            "sub": "1",
            "exp": now + TOKEN_SECONDS,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "sid": secrets.token_hex(16),
        }
        return jwt.encode(claims, self.api_secret, algorithm="HS256")

    # -- HTTP ---------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("admin_host")

        @app.get("/store/<store>/apps/<handle>")
        @app.get("/store/<store>/apps/<handle>/<path:path>")
        def admin(store: str, handle: str, path: str = "admin") -> Response:
            shop = _shop(store)
            if handle not in (self.handle, self.api_key):
                abort(404)
            host = base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode()
            query = {
                "embedded": "1",
                "host": host.rstrip("="),
                "id_token": self.session_token(shop),
                "shop": shop,
                "timestamp": str(int(time.time())),
            }
            # Shopify signs the query of every app load it frames (the app may check it).
            query["hmac"] = calculate_query_hmac(query, self.api_secret)
            src = f"{self.app_url}/{path.lstrip('/')}?{urlencode(query)}"
            page = (ASSETS / "admin.html").read_text(encoding="utf-8")
            html = (
                page.replace("{{store}}", str(escape(store)))
                .replace("{{src}}", str(escape(src)))
                .replace("{{app_origin}}", str(escape(_origin(self.app_url))))
                .replace("{{token_url}}", f"/store/{escape(store)}/id-token")
            )
            return _with_policy(Response(html, mimetype="text/html"), self.app_url)

        @app.post("/store/<store>/id-token")
        def id_token(store: str) -> Any:
            return jsonify(token=self.session_token(_shop(store)))

        @app.get("/<any('app-bridge.js', 'admin-host.js'):name>")
        def script(name: str) -> Response:
            body = (ASSETS / name).read_text(encoding="utf-8")
            response = Response(body, mimetype="text/javascript")
            response.headers["Cache-Control"] = "no-store"
            return response

        @app.get("/admin-host.css")
        def styles() -> Response:
            return Response((ASSETS / "admin-host.css").read_bytes(), mimetype="text/css")

        @app.get("/favicon.ico")
        def favicon() -> Response:
            return Response(status=204)

        return app


def _shop(store: str) -> str:
    shop = valid_shop_domain(f"{store}.myshopify.com")
    if shop is None:
        abort(404)
    return shop


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_policy(response: Response, app_url: str) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"frame-src {_origin(app_url)}; img-src 'self' data:; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
