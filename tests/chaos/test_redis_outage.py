"""Chaos, bounded: Redis stops under a stream of signed webhooks and comes back.

Real parts only: a throwaway `redis-server` on a free port (never the shared one), two
`tastemaker worker` processes, PostgreSQL in a private schema, the app answering signed sandbox
deliveries. While Redis is down the app still answers 200 and keeps each event in the database;
the workers must stay up, reconnect on their own and drain everything, each order exactly once,
without `tastemaker sweep` or cron.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select, text

from connectors.sandbox.store import Item, SandboxStore
from plugin import create_app
from plugin.db import get_db, make_engine
from plugin.migrate import upgrade_connection
from plugin.models import Order, WebhookEvent
from tests.conftest import POSTGRES_URL, make_settings
from tests.ingest.conftest import client_transport, make_sandbox_shop

ORDERS = 90  # a third before, during and after the outage
DEADLINE_SECONDS = 90
WORKER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayRedis:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # an outage, not a clean shutdown: what it held is lost
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/system-deps installs it)")
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_url() -> Iterator[str]:
    schema = f"tm_chaos_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_connection(connection)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "plugin.cli", "worker", "--queues", "webhooks"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _wait_for_workers(redis_url: str, count: int, logs: list[Path]) -> None:
    connection = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while Worker.count(connection=connection) < count:
            if time.monotonic() > deadline:
                raise AssertionError([log.read_text()[-2000:] for log in logs])
            time.sleep(0.1)
    finally:
        connection.close()


def test_workers_survive_a_redis_outage_and_process_every_event_once(
    tmp_path: Path, redis_server: ThrowawayRedis, database_url: str
) -> None:
    # given the app and two workers on the same database and the throwaway Redis
    settings = make_settings(tmp_path, database_url=database_url, redis_url=redis_server.url)
    app = create_app(settings)
    env = {
        **os.environ,
        "TASTEMAKER_ENV": "test",
        "TASTEMAKER_DATABASE_URL": database_url,
        "TASTEMAKER_REDIS_URL": redis_server.url,
        "TASTEMAKER_SECRET_KEY": settings.secret_key,
        "TASTEMAKER_PUBLIC_URL": settings.public_url,
        "TASTEMAKER_INSTANCE_DIR": str(tmp_path),
        "TASTEMAKER_LOG_LEVEL": "WARNING",
    }
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    workers = [_start_worker(env, log) for log in logs]
    try:
        # (both listening before the stream starts: on a slow machine a worker still loading
        # when Redis comes back has seen no outage, so nothing asks it to drain what waited)
        _wait_for_workers(redis_server.url, len(workers), logs)
        with app.app_context():
            session = get_db(app).session()
            shop = make_sandbox_shop(session, app, "chaos.sandbox.test", "whsec-chaos")
            store = SandboxStore(
                domain=shop.domain,
                webhook_secret="whsec-chaos",
                transport=client_transport(app.test_client()),
            )
            statuses = []
            # when a stream of orders arrives, Redis dying a third of the way in and coming
            # back only after the last one (so no new delivery asks for a drain then)
            for n in range(ORDERS):
                if n == ORDERS // 3:
                    time.sleep(1)  # the workers are idle, waiting on Redis
                    redis_server.stop()
                store.place_order([Item(1, 1, "Serum", 1_000 + n, 1)])
                statuses.append(store.deliveries[-1].status)
            time.sleep(2)
            redis_server.start()
            # then every delivery was accepted
            assert set(statuses) == {200}
            deadline = time.monotonic() + DEADLINE_SECONDS
            pending = None
            while time.monotonic() < deadline:
                session.rollback()
                pending = session.scalar(
                    select(func.count(WebhookEvent.id)).where(WebhookEvent.status == "pending")
                )
                if pending == 0:
                    break
                time.sleep(0.5)
            # and everything was processed, exactly once, while both workers stayed up
            assert pending == 0, [log.read_text()[-2000:] for log in logs]
            assert [worker.poll() for worker in workers] == [None, None]
            rows = session.execute(
                select(WebhookEvent.status, WebhookEvent.attempts, func.count()).group_by(
                    WebhookEvent.status, WebhookEvent.attempts
                )
            ).all()
            assert [tuple(row) for row in rows] == [("processed", 1, len(store.deliveries))]
            assert session.scalar(select(func.count(Order.id))) == ORDERS
            session.rollback()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=30) for worker in workers]
        get_db(app).engine.dispose()
    # and they stop cleanly when asked
    assert codes == [0, 0]
