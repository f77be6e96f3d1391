"""The simulated store's REST API (/wp-json/wc/v3/...): auth, routing and WooCommerce's errors.

Errors are WordPress REST errors exactly: `{"code", "message", "data": {"status"}}`. Auth follows
`WC_REST_Authentication` over https: Basic credentials, else `consumer_key`/`consumer_secret` in
the query string; an unknown (revoked) key leaves the request anonymous, so the endpoint's own
permission check answers 401.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.woocommerce.simulator.store import SimulatedStore

API_PREFIX = "/wp-json/wc/v3/"


@dataclass
class ApiRequest:
    method: str
    path: str  # after API_PREFIX, no trailing slash
    query: Mapping[str, str]
    json: Any
    basic: tuple[str, str] | None


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class RestError(Exception):
    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.response = ApiResponse(
            status, {"code": code, "message": message, "data": {"status": status, **data}}
        )


def not_allowed(method: str, resource_is_item: bool) -> RestError:
    code, message = {
        "GET": (
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot view this resource."
            if resource_is_item
            else "Sorry, you cannot list resources.",
        ),
        "POST": (
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        ),
        "PUT": (
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        ),
        "DELETE": (
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        ),
    }[method]
    return RestError(401, code, message)


def invalid_id(resource: str) -> RestError:
    code = {
        "coupons": "woocommerce_rest_shop_coupon_invalid_id",
        "webhooks": "woocommerce_rest_webhook_invalid_id",
        "orders": "woocommerce_rest_shop_order_invalid_id",
    }[resource]
    return RestError(404, code, "Invalid ID.")


def missing_params(*names: str) -> RestError:
    return RestError(
        400,
        "rest_missing_callback_param",
        f"Missing parameter(s): {', '.join(names)}",
        params=list(names),
    )


def invalid_param(name: str, reason: str) -> RestError:
    return RestError(
        400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason}
    )


_ROUTE = re.compile(r"^(system_status|coupons|webhooks|orders)(?:/(\d+))?$")
Handler = Callable[["SimulatedStore", ApiRequest, int | None], ApiResponse]


def dispatch(store: SimulatedStore, request: ApiRequest) -> ApiResponse:
    try:
        return _dispatch(store, request)
    except RestError as exc:
        return exc.response


def _dispatch(store: SimulatedStore, request: ApiRequest) -> ApiResponse:
    match = _ROUTE.match(request.path)
    handler = _ROUTES.get((match.group(1), bool(match.group(2)), request.method)) if match else None
    if match is None or handler is None:
        raise RestError(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )
    item_id = int(match.group(2)) if match.group(2) else None
    _authenticate(store, request, is_item=item_id is not None)
    return handler(store, request, item_id)


def _authenticate(store: SimulatedStore, request: ApiRequest, *, is_item: bool) -> None:
    key, secret = request.basic or ("", "")
    if not key:
        key = request.query.get("consumer_key", "")
        secret = request.query.get("consumer_secret", "")
    api_key = store.keys.get(key) if key and secret else None
    if api_key is None:
        raise not_allowed(request.method, is_item)
    if not hmac.compare_digest(api_key.consumer_secret, secret):
        raise RestError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
    if request.method != "GET" and api_key.permissions == "read":
        raise RestError(
            401,
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
        )


def paginate(request: ApiRequest, rows: list[dict[str, Any]]) -> ApiResponse:
    per_page = _int_param(request, "per_page", 10, low=1, high=100)
    page = _int_param(request, "page", 1, low=1, high=None)
    total_pages = max(math.ceil(len(rows) / per_page), 1) if rows else 0
    if page > 1 and page > total_pages:
        raise RestError(
            400,
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        )
    chunk = rows[(page - 1) * per_page : page * per_page]
    headers = {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(total_pages)}
    return ApiResponse(200, chunk, headers)


def _int_param(request: ApiRequest, name: str, default: int, *, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        bound = (
            f"between {low} ({low} included) and {high} ({high} included)"
            if high
            else (f"at least {low}")
        )
        raise invalid_param(name, f"{name} must be {bound}")
    return value


def _system_status(store: SimulatedStore, request: ApiRequest, _id: int | None) -> ApiResponse:
    return ApiResponse(200, store.system_status())


def _list(resource: str) -> Handler:
    def handle(store: SimulatedStore, request: ApiRequest, _id: int | None) -> ApiResponse:
        return paginate(request, store.list_resource(resource, request.query))

    return handle


def _create(resource: str) -> Handler:
    def handle(store: SimulatedStore, request: ApiRequest, _id: int | None) -> ApiResponse:
        return ApiResponse(201, store.create_resource(resource, _object_body(request)))

    return handle


def _read(resource: str) -> Handler:
    def handle(store: SimulatedStore, request: ApiRequest, item_id: int | None) -> ApiResponse:
        return ApiResponse(200, store.get_resource(resource, int(item_id or 0)))

    return handle


def _update(resource: str) -> Handler:
    def handle(store: SimulatedStore, request: ApiRequest, item_id: int | None) -> ApiResponse:
        body = _object_body(request)
        return ApiResponse(200, store.update_resource(resource, int(item_id or 0), body))

    return handle


def _delete(resource: str) -> Handler:
    def handle(store: SimulatedStore, request: ApiRequest, item_id: int | None) -> ApiResponse:
        force = request.query.get("force", "").lower() in ("true", "1")
        return ApiResponse(200, store.delete_resource(resource, int(item_id or 0), force=force))

    return handle


def _object_body(request: ApiRequest) -> dict[str, Any]:
    if request.json is None:
        return {}
    if not isinstance(request.json, dict):
        raise RestError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return request.json


_ROUTES: dict[tuple[str, bool, str], Handler] = {
    ("system_status", False, "GET"): _system_status,
    **{(name, False, "GET"): _list(name) for name in ("coupons", "webhooks", "orders")},
    **{(name, False, "POST"): _create(name) for name in ("coupons", "webhooks")},
    **{(name, True, "GET"): _read(name) for name in ("coupons", "webhooks", "orders")},
    **{(name, True, "PUT"): _update(name) for name in ("coupons", "webhooks")},
    **{(name, True, "DELETE"): _delete(name) for name in ("coupons", "webhooks")},
}
