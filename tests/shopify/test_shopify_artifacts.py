"""What we send Shopify and what we deploy, checked offline against Shopify's own artefacts.

`scripts/npm-deps` (run by scripts/test) installs the pinned npm packages: @shopify/dev-mcp ships
the Admin GraphQL introspection schema of every supported API version, and
@shopify/theme-check-node is the checker `shopify app deploy` runs on theme app extensions.
Every GraphQL request the connector sends (recorded by the simulator while real connector code
runs) must validate against the schema of the version we default to, use nothing deprecated
there, and carry variables the schema accepts.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLSchema,
    build_client_schema,
    get_nullable_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode
from graphql.validation import NoDeprecatedCustomRule

from connectors.base import DiscountCodeSpec, DiscountCodeTaken
from connectors.shopify import ShopifyConnector
from connectors.shopify.app_toml import load_manifest_dict
from connectors.shopify.simulator import ShopifySimulator
from plugin.settings import Settings
from tests.shopify.conftest import SHOP, context_for
from widgets.build import SHOPIFY_ASSETS, stale_copies

ROOT = Path(__file__).resolve().parents[2]
NPM_TOOLS = ROOT / "scripts" / "npm-tools"
SCHEMAS = NPM_TOOLS / "node_modules" / "@shopify" / "dev-mcp" / "dist" / "data"
EXTENSION = SHOPIFY_ASSETS.parent


def npm_tools_installed() -> None:
    if not (NPM_TOOLS / "node_modules" / ".tastemaker-lock").is_file():
        pytest.fail("Shopify's npm artefacts are missing: run scripts/npm-deps (scripts/test does)")


def default_version() -> str:
    version = str(load_manifest_dict()["platforms"]["shopify"]["api_version"])
    assert version == Settings().shopify_api_version
    return version


@cache
def admin_schema(version: str) -> GraphQLSchema:
    data = json.loads(gzip.decompress((SCHEMAS / f"admin_{version}.json.gz").read_bytes()))
    return build_client_schema(data["data"])


def test_the_default_api_version_is_one_shopify_still_ships() -> None:
    npm_tools_installed()
    shipped = sorted(
        path.name.removeprefix("admin_").removesuffix(".json.gz")
        for path in SCHEMAS.glob("admin_20*.json.gz")
    )
    # Shopify supports a stable version for twelve months; dev-mcp ships the supported ones.
    assert default_version() in shipped
    assert "2025-07" not in shipped


def deprecated_input_fields(value: Any, type_: Any, path: str) -> list[str]:
    """Input-object fields marked deprecated that a variables value uses (the validation rules
    only see the document, not the variables)."""
    type_ = get_nullable_type(type_)
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [
            found
            for n, item in enumerate(items)
            for found in deprecated_input_fields(item, type_.of_type, f"{path}[{n}]")
        ]
    if not isinstance(type_, GraphQLInputObjectType) or not isinstance(value, dict):
        return []
    found = []
    for name, item in value.items():
        field = type_.fields[name]
        if field.deprecation_reason:
            found.append(f"{path}.{name}")
        found += deprecated_input_fields(item, field.type, f"{path}.{name}")
    return found


def problems_with(schema: GraphQLSchema, body: dict[str, Any]) -> list[str]:
    document = parse(body["query"])
    errors = [e.message for e in validate(schema, document, [*specified_rules])]
    errors += [
        f"deprecated: {e.message}" for e in validate(schema, document, [NoDeprecatedCustomRule])
    ]
    if errors:
        return errors
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    variables = body.get("variables") or {}
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        return [error.message for error in coerced]
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_ = schema.get_type(get_named_type_name(definition.type))
        errors += [
            f"deprecated input field {path}"
            for path in deprecated_input_fields(variables.get(name), type_, f"${name}")
        ]
    return errors


def get_named_type_name(node: Any) -> str:
    while not hasattr(node, "name"):
        node = node.type
    return str(node.name.value)


def spec(**overrides: Any) -> DiscountCodeSpec:
    values: dict[str, Any] = {
        "code": "AVA15",
        "title": "Tastemaker @ava: AVA15",
        "kind": "percentage",
        "value": 1_500,
        "currency": "USD",
        "starts_at": datetime(2026, 6, 1, tzinfo=UTC),
        **overrides,
    }
    return DiscountCodeSpec(**values)


def test_every_graphql_request_the_connector_sends_is_valid_for_the_default_version(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    npm_tools_installed()
    schema = admin_schema(default_version())
    context = context_for(simulator)
    simulator.shop(SHOP).codes["ava20"] = {"id": "gid://shopify/DiscountCodeNode/9", "title": "x"}
    # when every operation we use runs against the simulator
    connector.shop_details(SHOP, context.credentials["access_token"])
    created = connector.create_discount_code(
        context,
        spec(usage_limit=10, once_per_customer=True, combines_with={"shipping": True}),
    )
    connector.create_discount_code(
        context,
        spec(code="AVA5", kind="fixed_amount", value=500, ends_at=datetime(2026, 7, 1, tzinfo=UTC)),
    )
    with pytest.raises(DiscountCodeTaken):
        connector.create_discount_code(context, spec(code="AVA20"))  # taken: alternatives
    connector.deactivate_discount_code(context, created.platform_id)
    connector.register_webhooks(
        context, "https://tastemaker.test/webhooks/shopify", ["orders/create"]
    )
    connector.publish_app_data(context, {"public_key": "pk_1", "api_url": "https://t.test"})
    connector.orders_updated_since(context, datetime(2026, 1, 1, tzinfo=UTC))
    # then each request validates against Shopify's schema, deprecated fields included
    sent = simulator.graphql_bodies
    assert len({body["query"] for body in sent}) == 9  # every document in connectors/shopify
    report = {body["query"].split("(")[0].strip(): problems_with(schema, body) for body in sent}
    assert {name: errors for name, errors in report.items() if errors} == {}


def test_the_checker_catches_what_the_old_version_sent() -> None:
    # given the pre-2026 webhook document and discount variables
    npm_tools_installed()
    schema = admin_schema(default_version())
    old_webhooks = {
        "query": "query W { webhookSubscriptions(first: 1) { nodes { id endpoint { "
        "__typename ... on WebhookHttpEndpoint { callbackUrl } } } } }",
    }
    old_discount = {
        "query": "mutation C($d: DiscountCodeBasicInput!) { discountCodeBasicCreate("
        "basicCodeDiscount: $d) { userErrors { message } } }",
        "variables": {"d": {"title": "t", "code": "C", "customerSelection": {"all": True}}},
    }
    # then both are reported
    assert any("deprecated" in error for error in problems_with(schema, old_webhooks))
    assert problems_with(schema, old_discount) == ["deprecated input field $d.customerSelection"]


def test_the_theme_extension_passes_shopify_theme_check() -> None:
    npm_tools_installed()
    node = shutil.which("node")
    assert node is not None, "Node.js is needed: scripts/system-deps installs it"
    result = subprocess.run(
        [node, str(NPM_TOOLS / "theme-check.js"), str(EXTENSION)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_the_committed_theme_assets_are_the_widget_build_output() -> None:
    # A clean checkout is deployable: the assets blocks/ugc_carousel.liquid loads are committed,
    # and equal to what widgets/build.py makes from widgets/src.
    assert stale_copies() == [], "run `python widgets/build.py` and commit the assets"
