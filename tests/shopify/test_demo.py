"""The demo part: a simulated Shopify and the real install flow against a served app."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from connectors.shopify.simulator import ShopifySimulator
from plugin import create_app
from plugin.db import get_db
from plugin.demo import shopify as demo
from plugin.migrate import upgrade
from plugin.services.shops import find_shop
from tests.conftest import make_settings
from workers.backends import InProcessBackend
from workers.runtime import get_backend


@dataclass
class Served:
    app: Flask
    base: str
    lines: list[str]

    @property
    def simulator(self) -> ShopifySimulator:
        simulator: ShopifySimulator = self.app.extensions[demo.SIMULATOR_KEY]
        return simulator


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    holder: dict[str, Flask] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, respond: holder["app"](env, respond), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    # As `tastemaker demo` runs without Shopify credentials in the environment.
    settings = make_settings(
        tmp_path, database_url=url, public_url=base, shopify_api_key=None, shopify_api_secret=None
    )
    app = holder["app"] = create_app(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    lines = demo.start(app, base)
    yield Served(app, base, lines)
    app.extensions[demo.SIMULATOR_KEY].stop()
    app.extensions[demo.ADMIN_HOST_KEY].stop()
    server.shutdown()
    thread.join()
    server.server_close()
    get_db(app).dispose()


def framed_app(admin_page: requests.Response) -> requests.Response:
    """Load the iframe of the admin stand-in's page as the browser would (its id_token included)."""
    found = re.search(r'<iframe id="app-frame" title="Tastemaker" src="([^"]+)"', admin_page.text)
    assert found is not None, admin_page.text[:500]
    return requests.get(
        html.unescape(found.group(1)), headers={"Sec-Fetch-Dest": "iframe"}, timeout=10
    )


def test_the_printed_admin_link_shows_the_seeded_shop_in_the_frame(served: Served) -> None:
    # given the link the demo prints for the first shop's admin
    link = next(line for line in served.lines if "open Tastemaker" in line).split(": ", 1)[1]
    # when a browser opens it
    admin_page = requests.get(link, timeout=10)
    framed = framed_app(admin_page)
    # then the admin stand-in (another site) frames the app, which answers with the dashboard
    assert urlsplit(link).hostname == "localhost"
    assert framed.status_code == 200
    assert "<title>Dashboard · Tastemaker Demo · Tastemaker</title>" in framed.text
    assert "@nora.knits" in framed.text
    assert "Set-Cookie" not in framed.headers
    policy = framed.headers["Content-Security-Policy"]
    assert f"frame-ancestors https://{demo.DEMO_SHOPS[0]} {admin_origin(link)}" in policy
    # and the shop was installed by token exchange, with its webhooks and codes on the simulator
    backend = get_backend(served.app)
    assert isinstance(backend, InProcessBackend)
    backend.drain(timeout=30)
    assert served.simulator.calls_of("token:token_exchange", demo.DEMO_SHOPS[0])
    assert served.simulator.calls_of("token:code") == []
    assert len(served.simulator.shop(demo.DEMO_SHOPS[0]).webhooks) == 5
    assert set(served.simulator.shop(demo.DEMO_SHOPS[0]).codes) == {"nora15", "theo10"}
    assert served.simulator.shop(demo.DEMO_SHOPS[0]).app_metafields["tastemaker.api_url"] == (
        served.base
    )


def admin_origin(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"


def test_install_uninstall_and_reinstall_over_http(served: Served) -> None:
    # given the printed install link of the second shop (Shopify-managed installation)
    shop = demo.DEMO_SHOPS[1]
    link = next(line for line in served.lines if "install on" in line).split(": ", 1)[1]
    backend = get_backend(served.app)
    assert isinstance(backend, InProcessBackend)
    # when the merchant installs: Shopify opens the app in its admin, framed
    landing = requests.get(link, timeout=10)
    framed = framed_app(landing)
    # then no OAuth redirect ran: the frame's first load installed the shop by token exchange
    assert framed.status_code == 200
    assert "Creator program" in framed.text
    assert served.simulator.calls_of("authorize") == []
    backend.drain(timeout=30)
    # when the merchant uninstalls: Shopify revokes the token and POSTs app/uninstalled (once)
    assert served.simulator.uninstall(shop) == [200]
    backend.drain(timeout=30)
    with get_db(served.app).transaction() as session:
        uninstalled = find_shop(session, "shopify", shop)
        assert uninstalled is not None
        assert (uninstalled.status, uninstalled.credentials_encrypted) == ("uninstalled", None)
    # then installing again brings the shop back the same way
    assert framed_app(requests.get(link, timeout=10)).status_code == 200
    backend.drain(timeout=30)
    with get_db(served.app).transaction() as session:
        back = find_shop(session, "shopify", shop)
        assert back is not None
        assert back.status == "active"
    assert len(served.simulator.calls_of("token:token_exchange", shop)) == 2
