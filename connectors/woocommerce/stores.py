"""Store addresses: what a merchant types, what a webhook claims, and where the API lives.

A shop's `domain` is the lowercased host of its origin (with the port only when it is not the
default one). Production stores are plain https origins; the one exception is the configured
base-URL override (TASTEMAKER_WOOCOMMERCE_BASE_URL), how tests and the demo reach a local
simulator over http.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidStoreUrl(ValueError):
    """The merchant's input is not a store origin we will talk to; the message says why."""


def origin_domain(url: str) -> str:
    """host[:port] of a URL, lowercased, default ports dropped; "" when there is no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return host if port is None or port == default else f"{host}:{port}"


def normalize_store_url(raw: str, *, override_url: str | None = None) -> str:
    """The shop domain for what a merchant entered, or InvalidStoreUrl.

    Accepts "shop.example.com" or "https://shop.example.com/" and nothing else: no path, query,
    credentials, port, IP address or single-label host, because we call this origin with the
    merchant's keys from our servers. The override origin (a local simulator) is also accepted.
    """
    text = raw.strip()
    if not text:
        raise InvalidStoreUrl("enter your store's address, e.g. https://shop.example.com")
    if "://" not in text:
        text = "https://" + text
    if override_url and _same_origin(text, override_url):
        return origin_domain(override_url)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidStoreUrl("that is not a valid web address") from None
    if parts.scheme.lower() != "https":
        raise InvalidStoreUrl("the store must be served over https")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidStoreUrl("enter only the store's address, without anything after it")
    if parts.path not in ("", "/"):
        raise InvalidStoreUrl("enter the store's root address, without a path")
    if port not in (None, 443):
        raise InvalidStoreUrl("the store must use the standard https port")
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidStoreUrl("that is not a valid host name") from None
    if _is_ip_address(host):
        raise InvalidStoreUrl("enter the store's domain name, not an IP address")
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidStoreUrl("that is not a valid public domain name")
    if labels[-1] in {"localhost", "local", "internal", "test", "invalid"}:
        raise InvalidStoreUrl("that domain is not reachable from the internet")
    return host


def store_base_url(domain: str, override_url: str | None) -> str:
    """Where the store's site (and its /wp-json API) lives."""
    if override_url and origin_domain(override_url) == domain:
        return override_url.rstrip("/")
    return f"https://{domain}"


def _same_origin(a: str, b: str) -> bool:
    try:
        same_scheme = urlsplit(a).scheme.lower() == urlsplit(b).scheme.lower()
    except ValueError:
        return False
    return same_scheme and origin_domain(a) == origin_domain(b) != ""


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
