"""The Shopify admin's session tokens: who an embedded request is, and installing by exchange.

`embedded_admin_shop` is `admin_auth`'s token resolver (the merchant pages inside the Shopify
admin) and backs the admin API's session-token authenticator. A shop that has no usable offline
token gets one by token exchange; on the admin's document load a shop we do not know yet
(Shopify-managed installation) or that came back after uninstalling is installed that way, so no
OAuth redirect ever runs inside the iframe.
"""

from __future__ import annotations

import logging

from flask import Request
from sqlalchemy import update

from connectors.base import ConnectorError
from connectors.shopify import ShopifyConnector
from connectors.shopify.session_tokens import InvalidSessionToken
from plugin import background
from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.models import Shop
from plugin.services.shops import create_or_reinstall_shop, find_shop
from plugin.web import admin_auth
from plugin.web.auth import register_authenticator

logger = logging.getLogger(__name__)

PLATFORM = "shopify"


@register_authenticator
def session_token_authenticator(req: Request) -> int | None:
    """`Authorization: Bearer <App Bridge session token>` on the JSON API -> its shop."""
    found = admin_auth.request_token(req)
    if found is None or found[1]:
        return None  # an API key, not a JWT, or a token in a URL: not for the API
    shop = embedded_admin_shop(found[0], may_install=False)
    return shop.id if shop is not None else None


@admin_auth.register_token_resolver
def embedded_admin_shop(token: str, may_install: bool) -> Shop | None:
    """The installed shop a valid session token names; its offline token renewed by token
    exchange when missing or refused. On the admin's document load (`may_install`), a shop we
    do not know yet (Shopify-managed installation) or that uninstalled and came back is
    installed by token exchange: Shopify only exchanges tokens of shops the app is installed on.
    Any other request for an unknown or uninstalled shop is refused."""
    app_connector = connector()
    if app_connector is None:
        return None
    try:
        claims = app_connector.decode_session_token(token)
    except InvalidSessionToken as exc:
        logger.info("session token refused: %s", exc.reason)
        return None
    session = get_session()
    shop = find_shop(session, PLATFORM, claims.shop)
    if shop is not None and shop.status != "uninstalled":
        stored = credentials().open(shop.credentials_encrypted)
        if shop.status == "needs_reconnect" or not app_connector.credentials_usable(stored):
            _exchange_for_offline_token(app_connector, shop, token)
        return shop
    if not may_install:
        return None
    return _install_by_token_exchange(app_connector, claims.shop, token)


def _install_by_token_exchange(connector: ShopifyConnector, domain: str, token: str) -> Shop | None:
    try:
        tokens = connector.exchange_session_token(domain, token)
        details = connector.shop_details(domain, tokens.access_token)
    except ConnectorError as exc:
        logger.warning("embedded install of %s by token exchange failed: %s", domain, exc)
        get_session().rollback()
        return None
    session = get_session()
    installed = create_or_reinstall_shop(
        session,
        credentials(),
        platform=PLATFORM,
        domain=domain,
        credentials=tokens.as_credentials(),
        currency=details.currency,
        name=details.name,
        timezone=details.timezone,
    )
    background.after_commit(session, background.REGISTER_SHOPIFY_WEBHOOKS, installed.id)
    background.after_commit(session, background.PUBLISH_SHOPIFY_APP_DATA, installed.id)
    session.commit()
    logger.info("shopify shop %s installed by token exchange as shop %s", domain, installed.id)
    return installed


def _exchange_for_offline_token(connector: ShopifyConnector, shop: Shop, token: str) -> None:
    try:
        tokens = connector.exchange_session_token(shop.domain, token)
    except ConnectorError as exc:
        logger.warning("token exchange for shop %s failed: %s", shop.id, exc)
        return
    session = get_session()
    session.execute(
        update(Shop)
        .where(Shop.id == shop.id, Shop.status != "uninstalled")
        .values(credentials_encrypted=credentials().seal(tokens.as_credentials()), status="active")
    )
    session.commit()
    logger.info("shop %s: offline token obtained by token exchange", shop.id)


def connector() -> ShopifyConnector | None:
    """The app's Shopify connector, when an API key and a secret are configured."""
    found = connectors().get(PLATFORM)
    if not isinstance(found, ShopifyConnector) or not found.api_key:
        return None
    return found if found.secrets else None
