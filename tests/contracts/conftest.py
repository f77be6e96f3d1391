"""The admin tests' shops, keys and OpenAPI-checking API client, for the contract tests."""

from tests.admin.conftest import Api, ShopKey, api, shop_a, shop_b

__all__ = ["Api", "ShopKey", "api", "shop_a", "shop_b"]
