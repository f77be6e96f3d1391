"""Shared fixtures: real PostgreSQL and Redis, SQLite as the embedded default.

Database tests run on both backends (the `db_backend` parameter). Each test runs inside an outer
transaction that is rolled back; the app's commits become savepoints. Queue tests use a dedicated
Redis database flushed per test and run jobs with RQ's SimpleWorker in burst mode.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from plugin import create_app
from plugin.db import get_db, make_engine
from plugin.migrate import upgrade_connection
from plugin.settings import Settings
from workers.backends import InProcessBackend
from workers.runtime import _run_in_app, get_backend

POSTGRES_URL = os.environ.get(
    "TASTEMAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TASTEMAKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

START_HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def _require_service(name: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.exit(
            f"{name} is not reachable at {host}:{port} ({exc}); start it with: {START_HINTS[name]}",
            returncode=3,
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    _require_service("PostgreSQL", "127.0.0.1", 5432)
    _require_service("Redis", "127.0.0.1", 6379)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A private schema in the `test` database, migrated by Alembic, dropped at the end."""
    schema = f"tm_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL)
    engine.update_execution_options()

    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    with engine.begin() as connection:
        upgrade_connection(connection)
    engine.info_schema = schema  # type: ignore[attr-defined]
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'test.sqlite3'}")
        with engine.begin() as connection:
            upgrade_connection(connection)
        yield engine
        engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(db_backend: str, request: pytest.FixtureRequest) -> Engine:
    name = "postgres_engine" if db_backend == "postgresql" else "sqlite_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        env="test",
        database_url="sqlite://",
        secret_key="test-secret-key",
        public_url="https://tastemaker.test",
        shopify_api_key="test-shopify-api-key",
        shopify_api_secret="test-shopify-client-secret",
        spool_dir=tmp_path / "spool",
        media_dir=tmp_path / "media",
    )
    return base.with_overrides(**overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Iterator[Flask]:
    """The app bound to the test's rolled-back transaction, jobs run by `run_jobs()`."""
    application = create_app(settings.with_overrides(database_url=str(connection.engine.url)))
    application.config["TESTING"] = True
    get_db(application).bind_to(connection)
    from workers import runtime

    runtime.init_app(
        application,
        InProcessBackend(lambda spec, args: _run_in_app(application, spec, args), threaded=False),
    )
    with application.app_context():
        yield application
    get_db(application).session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Session:
    return get_db(app).session()


@pytest.fixture
def run_jobs(app: Flask) -> Any:
    """Run every job enqueued so far (like RQ's burst worker); returns how many ran."""

    def run() -> int:
        backend = get_backend(app)
        assert isinstance(backend, InProcessBackend)
        return backend.drain()

    return run


@pytest.fixture
def redis_connection() -> Iterator[Any]:
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture(autouse=True)
def _no_replayer_left_behind() -> Iterator[None]:
    """A test that spooled a delivery started the process's replayer thread: stop it with the
    test, so no thread outlives the test (and logs into closed streams after the session)."""
    yield
    from plugin.ingest.replayer import THREAD_NAME, stop_replayers

    stop_replayers()
    import threading

    assert [t.name for t in threading.enumerate() if t.name == THREAD_NAME] == []


def _hypothesis_profiles() -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


_hypothesis_profiles()
