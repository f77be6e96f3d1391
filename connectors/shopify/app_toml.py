"""`shopify.app.toml`, generated from manifest.yml so the two can never disagree.

The Shopify CLI deploys the app's configuration from this file. Installation is Shopify-managed:
`application_url` is the embedded admin (/admin), which Shopify opens with a session token that
the app exchanges for an offline token; the OAuth callback stays for non-embedded installs. The
file declares the mandatory compliance topics, which Shopify accepts only from app
configuration, and app/uninstalled (APP_CONFIG_TOPICS), which must reach us even before the
install job has subscribed the shop; that job subscribes every other manifest topic per shop
through the API, so each uninstall arrives once.

    python -m connectors.shopify.app_toml [--app-url https://…] [--output path]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yml"
OUTPUT = ROOT / "widgets" / "shopify" / "shopify.app.toml"
PLACEHOLDER_APP_URL = "https://tastemaker.example.com"
PLACEHOLDER_CLIENT_ID = "SET-YOUR-SHOPIFY-CLIENT-ID"
APP_CONFIG_TOPICS = ("app/uninstalled",)


def render_app_toml(manifest: Mapping[str, Any], app_url: str) -> str:
    shopify = manifest["platforms"]["shopify"]
    base = app_url.rstrip("/")
    webhook_uri = base + shopify["webhook_url"]
    compliance = [hook["topic"] for hook in shopify["webhooks"] if hook.get("compliance")]
    app_level = [
        hook["topic"]
        for hook in shopify["webhooks"]
        if not hook.get("compliance") and hook["topic"] in APP_CONFIG_TOPICS
    ]
    lines = [
        "# Generated from manifest.yml by `python -m connectors.shopify.app_toml`; do not edit.",
        "# Replace client_id with your app's client id (Partner Dashboard) before deploying.",
        f"client_id = {_string(PLACEHOLDER_CLIENT_ID)}",
        f"name = {_string(manifest['name'])}",
        f"handle = {_string(manifest['handle'])}",
        f"application_url = {_string(base + manifest['urls']['admin'])}",
        "embedded = true",
        "",
        "[build]",
        "automatically_update_urls_on_dev = false",
        "",
        "[access_scopes]",
        f"scopes = {_string(','.join(shopify['scopes']))}",
        "use_legacy_install_flow = false",
        "",
        "[auth]",
        f"redirect_urls = {_array([base + shopify['callback_url']])}",
        "",
        "[webhooks]",
        f"api_version = {_string(shopify['api_version'])}",
    ]
    if app_level:
        lines += _subscription("topics", app_level, webhook_uri)
    if compliance:
        lines += _subscription("compliance_topics", compliance, webhook_uri)
    lines += ["", "[pos]", "embedded = false", ""]
    return "\n".join(lines)


def _subscription(key: str, topics: Sequence[str], uri: str) -> list[str]:
    return ["", "[[webhooks.subscriptions]]", f"{key} = {_array(topics)}", f"uri = {_string(uri)}"]


def _string(value: object) -> str:
    # A JSON string is a valid TOML basic string for everything a manifest holds.
    return json.dumps(str(value), ensure_ascii=False)


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def load_manifest_dict(path: Path = MANIFEST) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write shopify.app.toml from manifest.yml.")
    parser.add_argument("--app-url", default=PLACEHOLDER_APP_URL, help="the app's public URL")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_app_toml(load_manifest_dict(), args.app_url), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
