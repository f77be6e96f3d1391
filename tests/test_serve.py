"""`tastemaker serve` under granian: it answers, reloads on SIGHUP without refusing a connection,
and every background thread the app starts runs in its worker processes.

Each test starts the real command (granian worker processes importing `plugin.wsgi:app`) on a
free port and talks HTTP to it; PostgreSQL sits behind a small TCP proxy the test can cut, so
"the database is down" is a real refused connection.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from connectors.sandbox import signing
from connectors.sandbox.store import WEBHOOK_PATH
from plugin.crypto import CredentialBox
from plugin.db import make_engine
from plugin.migrate import upgrade
from plugin.models import Click, Creator, ReferralLink, WebhookEvent
from plugin.serve import (
    PER_WORKER,
    SHARED,
    detach_listener,
    listening_descriptors,
    migrate_req_enabled,
)
from plugin.services.links import create_link
from plugin.services.shops import create_or_reinstall_shop

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET_KEY = "serve-test-secret-" + secrets.token_hex(4)
WEBHOOK_SECRET = "whsec-serve-0123456789"
SHOP_DOMAIN = "serve.sandbox.test"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class TcpProxy:
    """Forwards 127.0.0.1:port to an upstream port; `cut()` refuses and drops every connection."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would leave it listening
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class Server:
    def __init__(self, env: dict[str, str], *flags: str) -> None:
        self.port = _free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
        self._log = open(os.environ.get("SERVE_LOG", os.devnull), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plugin.cli", "serve", "--port", str(self.port), *flags],
            env={**base, "TASTEMAKER_LOG_LEVEL": "WARNING", **env},
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "tastemaker serve exited"
            with suppress(OSError):
                if self.request("GET", "/healthz")[0] == 200:
                    return
            time.sleep(0.1)
        raise AssertionError("tastemaker serve did not answer /healthz")

    def workers(self) -> set[int]:
        """pids of granian's worker processes (children of the server)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def stop(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


def _eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f}s: {what}")


@pytest.fixture(
    params=[
        SHARED,
        pytest.param(
            PER_WORKER,
            marks=pytest.mark.skipif(
                not migrate_req_enabled(),
                reason="a listener per worker is lossless only with net.ipv4.tcp_migrate_req=1",
            ),
        ),
    ]
)
def sqlite_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = Server(
        {"TASTEMAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"},
        "--workers",
        "2",
        "--listeners",
        request.param,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_serve_runs_the_app_under_granian(sqlite_server: Server) -> None:
    assert sqlite_server.request("GET", "/healthz") == (200, b'{"status":"ok"}\n')
    assert len(sqlite_server.workers()) == 2
    # the workers are granian's: its Rust extension is loaded in each of them
    for pid in sqlite_server.workers():
        assert "granian/_granian" in Path(f"/proc/{pid}/maps").read_text()


def test_reload_on_sighup_refuses_no_connection(sqlite_server: Server) -> None:
    # given clients opening a new connection for every request, for the whole reload
    before = sqlite_server.workers()
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                outcome = str(sqlite_server.request("GET", "/healthz")[0])
            except OSError as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        # when the server is told to reload (a deploy)
        os.kill(sqlite_server.process.pid, signal.SIGHUP)
        # then every worker is replaced ...
        _eventually(
            lambda: len(sqlite_server.workers()) == 2 and not sqlite_server.workers() & before,
            150,
            "both workers replaced",
        )
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # ... and every request of the whole time got its answer
    assert set(outcomes) == {"200"}, outcomes
    assert outcomes["200"] > 100


def test_idle_keep_alive_connections_leave_room_for_new_ones(tmp_path: Path) -> None:
    # given one worker with 2 request threads, and a browser holding 6 keep-alive connections
    server = Server(
        {"TASTEMAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"},
        "--workers",
        "1",
        "--threads",
        "2",
    )
    held: list[http.client.HTTPConnection] = []
    try:
        server.wait_ready()
        for _ in range(6):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            held.append(connection)  # open and idle, as a browser keeps it
        # when another client opens a new connection
        status, _ = server.request("GET", "/healthz")
        # then it is answered (it waited for an idle connection to close, before the fix)
        assert status == 200
    finally:
        for connection in held:
            connection.close()
        server.stop()


def test_a_detached_listener_takes_nothing_and_the_shared_queue_keeps_it() -> None:
    # given one listening socket, and a second descriptor of it as a worker process holds one
    shared = socket.socket()
    shared.bind(("127.0.0.1", 0))
    shared.listen(8)
    shared.setblocking(False)
    workers_copy = os.dup(shared.fileno())
    try:
        port = shared.getsockname()[1]
        assert set(listening_descriptors(port)) == {shared.fileno(), workers_copy}
        # when the worker's descriptor is detached (a reload stops that worker accepting)
        detach_listener(workers_copy)
        assert listening_descriptors(port) == [shared.fileno()]
        client = socket.create_connection(shared.getsockname(), timeout=5)
        time.sleep(0.1)
        # then the worker's descriptor takes no connection ...
        seen_by_the_worker = socket.socket(fileno=os.dup(workers_copy))
        with seen_by_the_worker, pytest.raises(BlockingIOError):
            seen_by_the_worker.accept()
        # ... and the connection waits in the shared queue for another worker
        accepted, _ = shared.accept()
        accepted.close()
        client.close()
    finally:
        os.close(workers_copy)
        shared.close()


SLOW_APP = """
import time
time.sleep(float(__import__("os").environ["LOAD_SECONDS"]))

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_a_stop_while_a_worker_loads_the_app_ends_it_at_once(tmp_path: Path) -> None:
    # given a server whose worker is still loading a slow app
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "plugin.serve", "slow_app:app", "--port", str(port), "--workers=1"],
        env={**os.environ, "PYTHONPATH": str(tmp_path), "LOAD_SECONDS": "4"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        assert process.poll() is None
        # when it is told to stop
        process.send_signal(signal.SIGTERM)
        # then the worker ends with it, instead of serving on until the 30 s graceful timeout
        assert process.wait(timeout=15) is not None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def database() -> Iterator[str]:
    schema = f"tm_serve_{secrets.token_hex(4)}"
    admin = make_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _seed(url: str, encryption_key: str) -> str:
    engine = make_engine(url)
    box = CredentialBox(encryption_key, fallback_secret=SECRET_KEY)
    with Session(engine) as session, session.begin():
        shop = create_or_reinstall_shop(
            session,
            box,
            platform="sandbox",
            domain=SHOP_DOMAIN,
            credentials={"webhook_secret": WEBHOOK_SECRET},
        )
        creator = Creator(shop_id=shop.id, handle="threads")
        session.add(creator)
        session.flush()
        slug = create_link(session, shop.id, creator.id, target_path="/products/mug").slug
    engine.dispose()
    return slug


def test_background_threads_run_under_the_server(database: str, tmp_path: Path) -> None:
    """Embedded mode: the click flusher, the link cache refresh and the webhook spool replayer."""
    proxy = TcpProxy(5432)
    proxy.start()
    options = f"?options=-csearch_path%3D{database}"
    direct_url = POSTGRES + options
    upgrade(direct_url)
    encryption_key = Fernet.generate_key().decode()
    slug = _seed(direct_url, encryption_key)
    server = Server(
        {
            "TASTEMAKER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
            + options,
            "TASTEMAKER_SECRET_KEY": SECRET_KEY,
            "TASTEMAKER_ENCRYPTION_KEY": encryption_key,
            "TASTEMAKER_SPOOL_DIR": str(tmp_path / "spool"),
            "TASTEMAKER_LINK_CACHE_SECONDS": "1",
        },
        "--workers",
        "1",
    )
    engine = make_engine(direct_url)
    try:
        server.wait_ready()

        def count(model: type[Click] | type[WebhookEvent]) -> int:
            with Session(engine) as session:
                return int(session.scalar(select(func.count()).select_from(model)) or 0)

        # click flusher: a counted click reaches the database with no request after it
        status, _ = server.request("GET", f"/r/{slug}", headers={"User-Agent": BROWSER})
        assert status == 302
        _eventually(lambda: count(Click) == 1, 60, "the click flusher stored the click")

        # link cache refresh: after the link is switched off, the stale entry is served once and
        # refreshed in the background, and then the link answers 404
        with Session(engine) as session, session.begin():
            session.execute(update(ReferralLink).values(active=False))
        time.sleep(1.2)

        def link_gone() -> bool:
            return server.request("GET", f"/r/{slug}", headers={"User-Agent": BROWSER})[0] == 404

        _eventually(link_gone, 30, "the refresh thread reloaded the switched-off link")

        # webhook spool replayer: a delivery spooled while the database is down is recorded
        # once it is back, with no further request
        proxy.cut()
        body = b'{"id": 4242, "total_price": "10.00", "currency": "EUR"}'
        headers = {
            "Content-Type": "application/json",
            signing.TOPIC_HEADER: "orders/create",
            signing.SHOP_HEADER: SHOP_DOMAIN,
            signing.EVENT_ID_HEADER: str(uuid.uuid4()),
            signing.SIGNATURE_HEADER: signing.sign(body, WEBHOOK_SECRET),
        }
        status, answer = server.request("POST", WEBHOOK_PATH, body, headers)
        assert (status, answer) == (202, b'{"status":"spooled"}\n')
        assert count(WebhookEvent) == 0
        proxy.start()
        _eventually(lambda: count(WebhookEvent) == 1, 90, "the replayer recorded the delivery")
    finally:
        server.stop()
        proxy.cut()
        engine.dispose()
