"""The `tastemaker` command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from plugin.cli import main


def test_unknown_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "usage: tastemaker" in capsys.readouterr().err


def test_unknown_option_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--colour", "blue"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --colour blue" in capsys.readouterr().err


def test_invalid_configuration_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TASTEMAKER_ENV", "production")
    monkeypatch.delenv("TASTEMAKER_SECRET_KEY", raising=False)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "tastemaker: configuration error: "
        "TASTEMAKER_SECRET_KEY is required when TASTEMAKER_ENV=production\n"
    )


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("TASTEMAKER_DATABASE_URL", f"sqlite:///{database}")
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"shops", "orders", "ledger_entries", "webhook_events", "alembic_version"} <= tables


def test_worker_without_redis_explains_the_embedded_mode(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TASTEMAKER_REDIS_URL", raising=False)
    assert main(["worker", "--burst"]) == 2
    assert "needs TASTEMAKER_REDIS_URL" in capsys.readouterr().out


def test_worker_fork_option_reaches_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # given (the boundary: the RQ worker itself is exercised in tests/chaos)
    from unittest import mock

    import workers.rq_worker

    run = mock.create_autospec(workers.rq_worker.run_worker, return_value=0)
    monkeypatch.setattr(workers.rq_worker, "run_worker", run)
    # when
    assert main(["worker", "--fork", "--queues", "webhooks,codes"]) == 0
    # then
    run.assert_called_once_with(["webhooks", "codes"], burst=False, fork=True)
