"""WooCommerce API keys we no longer use are revoked through the companion plugin; what cannot be
revoked is listed on the settings page for the merchant to delete by hand."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from connectors.woocommerce.simulator import SimulatedStore
from connectors.woocommerce.simulator.companion import CompanionPlugin
from plugin.extensions import credentials
from plugin.models import Shop
from plugin.services.shops import issue_api_key
from plugin.services.woocommerce_keys import KEYS_SETTING
from tests.admin.signin import sign_in_with_key
from tests.woocommerce.test_connect_flow import connect_store, only_shop
from workers.jobs.woocommerce import check_woocommerce_webhooks


def current_key_id(app: Flask, shop: Shop) -> int:
    return int(credentials(app).open(shop.credentials_encrypted)["key_id"])


def ours(store: SimulatedStore) -> list[int]:
    return sorted(key.key_id for key in store.keys.values() if key.description.startswith("Tast"))


def install_plugin(app: Flask, store: SimulatedStore, shop: Shop) -> None:
    """The merchant pastes the shop key and sign-in secret into Settings > Tastemaker."""
    secret = str(credentials(app).open(shop.credentials_encrypted)["login_secret"])
    store.companion = CompanionPlugin(public_key=shop.public_key, login_secret=secret)


def disconnect(client: FlaskClient, session: Session, shop: Shop, run_jobs: Any) -> None:
    _, api_key = issue_api_key(session, shop.id)
    session.commit()
    response = client.post(
        "/woocommerce/disconnect", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 202
    run_jobs()


def test_a_reconnect_revokes_the_older_keys_and_keeps_the_one_in_use(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a connected store with the companion plugin set up, and a key of another app
    connect_store(client, wire)
    run_jobs()
    install_plugin(app, wire, only_shop(session))
    other_app = wire.add_key(description="Zapier - API (2026-11-02 10:00:00)")
    # when the merchant connects twice more
    connect_store(client, wire)
    connect_store(client, wire)
    run_jobs()
    # then only the key in use is left of ours, and the other app's key is untouched
    shop = only_shop(session)
    assert ours(wire) == [current_key_id(app, shop)]
    assert other_app.consumer_key in wire.keys
    assert [key["key_id"] for key in shop.settings[KEYS_SETTING]] == ours(wire)
    assert shop.is_active


def test_disconnect_revokes_every_key_we_hold(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a store connected twice, the plugin set up
    connect_store(client, wire)
    run_jobs()
    install_plugin(app, wire, only_shop(session))
    connect_store(client, wire)
    # when the merchant disconnects (before the reconnect's own revoke has run)
    disconnect(client, session, only_shop(session), run_jobs)
    # then no key of ours is left in the store, and none is listed as left
    shop = only_shop(session)
    assert (shop.status, ours(wire), shop.settings[KEYS_SETTING]) == ("uninstalled", [], [])


def test_without_the_plugin_the_settings_page_lists_the_keys_to_delete(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a store connected twice without the companion plugin
    connect_store(client, wire)
    run_jobs()
    first = credentials(app).open(only_shop(session).credentials_encrypted)
    connect_store(client, wire)
    run_jobs()
    shop = only_shop(session)
    # when the merchant opens the settings page
    _, api_key = issue_api_key(session, shop.id)
    session.commit()
    sign_in_with_key(client, api_key)
    page = client.get("/admin/settings").get_data(as_text=True)
    # then both keys are still in the store, and the page names the old one to delete by hand
    assert len(ours(wire)) == 2
    assert "WooCommerce → Settings → Advanced → REST API" in page
    assert f"<code>…{first['consumer_key'][-7:]}</code> (key id {first['key_id']})" in page
    assert f"key id {current_key_id(app, shop)})" not in page
    assert "not installed" in page


def test_disconnect_without_the_plugin_keeps_every_key_listed(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    connect_store(client, wire)
    run_jobs()
    disconnect(client, session, only_shop(session), run_jobs)
    shop = only_shop(session)
    assert shop.status == "uninstalled"
    assert [key["key_id"] for key in shop.settings[KEYS_SETTING]] == ours(wire) != []


def test_the_plugin_refuses_a_request_signed_for_another_shop(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given the store's plugin is set up for a different shop than the one connected
    connect_store(client, wire)
    run_jobs()
    wire.companion = CompanionPlugin(public_key="pk_othershop1", login_secret="x" * 43)
    # when a reconnect tries to revoke the first key
    connect_store(client, wire)
    run_jobs()
    # then nothing is revoked, and the reason is kept for the merchant
    shop = only_shop(session)
    assert len(ours(wire)) == 2
    assert "tastemaker_wrong_shop" in shop.settings["woocommerce_api_keys_problem"]


def test_keys_left_behind_are_revoked_by_the_daily_check_once_the_plugin_is_set_up(
    app: Flask, client: FlaskClient, session: Session, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given a reconnect whose old key could not be revoked (no plugin yet)
    connect_store(client, wire)
    run_jobs()
    connect_store(client, wire)
    run_jobs()
    assert len(ours(wire)) == 2
    # when the merchant sets the plugin up and the periodic webhook check runs
    install_plugin(app, wire, only_shop(session))
    check_woocommerce_webhooks(only_shop(session).id)
    run_jobs()
    # then the old key is revoked and nothing is left to tell the merchant
    shop = only_shop(session)
    assert ours(wire) == [current_key_id(app, shop)]
    assert "woocommerce_api_keys_problem" not in shop.settings
