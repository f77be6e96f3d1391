"""The foundation: settings, health, migrations, tenancy, the job runtime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.orm import Session

from plugin.migrate import drift
from plugin.models import Base, Creator, Shop
from plugin.settings import ConfigurationError, load_settings
from plugin.tenancy import CrossTenantWrite, Tenant


def make_shop(session: Session, domain: str, platform: str = "sandbox") -> Shop:
    shop = Shop(platform=platform, domain=domain, public_key=f"pk_{domain}", currency="USD")
    session.add(shop)
    session.flush()
    return shop


def test_healthz_answers_ok(client: FlaskClient) -> None:
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_database_and_in_process_queue(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "queue": "in-process"}


def test_readyz_names_unreachable_redis(tmp_path: object) -> None:
    # given an app whose Redis URL points at a closed port
    from plugin import create_app
    from tests.conftest import make_settings

    app = create_app(
        make_settings(tmp_path, database_url="sqlite://", redis_url="redis://127.0.0.1:1/0")  # type: ignore[arg-type]
    )
    # when
    response = app.test_client().get("/readyz")
    # then
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["redis"]


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        assert drift(connection) == []


def _keys(table: Table) -> list[tuple[str, ...]]:
    """The column lists of the table's indexes, unique keys and primary key."""
    keys = [tuple(column.name for column in index.columns) for index in table.indexes]
    return keys + [
        tuple(column.name for column in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint)
    ]


def test_every_foreign_key_is_the_leading_columns_of_an_index() -> None:
    """Deleting a parent row makes the database look for its children by the key's columns (to
    cascade, set null, or refuse): without an index led by them, every deleted parent scans the
    whole child table, every tenant's rows included. Erasing a shop deletes its creators and
    links one by one, so that was links x clicks rows read (measured: 1.9 s for 200 links and
    200k clicks, ten times the 50-link figure)."""
    unindexed = []
    for table in Base.metadata.sorted_tables:
        keys = _keys(table)
        for foreign_key in table.foreign_key_constraints:
            columns = {column.name for column in foreign_key.columns}
            # A column holding the parent's whole primary key finds that parent's rows alone.
            narrowing = [
                {element.parent.name}
                for element in foreign_key.elements
                if list(element.column.table.primary_key.columns) == [element.column]
            ]
            wanted = [columns, *narrowing]
            if not any(set(key[: len(one)]) == one for key in keys for one in wanted):
                unindexed.append(f"{table.name}({', '.join(sorted(columns))})")
    assert unindexed == []


def test_no_index_is_the_leading_columns_of_another() -> None:
    """A B-tree index led by another's columns serves every lookup the shorter one does, so the
    shorter one only costs each insert a write (the tenant column's index, on tables whose
    tenant lookups an index or unique key led by shop_id already serves)."""
    redundant = []
    for table in Base.metadata.sorted_tables:
        keys = _keys(table)
        for index in table.indexes:
            if index.unique:
                continue  # it enforces something besides serving lookups
            columns = tuple(column.name for column in index.columns)
            if any(len(key) > len(columns) and key[: len(columns)] == columns for key in keys):
                redundant.append(f"{table.name}.{index.name}")
    assert redundant == []


def test_production_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ConfigurationError, match="TASTEMAKER_SECRET_KEY is required"):
        load_settings({"TASTEMAKER_ENV": "production"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"TASTEMAKER_WEBHOOK_MAX_BYTES": "lots"},
            "TASTEMAKER_WEBHOOK_MAX_BYTES must be an integer",
        ),
        ({"TASTEMAKER_REDIS_URL": "http://x"}, "TASTEMAKER_REDIS_URL must be a URL"),
        ({"TASTEMAKER_DATABASE_URL": "mysql://x"}, "TASTEMAKER_DATABASE_URL must be a sqlite"),
        ({"TASTEMAKER_ENV": "staging"}, "TASTEMAKER_ENV must be"),
    ],
)
def test_invalid_configuration_is_a_one_line_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        load_settings(environ)
    assert "\n" not in str(error.value)


def test_timestamps_are_timezone_aware_utc(session: Session) -> None:
    shop = make_shop(session, "aware.example")
    session.commit()
    session.expire_all()
    reloaded = session.get(Shop, shop.id)
    assert reloaded is not None
    assert reloaded.created_at.tzinfo is not None
    assert reloaded.created_at.utcoffset() == UTC.utcoffset(None)


def test_naive_datetimes_are_refused(session: Session) -> None:
    shop = make_shop(session, "naive.example")
    shop.last_synced_at = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime refused"):
        session.flush()


def test_a_shop_cannot_read_or_change_another_shops_rows(session: Session) -> None:
    # given two shops, each with a creator
    alpha, beta = make_shop(session, "alpha.example"), make_shop(session, "beta.example")
    alpha_tenant, beta_tenant = Tenant(session, alpha.id), Tenant(session, beta.id)
    alpha_creator = alpha_tenant.add(Creator(handle="ava"))
    beta_tenant.add(Creator(handle="ben"))
    session.flush()
    # then reads through one tenant never see the other's rows
    assert [c.handle for c in alpha_tenant.all(Creator)] == ["ava"]
    assert [c.handle for c in beta_tenant.all(Creator)] == ["ben"]
    assert beta_tenant.get(Creator, alpha_creator.id) is None
    # and a write of another shop's row through the wrong tenant is refused
    with pytest.raises(CrossTenantWrite):
        beta_tenant.add(alpha_creator)
