"""shopify.app.toml is generated from manifest.yml; the committed file must be that rendering."""

from __future__ import annotations

import tomllib
from pathlib import Path

from flask import Flask

from connectors.shopify.app_toml import (
    APP_CONFIG_TOPICS,
    OUTPUT,
    PLACEHOLDER_APP_URL,
    load_manifest_dict,
    main,
    render_app_toml,
)
from plugin.manifest import load_manifest


def test_the_committed_file_is_the_rendering_of_the_manifest() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == render_app_toml(
        load_manifest_dict(), PLACEHOLDER_APP_URL
    )


def test_the_file_declares_what_the_manifest_says(tmp_path: Path) -> None:
    # when
    main(["--app-url", "https://shop-app.example.org/", "--output", str(tmp_path / "app.toml")])
    config = tomllib.loads((tmp_path / "app.toml").read_text(encoding="utf-8"))
    # then
    manifest = load_manifest()
    assert config["access_scopes"]["scopes"] == ",".join(manifest.scopes("shopify"))
    # Shopify-managed installation: the admin opens the embedded page, not an OAuth start
    assert config["application_url"] == "https://shop-app.example.org/admin"
    assert config["access_scopes"]["use_legacy_install_flow"] is False
    # the Shopify CLI no longer accepts (and strips on deploy) include_config_on_deploy
    assert "include_config_on_deploy" not in config["build"]
    assert config["auth"]["redirect_urls"] == ["https://shop-app.example.org/shopify/callback"]
    assert config["webhooks"]["api_version"] == manifest.platform("shopify")["api_version"]
    assert config["webhooks"]["subscriptions"] == [
        {
            "topics": ["app/uninstalled"],
            "uri": "https://shop-app.example.org/webhooks/shopify",
        },
        {
            "compliance_topics": [
                sub.topic for sub in manifest.subscriptions("shopify") if sub.compliance
            ],
            "uri": "https://shop-app.example.org/webhooks/shopify",
        },
    ]
    assert config["embedded"] is True


def test_the_theme_extension_is_where_the_manifest_points() -> None:
    root = OUTPUT.parent.parent.parent
    embed = root / load_manifest().data["widgets"]["click_capture"]["shopify_app_embed"]
    extension = embed.parent.parent
    assert embed.is_file()
    assert tomllib.loads((extension / "shopify.extension.toml").read_text())["type"] == "theme"
    assert '"target": "body"' in embed.read_text()
    assert '"javascript": "click-capture.js"' in embed.read_text()
    assert (extension / "assets" / "click-capture.js").is_file()


def test_app_uninstalled_is_subscribed_once_by_configuration_not_also_through_the_api(
    app: Flask,
) -> None:
    from workers.jobs.shopify import webhook_topics

    with app.app_context():
        topics = webhook_topics()
    assert "app/uninstalled" not in topics
    assert "orders/create" in topics
    assert APP_CONFIG_TOPICS == ("app/uninstalled",)
