"""The merchant pages inside the Shopify admin: App Bridge session tokens only, never a cookie.

Requests carry the token as Shopify sends it: in the first document load's query (`id_token`)
and, from embedded-admin.js, as `Authorization: Bearer`. The simulator plays Shopify's token
endpoint, so a new shop is installed by token exchange exactly as in production.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from plugin.models import ApiKey, Payout, Shop
from plugin.services.payouts import batch_payouts
from plugin.services.shops import mark_uninstalled
from tests.admin.factories import make_creator, make_entry, make_key
from tests.admin.signin import sign_in_with_key
from tests.shopify.conftest import API_KEY, SHOP, install_shop, stored_credentials
from tests.shopify.test_session_auth import alg_none
from workers.runtime import get_backend

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

OTHER = "other-shop.myshopify.com"


def embedded_load(simulator: ShopifySimulator, shop: str = SHOP, token: str | None = None) -> str:
    """The URL the Shopify admin loads in its iframe (application_url = /admin)."""
    query = {
        "embedded": "1",
        "host": simulator.host_param(shop),
        "id_token": token or simulator.session_token(shop),
        "shop": shop,
    }
    return f"/admin?{urlencode(query)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Sec-Fetch-Dest": "empty"}


def test_a_new_shop_opening_the_app_is_installed_by_token_exchange(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # when the Shopify admin loads the app for a shop we have never seen (managed install)
    response = client.get(
        embedded_load(simulator), headers={"Sec-Fetch-Dest": "iframe"}, base_url="https://t.test"
    )
    # then the dashboard is served inside the frame: no OAuth redirect, no cookie
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Creator program" in html
    assert "Set-Cookie" not in response.headers
    # and the offline token came from one token exchange, expiring, stored encrypted
    assert [call.kind for call in simulator.calls if call.kind.startswith("token:")] == [
        "token:token_exchange"
    ]
    shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
    assert shop.status == "active"
    stored = stored_credentials(app, session, shop.id)
    assert stored["refresh_token"].startswith("shprt_")
    assert stored["expires_at"] is not None
    assert stored["access_token"].encode() not in shop.credentials_encrypted
    # and the install jobs (webhooks, app data) were asked for
    get_backend(app).drain(timeout=30)  # type: ignore[attr-defined]
    assert simulator.calls_of("graphql:webhookSubscriptionCreate", SHOP)


def test_embedded_pages_load_app_bridge_first_and_the_nav_menu(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    install_shop(app, session, simulator)
    html = client.get(embedded_load(simulator)).get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    scripts = re.findall(r'<script src="([^"]+)"', head)
    assert f'<meta name="shopify-api-key" content="{API_KEY}">' in head
    assert scripts == [
        "https://cdn.shopify.com/shopifycloud/app-bridge.js",
        "/static/embedded-admin.js",
    ]
    assert head.index("shopify-api-key") < head.index("<script")
    menu = re.search(r"<ui-nav-menu>(.*?)</ui-nav-menu>", html, re.S)
    assert menu is not None
    from plugin.web.admin_nav import NAV_ITEMS

    links = re.findall(r'<a href="([^"]+)"', menu.group(1))
    assert links[0] == "/admin"
    assert "/admin/keys" in links
    assert len(links) == len(NAV_ITEMS)
    assert 'rel="home"' in menu.group(1)
    assert "Sign out" not in html  # Shopify's admin owns the session


def test_frame_ancestors_name_only_the_signed_in_shop(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    install_shop(app, session, simulator)
    install_shop(app, session, simulator, OTHER)
    for domain in (SHOP, OTHER):
        response = client.get("/admin", headers=bearer(simulator.session_token(domain)))
        policy = response.headers["Content-Security-Policy"]
        assert f"frame-ancestors https://{domain} https://admin.shopify.com" in policy
        assert "*" not in policy
        assert "script-src 'self' https://cdn.shopify.com;" in policy


def test_an_action_with_a_session_token_needs_no_cookie_and_no_csrf(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given an installed shop with a payable creator
    shop = install_shop(app, session, simulator)
    make_entry(session, shop, make_creator(session, shop, "anna"), 5_000)
    shop.payout_minimum_minor = 0
    session.commit()
    # when the embedded page posts the batch form with only the token
    response = client.post(
        "/admin/payouts/batch", headers=bearer(simulator.session_token(SHOP)), data={}
    )
    # then the script is told where to go next and what to say, and nothing set a cookie
    assert response.status_code == 204
    assert response.headers["X-Tastemaker-Location"].startswith("/admin")
    flashes = json.loads(unquote(response.headers["X-Tastemaker-Flash"]))
    assert flashes[0][0] == "ok"
    assert "1 payouts waiting for your approval" in flashes[0][1]
    assert "Set-Cookie" not in response.headers
    assert session.scalars(select(Payout.status)).all() == ["pending_approval"]


def test_a_token_for_shop_a_never_reads_or_changes_shop_b(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given two installed shops, B with a payout waiting
    install_shop(app, session, simulator)
    shop_b = install_shop(app, session, simulator, OTHER)
    make_creator(session, shop_b, "bob-from-b")
    make_entry(session, shop_b, make_creator(session, shop_b, "bea"), 5_000)
    (payout,) = batch_payouts(session, shop_b.id, "b1")
    payout_id = payout.id
    session.commit()
    token_a = simulator.session_token(SHOP)
    # when shop A's token reads the dashboard and tries B's payout
    page = client.get("/admin", headers=bearer(token_a)).get_data(as_text=True)
    approve = client.post(f"/admin/payouts/{payout_id}/approve", headers=bearer(token_a))
    # then A sees none of B and cannot touch B's payout
    assert "bob-from-b" not in page
    assert approve.status_code == 404
    assert session.get(Payout, payout_id).status == "pending_approval"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda sim: sim.session_token(SHOP, now=time.time() - 120), id="expired"),
        pytest.param(lambda sim: sim.session_token(SHOP, aud="another-app"), id="wrong-aud"),
        pytest.param(lambda sim: alg_none(sim.session_token(SHOP)), id="alg-none"),
        pytest.param(
            lambda sim: sim.session_token(SHOP, secret="another-apps-secret-000000"),
            id="wrong-secret",
        ),
    ],
)
def test_bad_tokens_are_refused_even_with_a_signed_in_cookie(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, make: Any
) -> None:
    # given a browser that also holds a valid standalone session for the shop
    shop = install_shop(app, session, simulator)
    make_entry(session, shop, make_creator(session, shop, "anna"), 5_000)
    shop.payout_minimum_minor = 0
    key = make_key(session, shop)
    session.commit()
    sign_in_with_key(client, key)
    token = make(simulator)
    # when the embedded page sends a bad token
    page = client.get("/admin", headers=bearer(token))
    action = client.post("/admin/payouts/batch", headers=bearer(token))
    document = client.get(embedded_load(simulator, token=token))
    # then everything is refused: the cookie never answers for a token request
    assert page.status_code == 401
    assert "Creator program" not in page.get_data(as_text=True)
    assert action.status_code == 401
    assert document.status_code == 401
    assert session.scalars(select(Payout)).all() == []
    assert simulator.calls_of("token:token_exchange") == []


def test_a_token_for_an_uninstalled_shop_is_refused(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given a shop that uninstalled the app (Shopify no longer exchanges its tokens)
    shop = install_shop(app, session, simulator)
    simulator.uninstall(SHOP)
    mark_uninstalled(session, shop)
    session.commit()
    token = simulator.session_token(SHOP)
    # when
    page = client.get("/admin", headers=bearer(token))
    document = client.get(embedded_load(simulator, token=token))
    # then
    assert (page.status_code, document.status_code) == (401, 401)
    session.expire_all()
    assert session.get(Shop, shop.id).status == "uninstalled"  # type: ignore[union-attr]


def test_inside_the_frame_without_a_token_the_cookie_is_ignored(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    # given a browser signed in standalone
    shop = install_shop(app, session, simulator)
    key = make_key(session, shop)
    session.commit()
    sign_in_with_key(client, key)
    # when a document inside the admin's iframe arrives without a token
    response = client.get(f"/admin?embedded=1&shop={SHOP}", headers={"Sec-Fetch-Dest": "iframe"})
    # then it gets the page that asks App Bridge for a token, not the dashboard
    html = response.get_data(as_text=True)
    assert '<meta name="tastemaker-reload"' in html
    assert "Creator program" not in html
    assert (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com"
        in (response.headers["Content-Security-Policy"])
    )


def test_install_inside_the_frame_leaves_through_app_bridge_not_a_302(
    client: FlaskClient, simulator: ShopifySimulator
) -> None:
    query = simulator.signed_query(
        {"host": simulator.host_param(SHOP), "shop": SHOP, "timestamp": str(int(time.time()))}
    )
    path = f"/shopify/install?{urlencode(query)}"
    response = client.get(path, headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 200
    assert f'<meta name="tastemaker-exit-iframe" content="{path}' in response.get_data(
        as_text=True
    ).replace("&amp;", "&")
    assert simulator.calls_of("authorize") == []


def test_api_keys_page_with_a_session_token(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    shop = install_shop(app, session, simulator)
    token = simulator.session_token(SHOP)
    created = client.post("/admin/keys", headers=bearer(token), data={"label": "Zapier"})
    html = created.get_data(as_text=True)
    clear = re.search(r'value="(tmk_[^"]+)"', html)
    assert created.status_code == 200
    assert clear is not None
    assert session.scalars(select(ApiKey.label).where(ApiKey.shop_id == shop.id)).all() == [
        "Zapier"
    ]
