"""OAuth: query HMAC vectors, shop domains, the token endpoint (simulator), session tokens."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from connectors.base import CredentialsRevoked, RetryableConnectorError, TerminalConnectorError
from connectors.shopify import ShopifyConnector
from connectors.shopify.oauth import (
    TokenSet,
    calculate_query_hmac,
    query_hmac_valid,
    timestamp_fresh,
)
from connectors.shopify.session_tokens import InvalidSessionToken, decode_session_token
from connectors.shopify.simulator import ShopifySimulator
from connectors.shopify.urls import ShopifyUrls, valid_shop_domain
from tests.shopify.conftest import API_KEY, API_SECRET, SHOP, connector_config, hmac_vectors

VECTORS = hmac_vectors()
# The published vectors use a 26-byte test secret; PyJWT warns below 32 bytes (Shopify's own
# client secrets are longer).
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.mark.parametrize("vector", VECTORS["shopify_oauth_query_hmac"])
def test_query_hmac_matches_the_published_vectors(vector: dict[str, Any]) -> None:
    # when
    digest = calculate_query_hmac(vector["params"], vector["secret"])
    # then
    assert digest == vector["hmac_hex"]
    assert query_hmac_valid({**vector["params"], "hmac": digest}, [vector["secret"]])


def test_query_hmac_sets_no_process_wide_secret() -> None:
    import shopify

    calculate_query_hmac({"shop": SHOP}, "some-secret")
    assert shopify.Session.secret is None


def test_query_hmac_covers_every_parameter() -> None:
    vector = VECTORS["shopify_oauth_query_hmac"][0]
    signed = {**vector["params"], "hmac": vector["hmac_hex"]}
    assert query_hmac_valid(signed, ["hush"])
    assert not query_hmac_valid(
        {**signed, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXZpbA"}, ["hush"]
    )
    assert not query_hmac_valid({**signed, "shop": "other.myshopify.com"}, ["hush"])
    assert not query_hmac_valid({**signed, "hmac": ""}, ["hush"])
    assert not query_hmac_valid(signed, ["not-hush"])
    assert query_hmac_valid(
        signed, ["new-secret", "hush"]
    )  # rotation: the previous one still works


@pytest.mark.parametrize(
    ("offset", "fresh"), [(0, True), (-299, True), (299, True), (-301, False), (3600, False)]
)
def test_timestamps_outside_five_minutes_are_stale(offset: int, fresh: bool) -> None:
    now = 1_700_000_000
    assert timestamp_fresh(str(now + offset), now=now) is fresh


def test_a_timestamp_that_is_not_a_number_is_stale() -> None:
    assert timestamp_fresh("yesterday") is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jsmith.myshopify.com", "jsmith.myshopify.com"),
        ("JSmith.MyShopify.com", "jsmith.myshopify.com"),
        ("shop-2.myshopify.com", "shop-2.myshopify.com"),
        ("evil.com", None),
        ("x.myshopify.com.evil.com", None),
        ("evil.com/x.myshopify.com", None),
        ("evil.com#.myshopify.com", None),
        ("attacker@jsmith.myshopify.com", None),
        ("jsmith.myshopify.com:8080", None),
        ("https://jsmith.myshopify.com", None),
        ("jsmith", None),
        ("-jsmith.myshopify.com", None),
        ("", None),
        (None, None),
    ],
)
def test_only_canonical_myshopify_domains_are_shops(value: object, expected: str | None) -> None:
    assert valid_shop_domain(value) == expected


def test_urls_never_leave_the_shop_domain() -> None:
    urls = ShopifyUrls("2025-07")
    assert urls.graphql(SHOP) == f"https://{SHOP}/admin/api/2025-07/graphql.json"
    with pytest.raises(ValueError, match="not a shop domain"):
        urls.access_token("x.myshopify.com.evil.com")


def test_the_override_carries_the_shop_in_the_path() -> None:
    urls = ShopifyUrls("2025-07", "http://127.0.0.1:9999/")
    assert urls.authorize(SHOP) == f"http://127.0.0.1:9999/{SHOP}/admin/oauth/authorize"


def test_authorize_url_asks_for_an_offline_token(connector: ShopifyConnector) -> None:
    url = connector.authorize_url(
        SHOP, ["read_orders", "write_discounts"], "https://tastemaker.test/shopify/callback", "n1"
    )
    assert url.endswith(
        f"/{SHOP}/admin/oauth/authorize?client_id={API_KEY}&scope=read_orders%2Cwrite_discounts"
        "&redirect_uri=https%3A%2F%2Ftastemaker.test%2Fshopify%2Fcallback&state=n1"
    )
    assert "grant_options" not in url


# -- the token endpoint, through the simulator ------------------------------------------------


def authorization_code(simulator: ShopifySimulator, shop: str = SHOP) -> str:
    response = requests.get(
        f"{simulator.url}/{shop}/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "redirect_uri": "https://tastemaker.test/shopify/callback",
            "state": "s",
        },
        allow_redirects=False,
        timeout=5,
    )
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def test_code_exchange_returns_an_expiring_offline_token(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given
    code = authorization_code(simulator)
    before = datetime.now(UTC)
    # when
    tokens = connector.exchange_code(SHOP, code)
    # then
    assert tokens.access_token.startswith("shpat_")
    assert tokens.refresh_token is not None
    assert tokens.refresh_token.startswith("shprt_")
    assert tokens.expires_at is not None
    assert (
        before + timedelta(seconds=3599)
        <= tokens.expires_at
        <= datetime.now(UTC) + timedelta(seconds=3600)
    )
    assert tokens.refresh_token_expires_at is not None
    assert [call.kind for call in simulator.calls] == ["authorize", "token:code"]


def test_a_code_works_once(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    code = authorization_code(simulator)
    connector.exchange_code(SHOP, code)
    with pytest.raises(TerminalConnectorError, match="not found or was already used"):
        connector.exchange_code(SHOP, code)


def test_a_code_of_another_shop_is_refused(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    code = authorization_code(simulator, "other-shop.myshopify.com")
    with pytest.raises(TerminalConnectorError):
        connector.exchange_code(SHOP, code)


def test_a_wrong_client_secret_is_terminal(simulator: ShopifySimulator) -> None:
    wrong = ShopifyConnector(connector_config(simulator, shopify_api_secret="wrong"))
    with pytest.raises(TerminalConnectorError, match="invalid_client"):
        wrong.exchange_code(SHOP, authorization_code(simulator))


def test_refresh_returns_a_new_pair(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given stored credentials from an install
    first = TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials()
    # when
    refreshed = connector.refresh_credentials(SHOP, first)
    # then
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert simulator.calls_of("token:refresh") != []


def test_a_revoked_refresh_token_means_reconnect(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    stored = TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials()
    simulator.revoke(SHOP)
    with pytest.raises(CredentialsRevoked, match="invalid_grant"):
        connector.refresh_credentials(SHOP, stored)


def test_an_expired_refresh_token_is_not_even_sent(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    stored = TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials()
    stored["refresh_token_expires_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    with pytest.raises(CredentialsRevoked, match="expired"):
        connector.refresh_credentials(SHOP, stored)
    assert simulator.calls_of("token:refresh") == []


def test_an_unreachable_token_endpoint_is_retryable(simulator: ShopifySimulator) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    offline = ShopifyConnector(connector_config(simulator, shopify_base_url_override=closed))
    with pytest.raises(RetryableConnectorError):
        offline.exchange_code(SHOP, "any")


def test_token_exchange_turns_a_session_token_into_an_offline_token(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    tokens = connector.exchange_session_token(SHOP, simulator.session_token(SHOP))
    assert tokens.access_token.startswith("shpat_")
    assert tokens.refresh_token is not None
    assert simulator.calls_of("token:token_exchange", SHOP) != []


def test_token_exchange_with_another_shops_session_token_is_refused(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="invalid_subject_token"):
        connector.exchange_session_token(SHOP, simulator.session_token("other.myshopify.com"))


# -- session tokens ---------------------------------------------------------------------------


def test_the_published_session_token_decodes_at_its_own_time() -> None:
    # given the computed vector (its exp is in 2023: decode with the clock at issue time)
    vector = VECTORS["shopify_session_token_hs256"]
    # when
    token = decode_session_token(
        vector["jwt"], vector["api_key"], [vector["secret"]], now=vector["claims"]["iat"] + 30
    )
    # then
    assert token.shop == "test-shop.myshopify.com"
    assert token.user_id == "42"
    assert token.session_id == "test-session-id"


def test_the_published_session_token_is_expired_today() -> None:
    vector = VECTORS["shopify_session_token_hs256"]
    with pytest.raises(InvalidSessionToken, match="expired"):
        decode_session_token(vector["jwt"], vector["api_key"], [vector["secret"]])


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": API_KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "jti-1",
        "sid": "sid-1",
        **overrides,
    }


def none_token(body: dict[str, Any]) -> str:
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(body)}."


def signed(body: dict[str, Any], secret: str = API_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(body, secret, algorithm=algorithm)


def without(name: str) -> dict[str, Any]:
    return {key: value for key, value in claims().items() if key != name}


BAD_TOKENS = {
    "alg none": (lambda: none_token(claims()), "algorithm_not_allowed"),
    "HS512": (lambda: signed(claims(), "x" * 64, "HS512"), "algorithm_not_allowed"),
    "expired": (lambda: signed(claims(exp=int(time.time()) - 11)), "expired"),
    "not yet valid": (lambda: signed(claims(nbf=int(time.time()) + 30)), "not_yet_valid"),
    "wrong audience": (lambda: signed(claims(aud="someone-else")), "wrong_audience"),
    "other secret": (lambda: signed(claims(), "another-apps-secret-0123456789"), "bad_signature"),
    "foreign dest": (
        lambda: signed(claims(dest="https://evil.com", iss="https://evil.com/admin")),
        "bad_dest",
    ),
    "lookalike dest": (
        lambda: signed(
            claims(
                dest="https://x.myshopify.com.evil.com",
                iss="https://x.myshopify.com.evil.com/admin",
            )
        ),
        "bad_dest",
    ),
    "http dest": (
        lambda: signed(claims(dest=f"http://{SHOP}", iss=f"http://{SHOP}/admin")),
        "bad_dest",
    ),
    "iss of another shop": (
        lambda: signed(claims(iss="https://other.myshopify.com/admin")),
        "issuer_dest_mismatch",
    ),
    "no sid": (lambda: signed(without("sid")), "missing_sid"),
    "no exp": (lambda: signed(without("exp")), "missing_exp"),
    "garbage": (lambda: "not.a.jwt", "not_a_jwt"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_session_tokens_are_refused(case: str) -> None:
    make, reason = BAD_TOKENS[case]
    with pytest.raises(InvalidSessionToken) as refused:
        decode_session_token(make(), API_KEY, [API_SECRET])
    assert refused.value.reason == reason


def test_leeway_is_ten_seconds() -> None:
    now = int(time.time())
    late = jwt.encode(claims(exp=now - 9), API_SECRET, algorithm="HS256")
    early = jwt.encode(claims(nbf=now + 9), API_SECRET, algorithm="HS256")
    assert decode_session_token(late, API_KEY, [API_SECRET], now=now).shop == SHOP
    assert decode_session_token(early, API_KEY, [API_SECRET], now=now).shop == SHOP


@pytest.mark.parametrize(
    ("changes", "usable"),
    [
        ({}, True),
        ({"expires_at": "2020-01-01T00:00:00+00:00"}, True),  # a refresh still works
        (
            {
                "expires_at": "2020-01-01T00:00:00+00:00",
                "refresh_token_expires_at": "2020-02-01T00:00:00+00:00",
            },
            False,
        ),
        ({"expires_at": "2020-01-01T00:00:00+00:00", "refresh_token": None}, False),
        ({"access_token": None}, False),
        ({"expires_at": None, "refresh_token": None}, True),  # a non-expiring legacy token
    ],
)
def test_credentials_are_usable_while_a_token_or_a_refresh_can_reach_shopify(
    connector: ShopifyConnector, simulator: ShopifySimulator, changes: dict[str, Any], usable: bool
) -> None:
    stored = {**TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials(), **changes}
    assert connector.credentials_usable(stored) is usable


def test_a_replaced_refresh_token_dies_once_its_successor_is_used(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given a refresh whose result nobody has used yet
    stored = TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials()
    refreshed = connector.refresh_credentials(SHOP, stored)
    # then the old refresh token still works (a crash before persisting loses nothing)
    connector.refresh_credentials(SHOP, stored)
    # but once the new access token has been used, the old refresh token is refused
    connector.graphql.execute(SHOP, refreshed["access_token"], "query { shop { name } }")
    with pytest.raises(CredentialsRevoked):
        connector.refresh_credentials(SHOP, stored)
