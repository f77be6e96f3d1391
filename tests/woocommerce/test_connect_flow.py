"""Connecting a store: connect form -> wc-auth -> keys POSTed to our callback -> webhooks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.woocommerce.simulator import SimulatedStore, authorize
from plugin import create_app
from plugin.extensions import credentials
from plugin.models import OAuthState, Shop, utcnow
from plugin.services.shops import issue_api_key
from tests.conftest import make_settings
from tests.woocommerce.conftest import PUBLIC_URL, WEBHOOK_URL, client_transport
from workers.jobs.woocommerce import WEBHOOK_IDS_KEY

TOPICS = ["coupon.deleted", "coupon.updated", "order.created", "order.deleted", "order.updated"]


def start_connect(client: FlaskClient, store_url: str) -> dict[str, str]:
    response = client.post("/woocommerce/connect", data={"store_url": store_url})
    assert response.status_code == 302, response.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def connect_store(client: FlaskClient, store: SimulatedStore) -> tuple[int, str]:
    """The merchant enters the store, WooCommerce approves and POSTs the keys to our callback."""
    return authorize(store, start_connect(client, store.url))


def only_shop(session: Session) -> Shop:
    session.expire_all()
    return session.scalars(select(Shop)).one()


def test_connect_form_asks_for_the_store_address(client: FlaskClient) -> None:
    response = client.get("/woocommerce/connect")
    assert response.status_code == 200
    assert b'name="store_url"' in response.data


def test_connect_sends_the_merchant_to_the_stores_authorize_page(
    client: FlaskClient, session: Session, store: SimulatedStore, store_domain: str
) -> None:
    # when
    response = client.post("/woocommerce/connect", data={"store_url": store.url + "/"})
    # then
    location = urlsplit(response.headers["Location"])
    params = dict(parse_qsl(location.query))
    assert response.status_code == 302
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == f"{store.url}/wc-auth/v1/authorize"
    )
    assert params == {
        "app_name": "Tastemaker",
        "scope": "read_write",
        "user_id": params["user_id"],
        "return_url": f"{PUBLIC_URL}/woocommerce/return",
        "callback_url": f"{PUBLIC_URL}/woocommerce/callback",
    }
    # and the one-time user_id is unguessable and remembered with the store
    state = session.scalars(select(OAuthState)).one()
    assert (state.platform, state.nonce, state.domain, state.used_at) == (
        "woocommerce",
        params["user_id"],
        store_domain,
        None,
    )
    assert len(params["user_id"]) >= 40


@pytest.mark.parametrize(
    ("store_url", "message"),
    [
        ("http://shop.example.com", "https"),
        ("https://shop.example.com/wp-admin", "without a path"),
        ("https://192.168.1.10", "not an IP address"),
    ],
)
def test_connect_rejects_anything_but_a_plain_https_origin(
    client: FlaskClient, session: Session, store_url: str, message: str
) -> None:
    response = client.post("/woocommerce/connect", data={"store_url": store_url})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalars(select(OAuthState)).all() == []


def test_connect_refuses_when_tastemaker_is_not_on_https(tmp_path: Any, connection: Any) -> None:
    from plugin import create_app
    from plugin.db import get_db
    from tests.conftest import make_settings

    app = create_app(
        make_settings(
            tmp_path, public_url="http://127.0.0.1:5000", database_url=str(connection.engine.url)
        )
    )
    get_db(app).bind_to(connection)
    response = app.test_client().post(
        "/woocommerce/connect", data={"store_url": "shop.example.com"}
    )
    assert response.status_code == 503
    assert "must be served over https" in response.get_data(as_text=True)


def test_full_connect_stores_keys_encrypted_and_registers_webhooks(
    app: Flask,
    client: FlaskClient,
    session: Session,
    wire: SimulatedStore,
    run_jobs: Any,
    store_domain: str,
) -> None:
    # when the merchant connects and WooCommerce POSTs the keys
    status, location = connect_store(client, wire)
    # then WooCommerce got a 200 and sends the merchant back to us
    assert status == 302
    assert location.startswith(f"{PUBLIC_URL}/woocommerce/return?success=1&user_id=")
    # and the shop holds the keys, encrypted, with a fresh webhook secret
    shop = only_shop(session)
    [key] = wire.keys.values()
    stored = credentials(app).open(shop.credentials_encrypted)
    assert (shop.platform, shop.domain, shop.status, shop.currency) == (
        "woocommerce",
        store_domain,
        "active",
        "USD",
    )
    assert {
        k: stored[k]
        for k in ("consumer_key", "consumer_secret", "key_permissions", "query_string_auth")
    } == {
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": "read_write",
        "query_string_auth": False,
    }
    assert len(stored["webhook_secret"]) >= 40
    assert key.consumer_secret.encode() not in shop.credentials_encrypted
    # when the registration job runs
    run_jobs()
    # then our webhooks exist, signed with the shop's secret, and every ping got exactly 200
    hooks = sorted(wire.webhooks.values(), key=lambda h: h["topic"])
    assert [(h["topic"], h["delivery_url"], h["secret"], h["status"]) for h in hooks] == [
        (topic, WEBHOOK_URL, stored["webhook_secret"], "active") for topic in TOPICS
    ]
    assert [ping.status for ping in wire.pings] == [200] * 5
    assert only_shop(session).settings[WEBHOOK_IDS_KEY] == {h["topic"]: h["id"] for h in hooks}


def test_an_old_return_url_hands_over_nothing(
    client: FlaskClient, session: Session, wire: SimulatedStore
) -> None:
    _, location = connect_store(client, wire)
    session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    page = client.get(location.removeprefix(PUBLIC_URL)).get_data(as_text=True)
    assert ("api-key" in page, "Almost there" in page) == (False, True)


def test_a_declined_authorization_connects_nothing(client: FlaskClient, session: Session) -> None:
    page = client.get("/woocommerce/return?success=0&user_id=whatever")
    assert "Not connected" in page.get_data(as_text=True)
    assert session.scalars(select(Shop)).all() == []


def _keys_body(
    store: SimulatedStore, user_id: str, permissions: str = "read_write"
) -> dict[str, Any]:
    key = store.add_key(permissions)
    return {
        "key_id": key.key_id,
        "user_id": user_id,
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": permissions,
    }


def test_callback_with_an_unknown_user_id_is_refused(
    client: FlaskClient, session: Session, store: SimulatedStore
) -> None:
    response = client.post("/woocommerce/callback", json=_keys_body(store, "guessed"))
    assert response.status_code == 403
    assert session.scalars(select(Shop)).all() == []


def test_a_replayed_callback_is_refused(
    client: FlaskClient, session: Session, store: SimulatedStore
) -> None:
    # given a callback that already connected the store
    params = start_connect(client, store.url)
    body = _keys_body(store, params["user_id"])
    assert client.post("/woocommerce/callback", json=body).status_code == 200
    # when the same user_id comes again (a replay, or someone who saw the URL)
    replay = client.post("/woocommerce/callback", json=_keys_body(store, params["user_id"]))
    # then
    assert replay.status_code == 403
    assert (
        credentials().open(only_shop(session).credentials_encrypted)["consumer_key"]
        == body["consumer_key"]
    )


def test_an_expired_user_id_is_refused(
    client: FlaskClient, session: Session, store: SimulatedStore
) -> None:
    params = start_connect(client, store.url)
    session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert (
        client.post("/woocommerce/callback", json=_keys_body(store, params["user_id"])).status_code
        == 403
    )


def test_keys_the_store_refuses_connect_nothing_and_leave_the_user_id_usable(
    client: FlaskClient, session: Session, store: SimulatedStore
) -> None:
    # given keys that do not work (revoked before we could use them)
    params = start_connect(client, store.url)
    body = _keys_body(store, params["user_id"])
    store.revoke_key(body["consumer_key"])
    # when
    response = client.post("/woocommerce/callback", json=body)
    # then
    assert response.status_code == 400
    assert session.scalars(select(Shop)).all() == []
    assert (
        client.post("/woocommerce/callback", json=_keys_body(store, params["user_id"])).status_code
        == 200
    )


@pytest.mark.parametrize(
    "change",
    [{"key_permissions": "read"}, {"consumer_key": ""}, {"consumer_secret": "nope"}],
)
def test_callback_needs_read_write_keys(
    client: FlaskClient, session: Session, store: SimulatedStore, change: dict[str, str]
) -> None:
    params = start_connect(client, store.url)
    body = {**_keys_body(store, params["user_id"]), **change}
    assert client.post("/woocommerce/callback", json=body).status_code == 400
    assert session.scalars(select(Shop)).all() == []


def test_callback_that_is_not_json_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/woocommerce/callback",
        data=b"consumer_key=ck_1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_a_store_that_strips_authorization_is_connected_with_query_auth(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a host that drops the Authorization header
    wire.strip_authorization = True
    # when
    status, _ = connect_store(client, wire)
    run_jobs()
    # then the keys are kept with query auth, and the webhooks got registered that way
    assert status == 302
    assert (
        credentials(app).open(only_shop(session).credentials_encrypted)["query_string_auth"] is True
    )
    assert len(wire.webhooks) == 5
    assert {mode for method, _, mode in wire.requests if method == "POST"} == {"query"}


def test_reconnecting_keeps_the_webhook_secret_and_reactivates(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a connected store whose key the merchant later revoked
    connect_store(client, wire)
    run_jobs()
    first = credentials(app).open(only_shop(session).credentials_encrypted)
    wire.revoke_key(first["consumer_key"])
    session.execute(update(Shop).values(status="needs_reconnect"))
    session.commit()
    # when the merchant connects again
    status, _ = connect_store(client, wire)
    run_jobs()
    # then the shop is active with new keys, the same secret, and the same five webhooks
    shop = only_shop(session)
    again = credentials(app).open(shop.credentials_encrypted)
    assert (status, shop.status) == (302, "active")
    assert again["consumer_key"] != first["consumer_key"]
    assert again["webhook_secret"] == first["webhook_secret"]
    assert len(wire.webhooks) == 5


def test_disconnect_deletes_our_webhooks_and_forgets_the_keys(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a connected store and the merchant's admin key
    connect_store(client, wire)
    run_jobs()
    shop = only_shop(session)
    _, api_key = issue_api_key(session, shop.id)
    session.commit()
    # when
    response = client.post(
        "/woocommerce/disconnect", headers={"Authorization": f"Bearer {api_key}"}
    )
    run_jobs()
    # then
    shop = only_shop(session)
    assert response.status_code == 202
    assert wire.webhooks == {}
    assert (shop.status, shop.credentials_encrypted) == ("uninstalled", None)
    assert WEBHOOK_IDS_KEY not in shop.settings


def test_disconnect_forgets_the_keys_even_when_the_store_refuses_them(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    connect_store(client, wire)
    run_jobs()
    shop = only_shop(session)
    wire.revoke_key(credentials(app).open(shop.credentials_encrypted)["consumer_key"])
    _, api_key = issue_api_key(session, shop.id)
    session.commit()
    client.post("/woocommerce/disconnect", headers={"Authorization": f"Bearer {api_key}"})
    run_jobs()
    assert (only_shop(session).status, len(wire.webhooks)) == ("uninstalled", 5)


def test_disconnect_needs_the_merchants_key(client: FlaskClient) -> None:
    assert client.post("/woocommerce/disconnect").status_code == 401


@pytest.mark.parametrize(
    "callback_url", ["http://tastemaker.example/cb", "http://127.0.0.1:5000/cb"]
)
def test_simulated_store_refuses_a_plain_http_callback_before_approval(
    store: SimulatedStore, callback_url: str
) -> None:
    # when (loopback too: a real store makes no exception for it)
    status, message = authorize(
        store,
        {
            "app_name": "x",
            "scope": "read_write",
            "user_id": "1",
            "return_url": "https://tastemaker.example/r",
            "callback_url": callback_url,
        },
    )
    # then WooCommerce's answer, and no key was made
    assert (status, message) == (401, "The callback_url needs to be over SSL")
    assert store.keys == {}


def test_our_connect_page_refuses_to_start_without_https(tmp_path: Path) -> None:
    # given an app served over plain http, talking to a real store (no simulator override)
    app = create_app(make_settings(tmp_path, public_url="http://tastemaker.example"))
    # when
    response = app.test_client().post(
        "/woocommerce/connect", data={"store_url": "https://shop.example"}
    )
    # then it says why before sending the merchant to a page that would refuse
    assert response.status_code == 503
    assert b"must be served over https" in response.data


def test_a_callback_that_fails_leaves_no_key_in_the_store(
    client: FlaskClient, store: SimulatedStore
) -> None:
    # given our callback is unreachable (the transport answers nothing)
    params = start_connect(client, store.url)
    store.transport = lambda url, body, headers: 0
    # when
    status, message = authorize(store, params)
    # then WooCommerce shows an error and drops the key it made
    assert status == 400
    assert "unable to send the consumer data" in message
    assert store.keys == {}


def test_client_transport_only_reaches_our_app(client: FlaskClient) -> None:
    assert client_transport(client)("https://elsewhere.example/x", b"", {}) == 0
