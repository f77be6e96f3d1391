"""What may be shown on a storefront, and how rights and moderation states may change.

The eligibility rule: a post is served only when moderation approved it AND it holds a granted,
started, unexpired rights grant whose scope includes on-site display. Everything else (pending,
rejected, hidden, requested, declined, revoked, expired, email- or ads-only) is never served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

MODERATION_ACTIONS: dict[str, str] = {"approve": "approved", "reject": "rejected", "hide": "hidden"}
RIGHTS_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"granted", "declined"}),
    "granted": frozenset({"revoked", "expired"}),
    "declined": frozenset(),
    "revoked": frozenset(),
    "expired": frozenset(),
}
SCOPES = ("on_site", "email", "ads")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class GrantView:
    status: str
    scopes: frozenset[str]
    starts_at: datetime | None = None
    expires_at: datetime | None = None


def can_transition(current: str, target: str) -> bool:
    return target in RIGHTS_TRANSITIONS.get(current, frozenset())


def grant_expiry(consented_at: datetime, duration_days: int | None) -> datetime | None:
    return None if duration_days is None else consented_at + timedelta(days=duration_days)


def grant_is_active(grant: GrantView, scope: str, now: datetime) -> bool:
    if grant.status != "granted" or scope not in grant.scopes:
        return False
    if grant.starts_at is not None and grant.starts_at > now:
        return False
    return grant.expires_at is None or grant.expires_at > now


def is_servable(moderation_status: str, grants: Iterable[GrantView], now: datetime) -> bool:
    """The one storefront rule; the SQL in plugin.services.ugc_feed mirrors it exactly."""
    if moderation_status != "approved":
        return False
    return any(grant_is_active(grant, "on_site", now) for grant in grants)


def next_change(grants: Iterable[GrantView], now: datetime) -> datetime | None:
    """The earliest future moment an on-site grant starts or ends: a cache must not outlive it."""
    moments = [
        moment
        for grant in grants
        if grant.status == "granted" and "on_site" in grant.scopes
        for moment in (grant.starts_at, grant.expires_at)
        if moment is not None and moment > now
    ]
    return min(moments, default=None)


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """Exact host match, or a subdomain of an entry written with a leading dot ('.fbcdn.net')."""
    host = host.lower().rstrip(".")
    for entry in allowed_hosts:
        entry = entry.lower().strip()
        if entry.startswith("."):
            if host.endswith(entry) and len(host) > len(entry):
                return True
        elif host == entry:
            return True
    return False


def safe_media_url(url: str, allowed_hosts: Iterable[str]) -> str | None:
    """The URL if it is https, on an allowed host and without credentials; otherwise None."""
    parts = _split(url)
    if parts is None or parts.scheme != "https" or not parts.hostname:
        return None
    if not host_allowed(parts.hostname, allowed_hosts):
        return None
    return parts.geturl()


def safe_link_url(url: str) -> str | None:
    """A post or product link: https anywhere, or a path on the store's own domain."""
    if url.startswith("/") and not url.startswith("//"):
        return url if _UNSAFE_CHARS.search(url) is None else None
    parts = _split(url)
    if parts is None or parts.scheme != "https" or not parts.hostname:
        return None
    return parts.geturl()


def _split(url: str) -> SplitResult | None:
    if not url or len(url) > 2048 or _UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if "@" in parts.netloc:
        return None
    return parts
