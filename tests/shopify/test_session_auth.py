"""App Bridge session tokens on the admin API (the privacy-export routes require a shop)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from plugin.models import Shop
from plugin.services.shops import issue_api_key, mark_needs_reconnect, mark_uninstalled
from tests.shopify.conftest import SHOP, install_shop, stored_credentials

# The test client secret is 26 bytes; PyJWT warns below 32 (Shopify's real secrets are longer).
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ROUTE = "/shopify/privacy-exports"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_session_token_authenticates_its_shop(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    install_shop(app, session, simulator)
    response = client.get(ROUTE, headers=bearer(simulator.session_token(SHOP)))
    assert (response.status_code, response.get_json()) == (200, {"exports": []})
    assert simulator.calls == []  # a shop with a good offline token needs no exchange


def alg_none(token: str) -> str:
    _header, body, _signature = token.split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{none.decode().rstrip('=')}.{body}."


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda sim: alg_none(sim.session_token(SHOP)), id="alg-none"),
        pytest.param(lambda sim: sim.session_token(SHOP, now=time.time() - 120), id="expired"),
        pytest.param(lambda sim: sim.session_token(SHOP, aud="another-app"), id="wrong-audience"),
        pytest.param(
            lambda sim: sim.session_token(SHOP, secret="another-apps-secret-000000"),
            id="wrong-secret",
        ),
        pytest.param(lambda sim: sim.session_token("unknown.myshopify.com"), id="unknown-shop"),
    ],
)
def test_bad_session_tokens_get_401(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, make: object
) -> None:
    install_shop(app, session, simulator)
    response = client.get(ROUTE, headers=bearer(make(simulator)))  # type: ignore[operator]
    assert response.status_code == 401
    assert simulator.calls_of("token:token_exchange") == []


def test_an_uninstalled_shop_is_not_let_back_in_by_a_token(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    shop = install_shop(app, session, simulator)
    mark_uninstalled(session, shop)
    session.commit()
    response = client.get(ROUTE, headers=bearer(simulator.session_token(SHOP)))
    assert response.status_code == 401
    assert simulator.calls_of("token:token_exchange") == []


def test_a_shop_without_a_usable_offline_token_gets_one_by_token_exchange(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given an installed shop whose refresh token Shopify refused
    shop = install_shop(app, session, simulator)
    before = stored_credentials(app, session, shop.id)["access_token"]
    mark_needs_reconnect(session, shop.id)
    session.commit()
    # when the embedded admin calls with a session token
    response = client.get(ROUTE, headers=bearer(simulator.session_token(SHOP)))
    # then the session token was exchanged for a new offline token
    assert response.status_code == 200
    assert len(simulator.calls_of("token:token_exchange", SHOP)) == 1
    session.expire_all()
    assert session.get(Shop, shop.id).status == "active"  # type: ignore[union-attr]
    after = stored_credentials(app, session, shop.id)
    assert after["access_token"] != before
    assert after["refresh_token"].startswith("shprt_")


def test_api_keys_still_authenticate(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    shop = install_shop(app, session, simulator)
    _key, clear = issue_api_key(session, shop.id)
    session.commit()
    assert client.get(ROUTE, headers=bearer(clear)).status_code == 200


def test_a_shop_whose_refresh_token_lapsed_gets_a_new_token_by_exchange(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given stored credentials past both expiries (the shop sat idle past the refresh lifetime)
    from plugin.extensions import credentials

    shop = install_shop(app, session, simulator)
    lapsed = {
        **stored_credentials(app, session, shop.id),
        "expires_at": "2020-01-01T00:00:00+00:00",
        "refresh_token_expires_at": "2020-02-01T00:00:00+00:00",
    }
    shop.credentials_encrypted = credentials(app).seal(lapsed)
    session.commit()
    # when
    response = client.get(ROUTE, headers=bearer(simulator.session_token(SHOP)))
    # then
    assert response.status_code == 200
    assert len(simulator.calls_of("token:token_exchange", SHOP)) == 1
    assert stored_credentials(app, session, shop.id)["access_token"] != lapsed["access_token"]
