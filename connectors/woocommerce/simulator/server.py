"""The simulated store over HTTP on 127.0.0.1: the REST API and the key-granting page."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from connectors.woocommerce.api_keys import REVOKE_PATH
from connectors.woocommerce.simulator import companion, rest, storefront

if TYPE_CHECKING:
    from connectors.woocommerce.simulator.store import SimulatedStore

AUTHORIZE_PATH = "/wc-auth/v1/authorize"
SCOPES = ("read", "write", "read_write")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class StoreServer:
    def __init__(self, store: SimulatedStore, port: int = 0) -> None:
        self.store = store
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(store))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for one poll
            name="woocommerce-simulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def authorize(store: SimulatedStore, params: dict[str, str]) -> tuple[int, str]:
    """`/wc-auth/v1/authorize`, with the merchant approving at once.

    Returns (302, return_url?success=1&user_id=..) after POSTing the keys as JSON to
    callback_url, or (4xx, message) the way WooCommerce refuses a request.
    """
    missing = [
        name
        for name in ("app_name", "scope", "user_id", "return_url", "callback_url")
        if not params.get(name)
    ]
    if missing:
        return 400, f"Missing parameter {missing[0]}"
    if params["scope"] not in SCOPES:
        return 400, "Invalid scope"
    callback = urlsplit(params["callback_url"])
    # WC_Auth refuses a non-https callback here, before the merchant sees the Approve page.
    # Only a store built for the demo (app on loopback http) lets loopback http through.
    loopback_allowed = store.allow_http_callbacks and callback.hostname in _LOOPBACK
    if callback.scheme != "https" and not loopback_allowed:
        return 401, "The callback_url needs to be over SSL"
    # WC_Auth::create_keys: description "<app name> - API (<gmdate Y-m-d H:i:s>)".
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    key = store.add_key(params["scope"], f"{params['app_name']} - API ({created})")
    body = {
        "key_id": key.key_id,
        "user_id": params["user_id"],
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": key.permissions,
    }
    status = store.transport(
        params["callback_url"],
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "User-Agent": "WordPress"},
    )
    if status != 200:
        store.revoke_key(key.consumer_key)
        return 400, (
            "An error occurred in the request and at the time were unable to send the consumer data"
        )
    separator = "&" if "?" in params["return_url"] else "?"
    query = urlencode({"success": 1, "user_id": params["user_id"]})
    return 302, f"{params['return_url']}{separator}{query}"


def _handler_for(store: SimulatedStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Apache"
        sys_version = ""

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read store.requests instead

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if parts.path == AUTHORIZE_PATH and method == "GET":
                status, detail = authorize(store, query)
                if status == 302:
                    self._send(302, b"", {"Location": detail})
                else:
                    self._send(
                        status, f"<p>Error: {detail}</p>".encode(), {"Content-Type": "text/html"}
                    )
                return
            if parts.path.rstrip("/") == REVOKE_PATH and method == "POST":
                self._revoke_keys(raw)
                return
            if not parts.path.startswith(rest.API_PREFIX):
                status, page = storefront.product_page(store, parts.path, query.get("coupon"))
                self._send(status, page.encode(), {"Content-Type": "text/html; charset=UTF-8"})
                return
            self._handle_api(method, parts.path[len(rest.API_PREFIX) :].strip("/"), query, raw)

        def _revoke_keys(self, raw: bytes) -> None:
            try:
                params = json.loads(raw) if raw else {}
            except ValueError:
                params = {}
            status, body = companion.handle(store, params, int(time.time()))
            headers = {"Content-Type": "application/json; charset=UTF-8"}
            self._send(status, json.dumps(body).encode(), headers)

        def _handle_api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
            basic = (
                None
                if store.strip_authorization
                else _basic_credentials(self.headers.get("Authorization"))
            )
            mode = "basic" if basic else ("query" if "consumer_key" in query else "none")
            with store.lock:
                store.requests.append((method, path, mode))
                injected = store.fail_next.pop(0) if store.fail_next else None
            if store.moved_to:
                self._send(301, b"", {"Location": store.moved_to + self.path})
                return
            if injected is not None:
                # What a sick host or its rate limiter answers: HTML, not a WordPress error.
                headers = {"Content-Type": "text/html", "Retry-After": "7"}
                self._send(injected, b"<h1>Service Unavailable</h1>", headers)
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                response = rest.RestError(
                    400, "rest_invalid_json", "Invalid JSON body passed."
                ).response
            else:
                response = rest.dispatch(store, rest.ApiRequest(method, path, query, body, basic))
            payload = json.dumps(response.body).encode()
            headers = {"Content-Type": "application/json; charset=UTF-8", **response.headers}
            self._send(response.status, payload, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return user, password
