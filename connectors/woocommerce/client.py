"""The one module that talks to a store: `woocommerce.API` (wc/v3) with its quirks handled.

The library returns raw `requests.Response` objects with a 5 s default timeout, no error mapping
and no pagination helper. Here every call gets a 30 s timeout, query arguments go through
`params=` (never the endpoint string), responses become `StoreResponse` or one of the connector
errors, and a 401 under Basic auth is retried once with the keys in the query string, because
some hosts strip the Authorization header before WordPress sees it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from woocommerce import API

from connectors.base import (
    CredentialsRevoked,
    RetryableConnectorError,
    TerminalConnectorError,
)

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
API_VERSION = "wc/v3"
USER_AGENT = "Tastemaker/0.1 (+https://github.com/tastemaker)"


class StoreApiError(TerminalConnectorError):
    """A 4xx answer WooCommerce explains with its `{"code", "message", "data": {"status"}}` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"store answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.store_message = message


@dataclass(frozen=True)
class StoreResponse:
    status: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def total_pages(self) -> int:
        return _int_header(self.headers, "X-WP-TotalPages", default=1)

    @property
    def total(self) -> int:
        return _int_header(self.headers, "X-WP-Total", default=0)


class Pacer:
    """At most one request per `interval` seconds per store, across threads of one process.

    Reconciliation walks every page of a store's orders; small shared hosts throttle or fall over
    when a client fires requests back to back.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_allowed: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, store: str) -> None:
        if self.interval <= 0:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_allowed.get(store, now))
            self._next_allowed[store] = start + self.interval
        if start > now:
            self._sleep(start - now)


class StoreClient:
    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        query_string_auth: bool = False,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = consumer_key
        self._secret = consumer_secret
        self.query_string_auth = query_string_auth
        # True once a 401 under Basic auth succeeded with query-string auth: callers persist it.
        self.switched_to_query_auth = False
        self._pacer = pacer
        self._timeout = timeout

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> StoreResponse:
        return self.request("GET", endpoint, params=params)

    def post(self, endpoint: str, data: Mapping[str, Any]) -> StoreResponse:
        return self.request("POST", endpoint, data=data)

    def put(self, endpoint: str, data: Mapping[str, Any]) -> StoreResponse:
        return self.request("PUT", endpoint, data=data)

    def delete(self, endpoint: str, params: Mapping[str, Any] | None = None) -> StoreResponse:
        return self.request("DELETE", endpoint, params=params)

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> StoreResponse:
        if self._pacer is not None:
            self._pacer.wait(self.base_url)
        response = self._send(method, endpoint, data, params, self.query_string_auth)
        if response.status_code == 401 and not self.query_string_auth:
            retried = self._send(method, endpoint, data, params, query_string_auth=True)
            if retried.status_code != 401:
                logger.info("store %s strips Authorization: using query auth", self.base_url)
                self.query_string_auth = True
                self.switched_to_query_auth = True
            response = retried
        return _interpret(method, endpoint, response)

    def _send(
        self,
        method: str,
        endpoint: str,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        query_string_auth: bool,
    ) -> requests.Response:
        api = API(
            url=self.base_url,
            consumer_key=self._key,
            consumer_secret=self._secret,
            version=API_VERSION,
            timeout=self._timeout,
            query_string_auth=query_string_auth,
            user_agent=USER_AGENT,
        )
        # The library picks OAuth1 for any http URL, and that path signs and then duplicates the
        # query string. Only the local simulator is http (stores must be https), so keep Basic or
        # query-string auth there too: what we test is what production sends.
        api.is_ssl = True
        # The library adds the keys to `params` in place under query auth: hand it a copy.
        kwargs: dict[str, Any] = {"params": dict(params or {}), "allow_redirects": False}
        response: requests.Response
        try:
            if method in ("POST", "PUT"):
                send = api.post if method == "POST" else api.put
                response = send(endpoint, dict(data or {}), **kwargs)
            elif method == "DELETE":
                response = api.delete(endpoint, **kwargs)
            else:
                response = api.get(endpoint, **kwargs)
        except requests.Timeout as exc:
            raise RetryableConnectorError(f"{method} {endpoint}: store timed out") from exc
        except requests.ConnectionError as exc:
            raise RetryableConnectorError(f"{method} {endpoint}: store unreachable: {exc}") from exc
        except requests.RequestException as exc:
            raise TerminalConnectorError(f"{method} {endpoint}: {exc}") from exc
        return response


def _interpret(method: str, endpoint: str, response: requests.Response) -> StoreResponse:
    status = response.status_code
    where = f"{method} {endpoint}"
    if 200 <= status < 300:
        try:
            data = response.json() if response.content else None
        except ValueError as exc:
            # A 2xx that is not JSON is a security or caching plugin answering instead of WordPress.
            raise RetryableConnectorError(f"{where}: store answered {status} without JSON") from exc
        return StoreResponse(status, data, response.headers)
    if 300 <= status < 400:
        target = response.headers.get("Location", "?")
        raise TerminalConnectorError(
            f"{where}: store redirects to {target}; reconnect using that address"
        )
    if status == 429 or status >= 500:
        raise RetryableConnectorError(
            f"{where}: store answered {status}", retry_after=_retry_after(response)
        )
    code, message = _error_body(response)
    if status == 401:
        raise CredentialsRevoked(f"{where}: store refused our keys ({code}: {message})")
    raise StoreApiError(status, code, message)


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "non_json_error", response.text[:200]
    if not isinstance(body, dict):
        return "unexpected_error_body", str(body)[:200]
    return str(body.get("code", "unknown")), str(body.get("message", ""))


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def _int_header(headers: Mapping[str, str], name: str, *, default: int) -> int:
    try:
        return int(headers.get(name, default))
    except (TypeError, ValueError):
        return default
