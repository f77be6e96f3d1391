"""Database engine and sessions: one Database per app, sessions scoped to a context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

EXTENSION_KEY = "tastemaker.db"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self._factory)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def bind_to(self, connection: Connection) -> None:
        """Tests: run every session inside `connection`'s transaction, commits become savepoints."""
        self.session.remove()
        self._factory = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self.session = scoped_session(self._factory)

    def new_session(self) -> Session:
        """A session independent of the scoped one (jobs, threads, concurrency tests)."""
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self.new_session()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def ping(self) -> None:
        self.session().execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.session.remove()
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own BEGIN (pysqlite's own handling breaks SAVEPOINT and transactional DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so two writers wait instead of deadlocking.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask, database: Database | None = None) -> Database:
    db = database or Database(app.config["TASTEMAKER"].database_url)
    app.extensions[EXTENSION_KEY] = db

    @app.teardown_appcontext
    def remove_session(_exc: BaseException | None) -> None:
        db.session.remove()

    return db


def get_db(app: Flask | None = None) -> Database:
    from flask import current_app

    target = app or current_app
    db: Database = target.extensions[EXTENSION_KEY]
    return db


def get_session() -> Session:
    return get_db().session()
