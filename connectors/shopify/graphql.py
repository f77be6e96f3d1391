"""A small GraphQL Admin API client: timeouts, cost-aware backoff, errors sorted by kind.

Shopify meters GraphQL by calculated query cost in a leaky bucket per app and shop. Every response
carries `extensions.cost.throttleStatus`; the ShopBudget remembers it per shop and waits before a
query whose estimated cost the bucket cannot cover yet. A THROTTLED error or HTTP 429 waits and
retries a few times in place; anything longer becomes RetryableConnectorError for the job queue.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from connectors.base import CredentialsRevoked, RetryableConnectorError, TerminalConnectorError
from connectors.shopify.urls import ShopifyUrls

logger = logging.getLogger(__name__)

TIMEOUT = (3.05, 30)  # (connect, read) seconds
DEFAULT_RETRY_AFTER = 2.0
RETRYABLE_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})


@dataclass
class _Bucket:
    maximum: float
    available: float
    restore_rate: float
    observed_at: float


class ShopBudget:
    """Per-shop view of Shopify's cost bucket, as of the last throttleStatus seen."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def observe(self, shop: str, throttle_status: Mapping[str, Any]) -> None:
        try:
            bucket = _Bucket(
                maximum=float(throttle_status["maximumAvailable"]),
                available=float(throttle_status["currentlyAvailable"]),
                restore_rate=float(throttle_status["restoreRate"]),
                observed_at=self._clock(),
            )
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            self._buckets[shop] = bucket

    def available(self, shop: str) -> float | None:
        with self._lock:
            bucket = self._buckets.get(shop)
            if bucket is None:
                return None
            elapsed = max(self._clock() - bucket.observed_at, 0.0)
            return min(bucket.maximum, bucket.available + bucket.restore_rate * elapsed)

    def wait_for(self, shop: str, cost: float) -> float:
        """Seconds to wait before spending `cost` points on `shop` (0 when it fits now)."""
        available = self.available(shop)
        if available is None or available >= cost:
            return 0.0
        with self._lock:
            rate = self._buckets[shop].restore_rate
        if rate <= 0:
            return DEFAULT_RETRY_AFTER
        # Whole hundredths, rounded up: waking a hair early would only be throttled again.
        return math.ceil((cost - available) / rate * 100 - 1e-9) / 100


class GraphQLClient:
    def __init__(
        self,
        urls: ShopifyUrls,
        http: requests.Session | None = None,
        budget: ShopBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_attempts: int = 4,
        max_wait: float = 20.0,
    ) -> None:
        self.urls = urls
        self.http = http or requests.Session()
        self.budget = budget or ShopBudget()
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_wait = max_wait

    def execute(
        self,
        shop: str,
        access_token: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        estimated_cost: float = 10,
    ) -> dict[str, Any]:
        """Run one operation and return its `data`; raise a ConnectorError subclass on failure."""
        if not access_token:
            raise CredentialsRevoked(f"no access token stored for {shop}")
        for attempt in range(1, self.max_attempts + 1):
            self._wait(self.budget.wait_for(shop, estimated_cost), shop)
            response = self._post(shop, access_token, query, variables)
            if response.status_code == 429:
                delay = _retry_after(response)
                self._backoff_or_raise(attempt, delay, f"HTTP 429 from {shop}")
                continue
            body = self._json(response, shop)
            cost = (body.get("extensions") or {}).get("cost") or {}
            if isinstance(cost.get("throttleStatus"), Mapping):
                self.budget.observe(shop, cost["throttleStatus"])
            errors = body.get("errors")
            if errors and _has_code(errors, "THROTTLED"):
                delay = self._throttle_delay(shop, cost, estimated_cost)
                self._backoff_or_raise(attempt, delay, f"THROTTLED by {shop}")
                continue
            if errors:
                _raise_for_errors(errors, shop)
            data = body.get("data")
            if not isinstance(data, dict):
                raise TerminalConnectorError(f"shopify answered without data for {shop}")
            return data
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _post(
        self, shop: str, token: str, query: str, variables: Mapping[str, Any] | None
    ) -> requests.Response:
        try:
            return self.http.post(
                self.urls.graphql(shop),
                json={"query": query, "variables": dict(variables or {})},
                headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise RetryableConnectorError(f"shopify graphql unreachable for {shop}: {exc}") from exc

    def _json(self, response: requests.Response, shop: str) -> dict[str, Any]:
        status = response.status_code
        if status == 401:
            raise CredentialsRevoked(f"shopify refused the access token of {shop}")
        if status >= 500:
            raise RetryableConnectorError(f"shopify graphql answered {status} for {shop}")
        if status != 200:
            # 402 frozen shop, 403 missing scope, 404 unknown shop or API version, 423 locked.
            raise TerminalConnectorError(f"shopify graphql answered {status} for {shop}")
        try:
            body = response.json()
        except ValueError:
            raise RetryableConnectorError(f"shopify graphql sent non-JSON for {shop}") from None
        if not isinstance(body, dict):
            raise TerminalConnectorError(f"shopify graphql sent a non-object for {shop}")
        return body

    def _throttle_delay(self, shop: str, cost: Mapping[str, Any], estimated: float) -> float:
        requested = float(cost.get("requestedQueryCost") or estimated)
        return self.budget.wait_for(shop, requested) or DEFAULT_RETRY_AFTER

    def _backoff_or_raise(self, attempt: int, delay: float, what: str) -> None:
        if attempt >= self.max_attempts or delay > self.max_wait:
            raise RetryableConnectorError(f"{what}; retry in {delay:.1f}s", retry_after=delay)
        logger.info("%s; waiting %.2fs (attempt %d)", what, delay, attempt)
        self.sleep(delay)

    def _wait(self, delay: float, shop: str) -> None:
        if delay <= 0:
            return
        if delay > self.max_wait:
            raise RetryableConnectorError(
                f"cost budget of {shop} exhausted; retry in {delay:.1f}s", retry_after=delay
            )
        self.sleep(delay)


def user_errors(payload: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    errors = (payload or {}).get("userErrors") or []
    return [dict(error) for error in errors if isinstance(error, Mapping)]


def describe(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error.get('field') or ())}: {error.get('message')}"
        for error in errors
    )


def _has_code(errors: Any, code: str) -> bool:
    return any(_code(error) == code for error in errors if isinstance(error, Mapping))


def _code(error: Mapping[str, Any]) -> str | None:
    extensions = error.get("extensions")
    return str(extensions.get("code")) if isinstance(extensions, Mapping) else None


def _raise_for_errors(errors: Any, shop: str) -> None:
    if not isinstance(errors, list):
        # REST-style {"errors": "..."} bodies (e.g. an invalid token on some versions).
        raise TerminalConnectorError(f"shopify graphql error for {shop}: {errors}")
    codes = {_code(error) for error in errors if isinstance(error, Mapping)}
    messages = "; ".join(str(error.get("message")) for error in errors if isinstance(error, dict))
    if codes & RETRYABLE_ERROR_CODES:
        raise RetryableConnectorError(f"shopify graphql error for {shop}: {messages}")
    raise TerminalConnectorError(f"shopify graphql error for {shop}: {messages}")


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers["Retry-After"]), 0.0)
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER
