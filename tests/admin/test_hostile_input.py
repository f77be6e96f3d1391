"""Hostile input never becomes a 500: ids past 64 bits, NUL and lone surrogates, HTML error pages.

Generic over the URL map, so a route added later is covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_creator, make_payout

HUGE = "99999999999999999999"
INT_PARAM = re.compile(r"<int:[a-z_]+>")


def _id_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and INT_PARAM.search(rule.rule):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((method, INT_PARAM.sub(HUGE, rule.rule)))
    return routes


def test_an_id_past_64_bits_is_a_json_404_on_every_id_path(
    app: Flask, api: Api, shop_a: ShopKey
) -> None:
    # given every /api route with an integer id in its path
    routes = _id_routes(app)
    assert len(routes) > 20
    for method, path in routes:
        # when
        response = api.client.open(
            path, method=method, headers={"Authorization": f"Bearer {shop_a.key}"}, json={}
        )
        # then
        assert (method, path, response.status_code) == (method, path, 404)
        assert response.is_json
        assert response.get_json()["error"] == "not_found"


def test_an_id_filter_past_64_bits_is_a_field_error_on_every_list(
    app: Flask, api: Api, shop_a: ShopKey
) -> None:
    # given every documented integer query parameter named like an id
    checked = 0
    for path, operations in api.document["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        for parameter in operations["get"]["parameters"]:
            if parameter["in"] != "query" or not parameter["name"].endswith("_id"):
                continue
            # when
            response = api.get(f"{path}?{parameter['name']}={HUGE}", shop_a)
            # then
            assert response.status_code == 422, (path, parameter["name"], response.data)
            assert response.get_json()["fields"] == {parameter["name"]: "is out of range"}
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("raw_name", ['"a\\u0000b"', '"a\\ud800b"'], ids=["nul", "lone-surrogate"])
def test_text_a_database_cannot_store_is_a_field_error(
    api: Api, shop_a: ShopKey, raw_name: str
) -> None:
    # when
    response = api.client.post(
        "/api/v1/creators",
        data=f'{{"handle": "x", "name": {raw_name}}}',
        headers={"Authorization": f"Bearer {shop_a.key}", "Content-Type": "application/json"},
    )
    # then
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "validation",
        "fields": {"name": "must not contain NUL characters or unpaired surrogates"},
    }


def test_nul_in_a_payout_reference_and_in_free_form_values_is_a_field_error(
    session: Session, api: Api, shop_a: ShopKey
) -> None:
    # given
    creator = make_creator(session, shop_a.shop)
    payout = make_payout(session, shop_a.shop, creator, 1000, status="approved")
    session.commit()
    # when
    paid = api.post(
        f"/api/v1/payouts/{payout.id}/mark-paid", shop_a, {"external_reference": "ref\u0000"}
    )
    socials = api.patch(
        f"/api/v1/creators/{creator.id}", shop_a, {"social_handles": {"ig\u0000": "x"}}
    )
    # then
    assert paid.status_code == 422
    assert list(paid.get_json()["fields"]) == ["external_reference"]
    assert socials.status_code == 422


def test_errors_before_any_view_runs_are_json_under_the_api(api: Api, shop_a: ShopKey) -> None:
    # when
    missing = api.client.get("/api/v1/no-such-thing")
    wrong_method = api.client.put("/api/v1/creators")
    # then
    assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.get_json()["error"]) == (
        405,
        "method_not_allowed",
    )
    assert "GET" in wrong_method.headers["Allow"]


@pytest.mark.parametrize("db_backend", ["postgresql"])  # SQLite casts anything, refuses nothing
def test_a_value_the_database_refuses_is_a_422_not_a_500(app: Flask, shop_a: ShopKey) -> None:
    # given a view whose write the database refuses (a check the validation layer missed)
    from sqlalchemy import text

    from plugin.db import get_session

    def refused() -> str:
        get_session().execute(text("SELECT CAST(:value AS INTEGER)"), {"value": "not a number"})
        return "unreachable"

    app.add_url_rule("/api/v1/test-refused", "test_refused", refused)
    # when
    response = app.test_client().get("/api/v1/test-refused")
    # then
    assert response.status_code == 422
    assert response.get_json()["error"] == "validation"
