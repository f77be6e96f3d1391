"""Alembic, driven from Python: `tastemaker db upgrade`, the tests and the drift check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from plugin.models import Base

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection=connection), revision)


def drift(connection: Connection) -> list[object]:
    """Differences between the models and the migrated schema; empty when they agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def check() -> int:
    """`alembic check` against a scratch SQLite database migrated to head (used by CI)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.sqlite3'}"
        upgrade(url)
        command.check(alembic_config(url))
    print("migrations match the models")
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["check"]:
        print("usage: python -m plugin.migrate check", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(check())
