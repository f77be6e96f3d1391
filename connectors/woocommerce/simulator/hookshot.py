"""How the simulated store delivers webhooks, the way WooCommerce's `WC_Webhook` does.

Body: compact JSON with escaped slashes (PHP's `wp_json_encode`). Headers: X-WC-Webhook-*.
Signature: base64 HMAC-SHA256 of the body with the webhook's secret. A 200-302 answer resets the
failure count; anything else increments it, and past 5 the webhook becomes `disabled`. Nothing is
ever retried. The creation ping is a form body `webhook_id=N` without any X-WC header.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from connectors.woocommerce.webhooks import sign

# Delivers (url, body, headers) and returns the HTTP status; 0 when the request failed.
Transport = Callable[[str, bytes, Mapping[str, str]], int]

MAX_DELIVERY_FAILURES = 5
WC_VERSION = "9.8.0"
WP_VERSION = "6.8"
USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"


@dataclass(frozen=True)
class Delivery:
    webhook_id: int
    topic: str
    url: str
    body: bytes
    headers: dict[str, str]
    status: int


def http_transport(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    try:
        response = requests.post(
            url, data=body, headers=dict(headers), timeout=60, allow_redirects=False
        )
    except requests.RequestException:
        return 0
    return response.status_code


def encode_body(payload: Any) -> bytes:
    # PHP escapes "/" in JSON strings; "/" never appears outside strings in JSON.
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def webhook_request(
    webhook: Mapping[str, Any], payload: Any, home_url: str
) -> tuple[bytes, dict[str, str]]:
    body = encode_body(payload)
    resource, event = str(webhook["topic"]).split(".", 1)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-WC-Webhook-Source": home_url,
        "X-WC-Webhook-Topic": str(webhook["topic"]),
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(body, str(webhook["secret"])),
        "X-WC-Webhook-ID": str(webhook["id"]),
        "X-WC-Webhook-Delivery-ID": secrets.token_hex(16),
    }
    return body, headers


def ping_request(webhook_id: int) -> tuple[bytes, dict[str, str]]:
    return f"webhook_id={webhook_id}".encode(), {"User-Agent": USER_AGENT}


def record_outcome(webhook: dict[str, Any], status: int) -> None:
    """WC_Webhook::log_delivery: success resets the count, the 7th failure in a row disables."""
    if 200 <= status < 303:
        webhook["failure_count"] = 0
        return
    if webhook["failure_count"] > MAX_DELIVERY_FAILURES:
        webhook["status"] = "disabled"
    else:
        webhook["failure_count"] += 1
