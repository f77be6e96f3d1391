"""The storefront eligibility rule, rights transitions and URL checks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugin.domain.ugc_rules import (
    GrantView,
    can_transition,
    grant_expiry,
    host_allowed,
    is_servable,
    next_change,
    safe_link_url,
    safe_media_url,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ON_SITE = frozenset({"on_site"})


def grant(status: str = "granted", scopes: frozenset[str] = ON_SITE, **kw: datetime) -> GrantView:
    return GrantView(status, scopes, kw.get("starts_at"), kw.get("expires_at"))


def test_an_approved_post_with_an_active_on_site_grant_is_served() -> None:
    assert is_servable("approved", [grant(starts_at=NOW - DAY, expires_at=NOW + DAY)], NOW)


@pytest.mark.parametrize("moderation", ["pending", "rejected", "hidden"])
def test_a_post_not_approved_is_never_served(moderation: str) -> None:
    assert not is_servable(moderation, [grant()], NOW)


@pytest.mark.parametrize(
    "rights",
    [
        [],
        [grant("requested")],
        [grant("declined")],
        [grant("revoked")],
        [grant("expired")],
        [grant(scopes=frozenset({"email", "ads"}))],
        [grant(expires_at=NOW)],
        [grant(expires_at=NOW - DAY)],
        [grant(starts_at=NOW + DAY)],
    ],
    ids=[
        "none",
        "requested",
        "declined",
        "revoked",
        "expired",
        "email+ads only",
        "expires now",
        "expired yesterday",
        "starts tomorrow",
    ],
)
def test_an_approved_post_without_an_active_on_site_grant_is_never_served(
    rights: list[GrantView],
) -> None:
    assert not is_servable("approved", rights, NOW)


def test_one_active_grant_among_closed_ones_is_enough() -> None:
    assert is_servable("approved", [grant("revoked"), grant(expires_at=None)], NOW)


def test_next_change_is_the_earliest_future_start_or_end_of_an_on_site_grant() -> None:
    grants = [
        grant(expires_at=NOW + 3 * DAY),
        grant(starts_at=NOW + 2 * DAY),
        grant("revoked", expires_at=NOW + DAY),
        grant(scopes=frozenset({"email"}), expires_at=NOW + DAY),
        grant(expires_at=NOW - DAY),
    ]
    assert next_change(grants, NOW) == NOW + 2 * DAY
    assert next_change([grant()], NOW) is None


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("requested", "granted", True),
        ("requested", "declined", True),
        ("granted", "revoked", True),
        ("granted", "expired", True),
        ("requested", "revoked", False),
        ("declined", "granted", False),
        ("revoked", "granted", False),
        ("expired", "granted", False),
        ("granted", "granted", False),
    ],
)
def test_rights_transitions(current: str, target: str, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_grant_expiry_is_consent_plus_duration() -> None:
    assert grant_expiry(NOW, 30) == NOW + 30 * DAY
    assert grant_expiry(NOW, None) is None


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("cdn.shopify.com", True),
        ("scontent.cdninstagram.com", True),
        ("cdninstagram.com", False),
        ("evilcdninstagram.com", False),
        ("cdn.shopify.com.evil.example", False),
        ("CDN.SHOPIFY.COM.", True),
    ],
)
def test_host_allowlist(host: str, allowed: bool) -> None:
    assert host_allowed(host, ["cdn.shopify.com", ".cdninstagram.com"]) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.shopify.com/a.jpg",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "https://evil.example/a.jpg",
        "https://user:pw@cdn.shopify.com/a.jpg",
        "https://cdn.shopify.com/a b.jpg",
        "https://cdn.shopify.com:99999/a.jpg",
        "//cdn.shopify.com/a.jpg",
        "",
    ],
)
def test_unsafe_media_urls_are_refused(url: str) -> None:
    assert safe_media_url(url, ["cdn.shopify.com"]) is None


def test_a_media_url_on_an_allowed_host_is_kept() -> None:
    url = "https://cdn.shopify.com/s/files/a.jpg?v=1"
    assert safe_media_url(url, ["cdn.shopify.com"]) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/products/x", "https://shop.example/products/x"),
        ("/products/x?variant=1", "/products/x?variant=1"),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("http://shop.example/x", None),
        ("vbscript:x", None),
    ],
)
def test_links_are_https_or_local_paths(url: str, expected: str | None) -> None:
    assert safe_link_url(url) == expected
