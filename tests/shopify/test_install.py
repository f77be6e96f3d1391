"""The install flow through the real routes, with the simulator playing Shopify."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.shopify.oauth import calculate_query_hmac, parse_iso
from connectors.shopify.simulator import ShopifySimulator
from plugin.models import OAuthState, Shop
from plugin.services.shops import find_shop, mark_uninstalled
from tests.shopify.conftest import API_KEY, API_SECRET, PUBLIC_URL, SHOP, stored_credentials

HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvanNtaXRo"  # admin.shopify.com/store/jsmith
# The app inside jsmith's Shopify admin (what Shopify's libraries build from HOST).
EMBEDDED_APP_URL = f"https://admin.shopify.com/store/jsmith/apps/{API_KEY}"


def signed(params: dict[str, str], secret: str = API_SECRET) -> str:
    return urlencode({**params, "hmac": calculate_query_hmac(params, secret)})


def install_query(shop: str = SHOP, **extra: str) -> str:
    return signed({"host": HOST, "shop": shop, "timestamp": str(int(time.time())), **extra})


def follow_to_callback(client: FlaskClient, query: str) -> str:
    """GET /shopify/install, let the simulator approve, return the callback path + query."""
    started = client.get(f"/shopify/install?{query}")
    assert started.status_code == 302, started.get_json()
    approved = requests.get(started.headers["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    location = urlsplit(approved.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == PUBLIC_URL
    return f"{location.path}?{location.query}"


def test_install_redirects_to_authorize_with_the_manifest_scopes(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # when
    response = client.get(f"/shopify/install?{install_query()}")
    # then
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{simulator.url}/{SHOP}/admin/oauth/authorize"
    )
    query = parse_qs(target.query)
    assert query["client_id"] == [API_KEY]
    assert query["scope"] == [
        "read_orders,read_products,read_customers,read_discounts,write_discounts,"
        "write_store_credit_account_transactions"
    ]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/shopify/callback"]
    state = session.scalars(select(OAuthState)).one()
    assert query["state"] == [state.nonce]
    assert (state.platform, state.domain, state.used_at) == ("shopify", SHOP, None)
    cookie = client.get_cookie("shopify_app_state", path="/shopify")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert simulator.calls == []  # nothing outbound before the merchant approves


def test_the_whole_install_stores_an_expiring_token_and_lands_in_the_shopify_admin(
    app: Flask,
    client: FlaskClient,
    session: Session,
    simulator: ShopifySimulator,
    run_jobs: object,
) -> None:
    # when the merchant installs and Shopify approves
    callback = follow_to_callback(client, install_query())
    response = client.get(callback)
    # then
    assert response.status_code == 302
    assert response.headers["Location"] == EMBEDDED_APP_URL
    shop = find_shop(session, "shopify", SHOP)
    assert shop is not None
    assert (shop.status, shop.currency, shop.name, shop.timezone) == (
        "active",
        "USD",
        "Jsmith",
        "America/New_York",
    )
    assert b"shpat_" not in (shop.credentials_encrypted or b"")  # encrypted at rest
    stored = stored_credentials(app, session, shop.id)
    assert stored["access_token"].startswith("shpat_")
    assert stored["refresh_token"].startswith("shprt_")
    assert parse_iso(stored["expires_at"]) is not None
    assert parse_iso(stored["refresh_token_expires_at"]) is not None
    assert [c.kind for c in simulator.calls] == ["authorize", "token:code", "graphql:shop"]
    public_key = shop.public_key
    # and the install jobs subscribe the webhooks and publish the theme's app data
    run_jobs()  # type: ignore[operator]
    # (app/uninstalled comes from shopify.app.toml, so it is not subscribed a second time)
    assert sorted(hook["topic"] for hook in simulator.shop(SHOP).webhooks) == [
        "ORDERS_CANCELLED",
        "ORDERS_CREATE",
        "ORDERS_PAID",
        "ORDERS_UPDATED",
        "REFUNDS_CREATE",
    ]
    assert {hook["url"] for hook in simulator.shop(SHOP).webhooks} == {
        f"{PUBLIC_URL}/webhooks/shopify"
    }
    assert simulator.shop(SHOP).app_metafields == {
        "tastemaker.public_key": public_key,
        "tastemaker.api_url": PUBLIC_URL,
    }


@pytest.mark.parametrize(
    "shop", ["evil.com", "x.myshopify.com.evil.com", "jsmith.myshopify.com@evil.com", ""]
)
def test_foreign_shop_domains_are_refused_before_any_call(
    client: FlaskClient, session: Session, simulator: ShopifySimulator, shop: str
) -> None:
    response = client.get(f"/shopify/install?{install_query(shop)}")
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_shop"})
    assert simulator.calls == []
    assert session.scalars(select(OAuthState)).all() == []


def test_a_bad_hmac_is_refused(client: FlaskClient, session: Session) -> None:
    query = signed({"shop": SHOP, "timestamp": str(int(time.time()))}, "not-our-secret")
    response = client.get(f"/shopify/install?{query}")
    assert (response.status_code, response.get_json()) == (401, {"error": "invalid_hmac"})
    assert session.scalars(select(OAuthState)).all() == []


def test_a_parameter_added_after_signing_breaks_the_hmac(client: FlaskClient) -> None:
    response = client.get(f"/shopify/install?{install_query()}&extra=1")
    assert response.status_code == 401


def test_an_old_request_is_refused(client: FlaskClient) -> None:
    query = signed({"shop": SHOP, "timestamp": str(int(time.time()) - 600)})
    response = client.get(f"/shopify/install?{query}")
    assert (response.status_code, response.get_json()) == (400, {"error": "stale_request"})


def test_a_callback_with_a_forged_state_is_refused(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given a real approval, whose state is swapped for another (validly signed by "Shopify")
    callback = follow_to_callback(client, install_query())
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items() if k != "hmac"}
    params["state"] = "f" * 64
    # when
    response = client.get(f"/shopify/callback?{signed(params)}")
    # then
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_state"})
    assert find_shop(session, "shopify", SHOP) is None
    assert simulator.calls_of("token:code") == []


def test_a_callback_in_another_browser_is_refused(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given the install started in one browser, the callback arrives in another (no cookie)
    callback = follow_to_callback(client, install_query())
    # when
    response = app.test_client().get(callback)
    # then
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_state"})
    assert simulator.calls_of("token:code") == []


def test_a_callback_is_used_once(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    callback = follow_to_callback(client, install_query())
    client.set_cookie(
        "shopify_app_state",
        client.get_cookie("shopify_app_state", path="/shopify").value,  # type: ignore[union-attr]
        path="/shopify",
    )
    assert client.get(callback).status_code == 302
    # when the same callback is replayed (cookie put back)
    replay = client.get(callback)
    # then
    assert (replay.status_code, replay.get_json()) == (400, {"error": "invalid_state"})
    assert len(simulator.calls_of("token:code")) == 1


def test_a_callback_for_another_shop_than_the_state_is_refused(
    client: FlaskClient, simulator: ShopifySimulator
) -> None:
    callback = follow_to_callback(client, install_query())
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items() if k != "hmac"}
    params["shop"] = "other-shop.myshopify.com"
    response = client.get(f"/shopify/callback?{signed(params)}")
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_state"})


def test_a_refused_code_does_not_install(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    callback = follow_to_callback(client, install_query())
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items() if k != "hmac"}
    params["code"] = "0" * 32
    response = client.get(f"/shopify/callback?{signed(params)}")
    assert (response.status_code, response.get_json()) == (400, {"error": "install_failed"})
    assert find_shop(session, "shopify", SHOP) is None


def test_an_installed_shop_opening_the_app_goes_straight_to_the_shopify_admin(
    client: FlaskClient, simulator: ShopifySimulator
) -> None:
    client.get(follow_to_callback(client, install_query()))
    # when Shopify loads the app again
    response = client.get(f"/shopify/install?{install_query()}")
    # then
    assert response.headers["Location"] == EMBEDDED_APP_URL
    assert len(simulator.calls_of("authorize")) == 1


def test_reinstall_after_uninstall_runs_oauth_again(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given an installed shop that was uninstalled
    client.get(follow_to_callback(client, install_query()))
    shop = find_shop(session, "shopify", SHOP)
    assert shop is not None
    first_token = stored_credentials(app, session, shop.id)["access_token"]
    mark_uninstalled(session, shop)
    session.commit()
    # when the merchant installs again
    reinstall = client.get(f"/shopify/install?{install_query()}")
    assert urlsplit(reinstall.headers["Location"]).path == f"/{SHOP}/admin/oauth/authorize"
    client.get(follow_to_callback(client, install_query()))
    # then the same shop row is active with a new token
    session.expire_all()
    again = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
    assert again.id == shop.id
    assert (again.status, again.uninstalled_at) == ("active", None)
    assert stored_credentials(app, session, shop.id)["access_token"] != first_token
    assert len(simulator.calls_of("token:code")) == 2


def test_an_unconfigured_app_refuses_installs(app: Flask, client: FlaskClient) -> None:
    from dataclasses import replace

    from plugin.extensions import connectors

    connector = connectors(app).get("shopify")
    connector.configure(replace(connector.config, shopify_api_secret=None))  # type: ignore[attr-defined]
    response = client.get(f"/shopify/install?{install_query()}")
    assert (response.status_code, response.get_json()) == (503, {"error": "shopify_not_configured"})


def test_the_installing_browser_is_signed_in_to_the_admin(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given a browser that has not signed in: the admin asks for a key
    assert b"sign-in" in client.get("/admin").data.lower().replace(b" ", b"-")
    # when it completes the install (and is sent on into the Shopify admin)
    client.get(follow_to_callback(client, install_query()))
    # then, opened outside Shopify too, the admin is this shop's dashboard
    page = client.get("/admin")
    assert page.status_code == 200
    assert "<title>Dashboard · Jsmith · Tastemaker</title>".encode() in page.data


def test_a_completed_install_leaves_no_nonce_behind(
    client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    client.get(f"/shopify/install?{install_query()}")  # an abandoned attempt
    client.get(follow_to_callback(client, install_query()))
    session.expire_all()
    assert session.scalars(select(OAuthState)).all() == []
