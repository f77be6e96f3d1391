"""What an embedded (Shopify admin) page needs: App Bridge in its head, and a per-request CSP.

`frame-ancestors` names exactly one shop's admin: the signed-in shop's myshopify domain and the
Shopify admin origin, or, before the session token is checked, the shop the admin says it is
loading (the page then shows nothing but "loading"). Anything else may not frame us at all, so
one shop can never frame another shop's pages. `script-src` allows App Bridge's origin only on
embedded pages; standalone pages load our own scripts only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request

from connectors.shopify.urls import valid_shop_domain
from plugin.extensions import connectors
from plugin.web import admin_auth

SHOPIFY = "shopify"


def _settings() -> Any:
    return current_app.config["TASTEMAKER"]


def framing_shop_domain() -> str | None:
    """The Shopify shop whose admin may frame this response, if any."""
    shop = admin_auth.resolved_shop()
    if shop is not None:
        return str(shop.domain) if shop.platform == SHOPIFY else None
    if admin_auth.embedded_request():
        return valid_shop_domain(request.args.get("shop", ""))
    return None


def embedded_page() -> bool:
    """App Bridge belongs on this page: a token-authenticated or embedded Shopify request."""
    return bool(admin_auth.embedded_request()) and _app_bridge_configured()


def _app_bridge_configured() -> bool:
    return bool(shopify_api_key())


def shopify_api_key() -> str:
    """The client id App Bridge identifies the app by (the connector's, which the demo sets)."""
    registry = connectors()
    if SHOPIFY not in registry.platforms():
        return ""
    return str(getattr(registry.get(SHOPIFY), "api_key", "") or "")


def app_bridge_url() -> str:
    return str(_settings().shopify_app_bridge_url)


def content_security_policy(images: str = "'self' data:") -> str:
    """This request's policy; `images` widens img-src for pages that show creators' posts."""
    scripts = ["'self'"]
    connect = ["'self'"]
    if embedded_page():
        bridge = _origin(app_bridge_url())
        scripts.append(bridge)
        connect.append(bridge)
    domain = framing_shop_domain()
    if domain is not None:
        ancestors = f"https://{domain} {_origin(_settings().shopify_admin_origin)}"
    else:
        ancestors = "'none'"
    return (
        f"default-src 'none'; style-src 'self'; img-src {images}; "
        f"script-src {' '.join(scripts)}; connect-src {' '.join(connect)}; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def template_context() -> dict[str, Any]:
    # Emails are rendered by jobs, outside any request: no request, no embedding.
    if not has_request_context() or not embedded_page():
        return {"embedded": False}
    return {
        "embedded": True,
        "shopify_api_key": shopify_api_key(),
        "app_bridge_url": app_bridge_url(),
    }


def init_app(app: Flask) -> None:
    app.context_processor(template_context)
