"""A local Shopify for tests and the demo: OAuth, token endpoint, GraphQL Admin, webhooks.

It serves many shops from one port: the shop domain is the first path segment
(`http://127.0.0.1:PORT/{shop}/admin/...`), which is how the connector addresses it when
TASTEMAKER_SHOPIFY_BASE_URL is set. It speaks the wire format Tastemaker relies on: the authorize
redirect with a signed query, JSON token grants (code with `expiring=1`, refresh, token exchange)
and their errors, GraphQL with cost extensions and THROTTLED, 429 with Retry-After, and signed
webhook deliveries.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, Response, abort, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from werkzeug.serving import WSGIRequestHandler, make_server

from connectors.shopify.oauth import calculate_query_hmac
from connectors.shopify.simulator_orders import FIXTURE_ORDERS
from connectors.shopify.simulator_state import ROOT_FIELD, SimShop, SimulatorState
from connectors.shopify.simulator_tokens import ACCESS_TOKEN_SECONDS, TokenAuthority, grant_name
from connectors.shopify.urls import valid_shop_domain
from connectors.shopify.webhooks import sign

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105


@dataclass(frozen=True)
class Call:
    shop: str
    kind: str  # "authorize", "token:<grant>", "graphql:<root field>"


class ShopifySimulator:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        app_url: str | None = None,
        fixtures_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        access_token_seconds: int = ACCESS_TOKEN_SECONDS,
        config_webhooks: Mapping[str, str] | None = None,
        open_app: Callable[[str], str] | None = None,
    ) -> None:
        self.api_key = api_key
        # Subscriptions the app declares in shopify.app.toml (topic -> URL): Shopify delivers
        # them for every shop, whatever the shop subscribed through the API.
        self.config_webhooks = dict(config_webhooks or {})
        # Shopify-managed installation: after approving, the merchant lands on this URL (the
        # admin page framing the app for the shop); without it the app's OAuth install runs.
        self.open_app = open_app
        self.api_secret = api_secret
        self.app_url = app_url.rstrip("/") if app_url else None
        self.fixtures_dir = fixtures_dir
        self.state = SimulatorState(clock)
        self.tokens = TokenAuthority(api_key, api_secret, clock, access_token_seconds)
        self.calls: list[Call] = []
        # Every GraphQL body received (query and variables): tests check them against the schema.
        self.graphql_bodies: list[dict[str, Any]] = []
        # Runs before the token endpoint answers a grant: tests use it to hold a refresh open.
        self.before_token_grant: Callable[[str, str], None] | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.flask = self._build_app()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ShopifySimulator:
        self._server = make_server(
            host, port, self.flask, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{host}:{self._server.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="shopify-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ShopifySimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- scripting (tests and the demo) -------------------------------------------------------

    def shop(self, domain: str) -> SimShop:
        return self.state.shop(domain)

    def seed_fixture_orders(self, domain: str) -> None:
        if self.fixtures_dir is None:
            raise ValueError("the simulator was started without a fixtures directory")
        for name in FIXTURE_ORDERS:
            self.add_order(domain, json.loads((self.fixtures_dir / name).read_bytes()))

    def add_order(self, domain: str, payload: Mapping[str, Any]) -> None:
        with self.state.lock:
            shop = self.shop(domain)
            shop.orders = [o for o in shop.orders if o["id"] != payload["id"]] + [dict(payload)]

    def fail_next(
        self, domain: str, kind: str, *, times: int = 1, retry_after: float = 1.0
    ) -> None:
        """Script GraphQL failures: "http_429", "http_500" or "throttled" (bucket emptied)."""
        with self.state.lock:
            self.shop(domain).failures.extend([(kind, retry_after)] * times)

    def issue_token(self, domain: str, *, expires_in: int | None = None) -> dict[str, Any]:
        """Mint an expiring offline token pair as if OAuth had just run (a token response)."""
        with self.state.lock:
            return self.tokens.mint(domain, expiring=True, scope="", expires_in=expires_in)

    def revoke(self, domain: str) -> None:
        with self.state.lock:
            self.tokens.revoke(domain)

    def calls_of(self, kind: str, shop: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and (shop is None or c.shop == shop)]

    def install_url(self, domain: str) -> str:
        """The link Shopify's admin follows when a merchant installs the app on `domain`."""
        return f"{self.url}/{domain}/admin/apps/{self.api_key}"

    def signed_query(self, params: Mapping[str, str]) -> dict[str, str]:
        query = dict(params)
        query["hmac"] = calculate_query_hmac(query, self.api_secret)
        return query

    def host_param(self, domain: str) -> str:
        store = domain.split(".", 1)[0]
        return base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode().rstrip("=")

    def session_token(
        self,
        domain: str,
        *,
        lifetime: int = 60,
        now: float | None = None,
        secret: str | None = None,
        algorithm: str = "HS256",
        **claims: Any,
    ) -> str:
        """A session token as App Bridge would hand the embedded admin."""
        issued = int(time.time() if now is None else now)
        body = {
            "iss": f"https://{domain}/admin",
            "dest": f"https://{domain}",
            "aud": self.api_key,
            "sub": "42",
            "exp": issued + lifetime,
            "nbf": issued,
            "iat": issued,
            "jti": secrets.token_hex(16),
            "sid": secrets.token_hex(16),
            **claims,
        }
        key: Any = secret if secret is not None else self.api_secret
        if algorithm == "none":
            key = None
        return jwt.encode(body, key, algorithm=algorithm)

    def send_webhook(
        self,
        target: str,
        domain: str,
        topic: str,
        body: bytes,
        *,
        event_id: str | None = None,
        secret: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, self.api_secret if secret is None else secret),
            "X-Shopify-Shop-Domain": domain,
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": secrets.token_hex(16),
            "X-Shopify-Event-Id": event_id or secrets.token_hex(16),
            "X-Shopify-Triggered-At": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            **(extra_headers or {}),
        }
        return requests.post(target, data=body, headers=headers, timeout=(3.05, 5))

    def deliver(self, domain: str, topic: str, body: bytes) -> list[int]:
        """POST `body` to every subscription of `domain` for `topic`; returns the statuses."""
        enum = topic.replace("/", "_").upper()
        urls = [hook["url"] for hook in self.shop(domain).webhooks if hook["topic"] == enum]
        if topic in self.config_webhooks:
            urls.append(self.config_webhooks[topic])
        event_id = secrets.token_hex(16)
        return [
            self.send_webhook(url, domain, topic, body, event_id=event_id).status_code
            for url in urls
        ]

    def uninstall(self, domain: str) -> list[int]:
        """Uninstall the app: tokens die at once, then app/uninstalled is delivered."""
        shop = self.shop(domain)
        body = json.dumps({"id": 548380009, "name": shop.name, "myshopify_domain": domain}).encode()
        self.revoke(domain)
        statuses = self.deliver(domain, "app/uninstalled", body)
        with self.state.lock:
            shop.installed = False
            shop.webhooks.clear()
        return statuses

    # -- HTTP ---------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("shopify_simulator")

        @app.get("/<shop>/admin/apps/<api_key>")
        def merchant_installs(shop: str, api_key: str) -> ResponseReturnValue:
            domain = _domain_or_404(shop)
            if api_key != self.api_key or self.app_url is None:
                abort(404)
            with self.state.lock:
                self.shop(domain).installed = True
            if self.open_app is not None:
                return redirect(self.open_app(domain))
            query = self.signed_query(
                {
                    "host": self.host_param(domain),
                    "shop": domain,
                    "timestamp": str(int(time.time())),
                }
            )
            return redirect(f"{self.app_url}/shopify/install?{urlencode(query)}")

        @app.get("/<shop>/admin/oauth/authorize")
        def authorize(shop: str) -> ResponseReturnValue:
            domain = _domain_or_404(shop)
            self.calls.append(Call(domain, "authorize"))
            args = request.args
            if args.get("client_id") != self.api_key:
                return Response("Oauth error invalid_request: unknown client_id", status=400)
            redirect_uri = args.get("redirect_uri", "")
            if self.app_url and not redirect_uri.startswith(self.app_url + "/"):
                return Response("Oauth error invalid_request: redirect_uri not whitelisted", 400)
            with self.state.lock:
                code = self.tokens.issue_code(domain, args.get("scope", ""))
                self.shop(domain).installed = True
            query = self.signed_query(
                {
                    "code": code,
                    "host": self.host_param(domain),
                    "shop": domain,
                    "state": args.get("state", ""),
                    "timestamp": str(int(time.time())),
                }
            )
            return redirect(f"{redirect_uri}?{urlencode(query)}")

        @app.post("/<shop>/admin/oauth/access_token")
        def access_token(shop: str) -> ResponseReturnValue:
            domain = _domain_or_404(shop)
            body = request.get_json(silent=True) or request.form.to_dict()
            grant = grant_name(body)
            self.calls.append(Call(domain, f"token:{grant}"))
            if self.before_token_grant is not None:
                self.before_token_grant(domain, grant)
            with self.state.lock:
                if grant == "token_exchange" and not self.shop(domain).installed:
                    # Shopify exchanges session tokens only for shops the app is installed on.
                    return jsonify(
                        error="invalid_subject_token", error_description="app not installed"
                    ), 400
                answer, status = self.tokens.answer(domain, body)
            return jsonify(answer), status

        @app.post("/<shop>/admin/api/<version>/graphql.json")
        def graphql(shop: str, version: str) -> ResponseReturnValue:
            domain = _domain_or_404(shop)
            body = request.get_json(silent=True) or {}
            query = str(body.get("query") or "")
            match = ROOT_FIELD.search(query)
            self.calls.append(Call(domain, f"graphql:{match.group(1) if match else ''}"))
            self.graphql_bodies.append(body)
            with self.state.lock:
                if not self.tokens.valid(domain, request.headers.get("X-Shopify-Access-Token")):
                    return jsonify(errors=INVALID_TOKEN), 401
                sim_shop = self.shop(domain)
                if sim_shop.failures:
                    kind, retry_after = sim_shop.failures.pop(0)
                    if kind == "http_429":
                        response = jsonify(errors="Exceeded 2 calls per second for api client.")
                        response.headers["Retry-After"] = f"{retry_after:.1f}"
                        return response, 429
                    if kind == "http_500":
                        return jsonify(errors="Internal Server Error"), 500
                    if kind == "throttled":
                        sim_shop.bucket_available = 0.0
                        sim_shop.bucket_at = self.state.clock()
                result = self.state.execute(domain, query, body.get("variables") or {})
            return jsonify(result)

        @app.get("/<shop>/discount/<code>")
        def storefront_discount(shop: str, code: str) -> ResponseReturnValue:
            domain = _domain_or_404(shop)
            target = request.args.get("redirect", "/")
            if not target.startswith("/") or target.startswith("//"):
                target = "/"
            response = redirect(f"/{domain}{target}")
            response.set_cookie("discount_code", code, path=f"/{domain}")
            return response

        @app.get("/<shop>/")
        @app.get("/<shop>/<path:page>")
        def storefront(shop: str, page: str = "") -> Response:
            domain = _domain_or_404(shop)
            code = request.cookies.get("discount_code", "")
            html = (
                "<!doctype html><title>Simulated storefront</title>"
                f"<h1>{escape(self.shop(domain).name)}</h1><p>Page /{escape(page)}</p>"
                f"<p>Discount applied: {escape(code) or 'none'}</p>"
            )
            return Response(html, mimetype="text/html")

        return app


class _QuietHandler(WSGIRequestHandler):
    """No access log: `calls` is the simulator's record of what it was asked."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _domain_or_404(shop: str) -> str:
    domain = valid_shop_domain(shop)
    if domain is None:
        abort(404)
    return domain
