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


def test_serve_runs_the_app_under_gunicorn(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    env["TASTEMAKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    server = subprocess.Popen(
        [sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b'{"status":"ok"}\n'
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        assert server.stderr is not None
        server.stderr.close()


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
