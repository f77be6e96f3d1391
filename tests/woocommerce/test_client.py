"""The store client over the real woocommerce.API against the simulated store."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from connectors.base import CredentialsRevoked, RetryableConnectorError, TerminalConnectorError
from connectors.woocommerce.client import Pacer, StoreApiError, StoreClient
from connectors.woocommerce.simulator import SimulatedStore


@pytest.fixture
def client(store: SimulatedStore) -> StoreClient:
    key = store.add_key()
    return StoreClient(store.url, key.consumer_key, key.consumer_secret)


def test_requests_use_basic_auth_and_read_json(store: SimulatedStore, client: StoreClient) -> None:
    # when
    response = client.get("system_status")
    # then
    assert response.status == 200
    assert response.data["settings"]["currency"] == "USD"
    assert store.requests == [("GET", "system_status", "basic")]


def test_query_arguments_go_in_params(store: SimulatedStore, client: StoreClient) -> None:
    store.create_coupon("maya10")
    store.create_coupon("sam15")
    response = client.get("coupons", {"code": "SAM15", "per_page": 5})
    assert [coupon["code"] for coupon in response.data] == ["sam15"]


def test_pagination_headers_are_read(store: SimulatedStore, client: StoreClient) -> None:
    for n in range(5):
        store.create_coupon(f"code{n}")
    response = client.get("coupons", {"per_page": 2, "page": 3})
    assert (response.total, response.total_pages, len(response.data)) == (5, 3, 1)


def test_woocommerce_error_bodies_become_store_api_errors(client: StoreClient) -> None:
    with pytest.raises(StoreApiError) as error:
        client.get("coupons/999999")
    assert (error.value.status, error.value.code, error.value.store_message) == (
        404,
        "woocommerce_rest_shop_coupon_invalid_id",
        "Invalid ID.",
    )


def test_an_invalid_parameter_is_terminal(client: StoreClient) -> None:
    with pytest.raises(StoreApiError) as error:
        client.get("orders", {"per_page": "lots"})
    assert (error.value.status, error.value.code) == (400, "rest_invalid_param")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(
    store: SimulatedStore, client: StoreClient, status: int
) -> None:
    store.fail_next = [status]
    with pytest.raises(RetryableConnectorError, match=f"store answered {status}"):
        client.get("system_status")


def test_throttling_is_retryable_after_the_hosts_delay(
    store: SimulatedStore, client: StoreClient
) -> None:
    store.fail_next = [429]
    with pytest.raises(RetryableConnectorError) as error:
        client.get("system_status")
    assert error.value.retry_after == 7.0


def test_an_unreachable_store_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = StoreClient(f"http://127.0.0.1:{port}", "ck_x", "cs_x")
    with pytest.raises(RetryableConnectorError, match="unreachable"):
        client.get("system_status")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_store_that_does_not_answer_in_time_is_retryable(silent_server: str) -> None:
    client = StoreClient(silent_server, "ck_x", "cs_x", timeout=0.2)
    with pytest.raises(RetryableConnectorError, match="timed out"):
        client.get("system_status")


def test_stripped_authorization_falls_back_to_query_string_auth(
    store: SimulatedStore, client: StoreClient
) -> None:
    # given a host that drops the Authorization header
    store.strip_authorization = True
    # when
    first = client.get("system_status")
    second = client.get("coupons")
    # then the first call retried with the keys in the query string, and later calls start there
    assert (first.status, second.status) == (200, 200)
    assert store.requests == [
        ("GET", "system_status", "none"),
        ("GET", "system_status", "query"),
        ("GET", "coupons", "query"),
    ]
    assert (client.query_string_auth, client.switched_to_query_auth) == (True, True)


def test_a_revoked_key_is_refused_even_in_the_query_string(
    store: SimulatedStore, client: StoreClient
) -> None:
    # given the merchant revoked our key in WooCommerce
    store.revoke_key(client._key)
    # when / then
    with pytest.raises(CredentialsRevoked, match="woocommerce_rest_cannot_view"):
        client.get("system_status")
    assert [mode for _, _, mode in store.requests] == ["basic", "query"]
    assert client.switched_to_query_auth is False


def test_a_wrong_secret_is_refused(store: SimulatedStore) -> None:
    key = store.add_key()
    client = StoreClient(store.url, key.consumer_key, "cs_wrong")
    with pytest.raises(CredentialsRevoked, match="Consumer secret is invalid"):
        client.get("system_status")


def test_a_read_only_key_cannot_write(store: SimulatedStore) -> None:
    key = store.add_key("read")
    client = StoreClient(store.url, key.consumer_key, key.consumer_secret)
    with pytest.raises(CredentialsRevoked, match="does not have write permissions"):
        client.post("coupons", {"code": "x"})


def test_a_store_that_moved_is_not_followed(store: SimulatedStore, client: StoreClient) -> None:
    # given a store that now redirects to its www address (a POST would silently become a GET)
    store.moved_to = "https://www.example.com"
    # when / then
    with pytest.raises(
        TerminalConnectorError, match=r"redirects to https://www\.example\.com/wp-json"
    ):
        client.post("coupons", {"code": "maya10"})
    assert store.coupons == {}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_spaces_requests_to_the_same_store() -> None:
    # given one request per second
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock.time, sleep=clock.sleep)
    # when three requests go to one store at once, and one to another store
    for _ in range(3):
        pacer.wait("https://a.example")
    pacer.wait("https://b.example")
    # then the second and third waited their turn, the other store did not
    assert clock.slept == [1.0, 1.0]


def test_pacer_does_not_wait_after_a_quiet_second() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock.time, sleep=clock.sleep)
    pacer.wait("https://a.example")
    clock.now += 5
    pacer.wait("https://a.example")
    assert clock.slept == []


def test_paced_client_waits_between_requests(store: SimulatedStore) -> None:
    clock = FakeClock()
    key = store.add_key()
    client = StoreClient(
        store.url,
        key.consumer_key,
        key.consumer_secret,
        pacer=Pacer(1.0, clock=clock.time, sleep=clock.sleep),
    )
    client.get("orders")
    client.get("orders")
    assert clock.slept == [1.0]
