"""Shop domains and the URLs the connector calls, with the local-simulator override.

A shop domain is accepted only in its canonical `name.myshopify.com` form, checked with the
ShopifyAPI package's own sanitizer, before anything is built from it: the domain ends up in
outbound URLs, so a lax check would let a caller point our credentials at any host (SSRF).
"""

from __future__ import annotations

from urllib.parse import quote

from shopify.utils.shop_url import sanitize_shop_domain


def valid_shop_domain(value: object) -> str | None:
    """The canonical shop domain, or None unless `value` is exactly `name.myshopify.com`."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().lower()
    sanitized = sanitize_shop_domain(candidate)
    # The sanitizer also accepts a bare "name" or "https://name.myshopify.com/"; an install
    # request names the shop exactly, so anything it had to rewrite is refused.
    if not sanitized or sanitized != candidate:
        return None
    return str(sanitized)


class ShopifyUrls:
    """Where a shop's admin lives: `https://{shop}` or, for the simulator, `{base}/{shop}`."""

    def __init__(self, api_version: str, base_url_override: str | None = None) -> None:
        self.api_version = api_version
        self.base_url_override = base_url_override.rstrip("/") if base_url_override else None

    def shop_base(self, shop: str) -> str:
        domain = valid_shop_domain(shop)
        if domain is None:
            raise ValueError(f"not a shop domain: {shop!r}")
        if self.base_url_override:
            # One simulator serves many shops: the domain travels as the first path segment.
            return f"{self.base_url_override}/{domain}"
        return f"https://{domain}"

    def authorize(self, shop: str) -> str:
        return f"{self.shop_base(shop)}/admin/oauth/authorize"

    def access_token(self, shop: str) -> str:
        return f"{self.shop_base(shop)}/admin/oauth/access_token"

    def graphql(self, shop: str) -> str:
        return f"{self.shop_base(shop)}/admin/api/{quote(self.api_version)}/graphql.json"
