"""WooCommerce merchants reach the admin signed in: after connecting, and from wp-admin through
the companion plugin's short-lived, single-use signed login link."""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.woocommerce.simulator import SimulatedStore, authorize
from plugin.extensions import credentials
from plugin.models import Shop
from plugin.web.wordpress_login import link_signature
from tests.woocommerce.conftest import PUBLIC_URL
from tests.woocommerce.test_connect_flow import only_shop

HTTPS = {"base_url": PUBLIC_URL}


def connect_store(client: FlaskClient, store: SimulatedStore) -> tuple[int, str]:
    """Connect from this browser (over https, as in production): WooCommerce approves."""
    response = client.post("/woocommerce/connect", data={"store_url": store.url}, **HTTPS)  # type: ignore[arg-type]
    assert response.status_code == 302
    return authorize(store, dict(parse_qsl(urlsplit(response.headers["Location"]).query)))


def signed_in_as(client: FlaskClient) -> str | None:
    """The shop name the dashboard greets, or None when it asks to sign in."""
    page = client.get("/admin", **HTTPS).get_data(as_text=True)  # type: ignore[arg-type]
    if "Sign in to your shop" in page:
        return None
    assert "Creator program" in page
    return page


def login_link(shop: Shop, *, secret: str, expires_in: int = 30, nonce: str | None = None) -> str:
    expires = int(time.time()) + expires_in
    nonce = nonce or secrets.token_hex(16)
    query = {
        "shop": shop.public_key,
        "expires": str(expires),
        "nonce": nonce,
        "signature": link_signature(secret, shop.public_key, expires, nonce),
    }
    return f"/woocommerce/login?{urlencode(query)}"


def login_secret(shop: Shop) -> str:
    return str(credentials().open(shop.credentials_encrypted)["login_secret"])


def test_the_return_page_signs_the_connecting_browser_in_without_a_key(
    client: FlaskClient, session: Session, wire: SimulatedStore
) -> None:
    # given a store connected from this browser
    _, location = connect_store(client, wire)
    # when WooCommerce sends the merchant back
    page = client.get(location.removeprefix(PUBLIC_URL), **HTTPS)  # type: ignore[arg-type]
    # then they are in the admin, signed in, with the plugin's settings and no API key
    text = page.get_data(as_text=True)
    shop = only_shop(session)
    assert page.status_code == 200
    assert "Store connected" in text
    assert 'aria-label="Tastemaker"' in text  # the admin's navigation
    assert shop.public_key in text
    assert login_secret(shop) in text
    assert "tmk_" not in text
    assert signed_in_as(client) is not None


def test_a_return_url_opened_in_another_browser_signs_nobody_in(
    client: FlaskClient, session: Session, wire: SimulatedStore
) -> None:
    # given a store connected from the merchant's browser
    _, location = connect_store(client, wire)
    # when another browser (no connect cookie) opens the return URL
    client.delete_cookie("tm_wc_connect", domain="tastemaker.test", path="/woocommerce")
    text = client.get(location.removeprefix(PUBLIC_URL), **HTTPS).get_data(as_text=True)  # type: ignore[arg-type]
    # then it learns nothing and is not signed in
    assert "did not start the connection" in text
    assert login_secret(only_shop(session)) not in text
    assert signed_in_as(client) is None


@pytest.fixture
def connected(client: FlaskClient, session: Session, wire: SimulatedStore) -> Shop:
    connect_store(client, wire)
    client.delete_cookie("tm_wc_connect", domain="tastemaker.test", path="/woocommerce")
    return only_shop(session)


def test_the_wp_admin_link_signs_in_once(client: FlaskClient, connected: Shop) -> None:
    # given a link the plugin just made
    link = login_link(connected, secret=login_secret(connected))
    # when the merchant follows it
    response = client.get(link, **HTTPS)  # type: ignore[arg-type]
    # then they land on the dashboard, signed in to their shop
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"
    assert signed_in_as(client) is not None
    # and the same link a second time (from history, a log, a proxy) signs nobody in
    other = client.application.test_client()
    replay = other.get(link, **HTTPS)  # type: ignore[arg-type]
    assert replay.status_code == 403
    assert signed_in_as(other) is None


@pytest.mark.parametrize(
    "broken",
    ["expired", "too_long", "tampered_shop", "wrong_secret", "bad_signature", "no_nonce"],
)
def test_bad_wp_admin_links_sign_nobody_in(
    client: FlaskClient, session: Session, connected: Shop, broken: str
) -> None:
    # given another connected shop, whose link must not open this one
    other = Shop(
        platform="woocommerce",
        domain="other.example",
        name="Other",
        currency="EUR",
        public_key="pk_other_0123456789",
        credentials_encrypted=credentials().seal({"login_secret": "other-secret-0123456789"}),
    )
    session.add(other)
    session.commit()
    secret = login_secret(connected)
    link = {
        "expired": login_link(connected, secret=secret, expires_in=-1),
        "too_long": login_link(connected, secret=secret, expires_in=600),
        "tampered_shop": login_link(connected, secret=secret).replace(
            connected.public_key, other.public_key
        ),
        "wrong_secret": login_link(other, secret="not-the-shops-secret"),
        "bad_signature": login_link(connected, secret=secret)[:-4] + "0000",
        "no_nonce": login_link(connected, secret=secret, nonce="x"),
    }[broken]
    # when
    response = client.get(link, **HTTPS)  # type: ignore[arg-type]
    # then
    assert response.status_code == 403
    assert "cannot be used" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_link_for_a_disconnected_shop_is_refused(
    client: FlaskClient, session: Session, connected: Shop
) -> None:
    link = login_link(connected, secret=login_secret(connected))
    connected.status = "uninstalled"
    session.commit()
    assert client.get(link, **HTTPS).status_code == 403  # type: ignore[arg-type]
    assert signed_in_as(client) is None


def test_reconnecting_keeps_the_login_secret(
    client: FlaskClient, session: Session, wire: SimulatedStore, connected: Shop
) -> None:
    secret = login_secret(connected)
    connect_store(client, wire)
    session.expire_all()
    shop = session.scalars(select(Shop)).one()
    assert login_secret(shop) == secret


def test_the_keys_page_shows_a_woocommerce_shop_its_plugin_settings(
    client: FlaskClient, session: Session, wire: SimulatedStore
) -> None:
    _, location = connect_store(client, wire)
    client.get(location.removeprefix(PUBLIC_URL), **HTTPS)  # type: ignore[arg-type]
    page = client.get("/admin/keys", **HTTPS).get_data(as_text=True)  # type: ignore[arg-type]
    shop = only_shop(session)
    assert "WordPress plugin settings" in page
    assert login_secret(shop) in page
    assert shop.public_key in page
