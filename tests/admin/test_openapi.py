"""/openapi.json documents exactly the /api/v1 routes the app serves, and is well-formed."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from plugin.web.admin_api.openapi import openapi_path


def served_operations(app: Flask) -> set[tuple[str, str]]:
    return {
        (method.lower(), openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_the_document_and_the_routes_match_both_ways(app: Flask, client: FlaskClient) -> None:
    # when
    response = client.get("/openapi.json")
    document = response.get_json()
    # then
    assert response.status_code == 200
    assert document["openapi"] == "3.1.0"
    served = served_operations(app)
    documented = documented_operations(document)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    assert ("post", "/api/v1/payouts/{payout_id}/mark-paid") in documented


def test_every_operation_is_secured_and_names_its_path_parameters(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert set(document["components"]["securitySchemes"]) == {"bearerApiKey", "headerApiKey"}
    operation_ids = []
    for path, item in document["paths"].items():
        for operation in item.values():
            operation_ids.append(operation["operationId"])
            in_path = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert in_path == {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert "401" in operation["responses"]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_schema_is_valid_json_schema_and_every_reference_resolves(
    client: FlaskClient,
) -> None:
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    references: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                references.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    missing = {ref for ref in references if ref.rsplit("/", 1)[1] not in schemas}
    assert references
    assert missing == set()


def test_request_schemas_are_documented_with_their_rules(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    agreement = document["components"]["schemas"]["AgreementInput"]
    assert agreement["required"] == ["creator_id"]
    assert agreement["properties"]["commission_rate_bps"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 10_000,
    }
    create = document["paths"]["/api/v1/agreements"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AgreementInput"
    }
    assert set(create["responses"]) == {"201", "400", "401", "422"}
