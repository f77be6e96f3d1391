"""What a merchant may enter as a store address, and where the API is reached."""

from __future__ import annotations

import pytest

from connectors.woocommerce.stores import InvalidStoreUrl, normalize_store_url, store_base_url

SIMULATOR = "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("shop.example.com", "shop.example.com"),
        ("https://Shop.Example.com/", "shop.example.com"),
        ("  https://shop.example.com  ", "shop.example.com"),
        ("https://shop.example.com:443", "shop.example.com"),
        ("https://bücher.example", "xn--bcher-kva.example"),
        (SIMULATOR, "127.0.0.1:8123"),
        (SIMULATOR + "/", "127.0.0.1:8123"),
    ],
)
def test_plain_https_origins_and_the_override_are_accepted(raw: str, domain: str) -> None:
    assert normalize_store_url(raw, override_url=SIMULATOR) == domain


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "enter your store's address"),
        ("http://shop.example.com", "https"),
        ("ftp://shop.example.com", "https"),
        ("https://shop.example.com/shop", "without a path"),
        ("https://shop.example.com/?a=1", "without anything after it"),
        ("https://user:pw@shop.example.com", "without anything after it"),
        ("https://shop.example.com:8443", "standard https port"),
        ("https://10.0.0.7", "not an IP address"),
        ("https://[::1]", "not an IP address"),
        ("https://localhost", "not a valid public domain"),
        ("https://intranet", "not a valid public domain"),
        ("https://shop_example.com", "not a valid public domain"),
        ("https://shop.local", "not reachable from the internet"),
        ("http://127.0.0.1:8123", "https"),  # the simulator, but no override configured
        ("https://shop.example.com:99999", "not a valid web address"),
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(InvalidStoreUrl, match=message):
        normalize_store_url(raw)


def test_the_api_is_on_the_store_origin_except_for_the_override() -> None:
    assert store_base_url("shop.example.com", SIMULATOR) == "https://shop.example.com"
    assert store_base_url("127.0.0.1:8123", SIMULATOR + "/") == SIMULATOR
    assert store_base_url("shop.example.com", None) == "https://shop.example.com"
