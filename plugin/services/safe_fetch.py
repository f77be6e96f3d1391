"""Fetching a URL someone else gave us, without letting them aim us at our own network (SSRF).

- only https (plain http only for loopback, and loopback only when the app was built with the
  test setting `allow_loopback_fetch`);
- every address the host resolves to must be public (no private, loopback, link-local, CGNAT,
  multicast or reserved ranges), checked before connecting;
- redirects are followed by hand (at most MAX_REDIRECTS), each hop checked the same way;
- connect and read timeouts, and a body cap: a larger answer is cut off and refused.

What remains: a host whose DNS answer changes between our check and the connection (rebinding)
could still reach a private address; workers should also run behind an egress firewall.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (3.05, 6)  # connect, read (seconds)
USER_AGENT = "TastemakerPostCheck/1.0 (+https://github.com/tastemaker)"


class FetchBlocked(Exception):
    """The URL points somewhere we refuse to go (terminal)."""


class FetchFailed(Exception):
    """A transient failure: timeout, connection error, oversized or unreadable answer."""


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes
    url: str


def check_url(url: str, *, allow_loopback: bool = False) -> None:
    """Raise FetchBlocked unless every address of the URL's host is one we may connect to."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise FetchBlocked(f"not a fetchable URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchBlocked(f"bad port in {url!r}") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}") from exc
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    for address in addresses:
        if address.is_loopback and allow_loopback:
            continue
        if not address.is_global or address.is_multicast:
            raise FetchBlocked(f"{host} resolves to a non-public address ({address})")
    if parts.scheme == "https":
        return
    loopback_only = all(address.is_loopback for address in addresses)
    if not (parts.scheme == "http" and allow_loopback and loopback_only):
        raise FetchBlocked(f"only https URLs are fetched, not {parts.scheme!r}")


def fetch(
    url: str,
    *,
    allow_loopback: bool = False,
    max_bytes: int = MAX_BYTES,
    session: requests.Session | None = None,
) -> Fetched:
    http = session or requests.Session()
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(current, allow_loopback=allow_loopback)
        try:
            response = http.get(
                current,
                timeout=TIMEOUT,
                allow_redirects=False,
                stream=True,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json, text/html"},
            )
        except requests.RequestException as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
        with response:
            if response.is_redirect:
                location = response.headers.get("Location", "")
                current = urljoin(current, location)
                continue
            body = _read_capped(response, max_bytes)
            return Fetched(
                response.status_code, response.headers.get("Content-Type", ""), body, current
            )
    raise FetchBlocked(f"more than {MAX_REDIRECTS} redirects from {url!r}")


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchBlocked(f"answer of {declared} bytes is over the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_content(chunk_size=16 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise FetchBlocked(f"answer is over the {max_bytes}-byte limit")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
    return b"".join(chunks)
