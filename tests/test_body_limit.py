"""A client sending a webhook body just over the limit reads a 413, not a connection reset.

Against gunicorn on a real socket: the Flask test client cannot show a reset.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LIMIT = 1_000_000  # the default: bodies just over it outgrow the socket buffers


@pytest.fixture
def server_port(tmp_path: Path) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    env["TASTEMAKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'limit.sqlite3'}"
    env["TASTEMAKER_WEBHOOK_MAX_BYTES"] = str(LIMIT)
    env["TASTEMAKER_INSTANCE_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "plugin.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def _post_slowly(port: int, size: int) -> bytes:
    body = b"x" * size
    head = (
        f"POST /webhooks/sandbox HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        time.sleep(0.2)  # the server has the headers (and the length) before any of the body
        for start in range(0, size, 16_384):
            connection.sendall(body[start : start + 16_384])
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65_536):
            answer += chunk
    return answer


def test_a_body_just_over_the_limit_gets_a_413(server_port: int) -> None:
    # when a platform sends a body 50% over the limit, five times
    answers = [_post_slowly(server_port, LIMIT * 3 // 2) for _ in range(5)]
    # then every time it reads the 413 (no reset, no empty answer)
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [
        b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"
    ] * 5
    assert all(b'"error":"body_too_large"' in answer for answer in answers)
