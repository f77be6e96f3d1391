"""Benchmark plumbing: a scratch PostgreSQL schema, granian and gunicorn servers, a bare baseline
app, and an open-loop HTTP load generator.

Open loop means requests leave on a fixed schedule whether or not earlier ones finished, and each
latency is measured from its scheduled send time, so a slow server cannot hide its queueing
delay by slowing the client down (no coordinated omission).
"""

from __future__ import annotations

import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, request

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_schema(prefix: str = "tm_bench") -> Iterator[str]:
    """A private schema migrated by Alembic, dropped afterwards; yields a URL that uses it."""
    import secrets

    from sqlalchemy import text

    from plugin.db import make_engine
    from plugin.migrate import upgrade

    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bare_app() -> Flask:
    """The baseline: one route that reads the body and answers 200, nothing else."""
    app = Flask(__name__)

    @app.post("/webhooks/<platform>")
    def receive(platform: str) -> tuple[str, int]:
        request.get_data()
        return "", 200

    return app


def free_port() -> int:
    """A free local port: from TASTEMAKER_BENCH_PORTS ("18300-18399") when set, else any."""
    first, _, last = os.environ.get("TASTEMAKER_BENCH_PORTS", "0-0").partition("-")
    for candidate in range(int(first), int(last or first) + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free port in TASTEMAKER_BENCH_PORTS")


_handed_out: set[int] = set()


@contextmanager
def granian(
    app_path: str,
    *,
    workers: int,
    threads: int = 4,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """Serve the WSGI app at `app_path` as `tastemaker serve` does (plugin.serve: granian)."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "plugin.serve",
        app_path,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "4096",
        "--log-level",
        "warning",
    ]
    with _serving(command, port, env) as server:
        yield server


SERVERS = ("granian", "gunicorn")


def serve(
    kind: str,
    app_path: str,
    *,
    workers: int,
    env: dict[str, str] | None = None,
    threads: int = 1,
) -> AbstractContextManager[Server]:
    """`app_path` under granian (what `tastemaker serve` runs) or gunicorn (the server before it,
    sync workers, gthread with `threads` > 1), for before/after comparisons."""
    if kind == "granian":
        return granian(app_path, workers=workers, env=env, threads=max(threads, 4))
    extra = ("--worker-class", "gthread", "--threads", str(threads)) if threads > 1 else ()
    return gunicorn(app_path, workers=workers, env=env, extra=extra)


@dataclass(frozen=True)
class Server:
    port: int
    process: subprocess.Popen[bytes]


@contextmanager
def gunicorn(
    app_path: str, *, workers: int, env: dict[str, str] | None = None, extra: Sequence[str] = ()
) -> Iterator[Server]:
    """Run `gunicorn app_path` on a free port until the block ends (stopped by its own pid)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--backlog",
        "4096",
        "--log-level",
        "warning",
        *extra,
        app_path,
    ]
    with _serving(command, port, env) as server:
        yield server


@contextmanager
def _serving(command: list[str], port: int, env: dict[str, str] | None) -> Iterator[Server]:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    try:
        _wait_for_port(port, process)
        yield Server(port, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on {port} within {timeout}s")


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time these processes have used so far (gone ones count 0)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class PreparedRequest:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class LoadResult:
    rate: float
    sent: int
    wall_seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, from the scheduled send
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies) / self.wall_seconds if self.wall_seconds else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def open_loop(
    port: int,
    requests: Sequence[PreparedRequest],
    rate: float,
    *,
    concurrency: int = 64,
    timeout: float = 10.0,
) -> LoadResult:
    """Send `requests` at a fixed `rate` per second; one new connection per request."""
    schedule: queue.Queue[tuple[float, PreparedRequest] | None] = queue.Queue()
    result = LoadResult(rate=rate, sent=len(requests), wall_seconds=0.0)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            item = schedule.get()
            if item is None:
                return
            scheduled, prepared = item
            status = _send(port, prepared, timeout)
            finished = time.perf_counter()
            with lock:
                if status is None:
                    result.errors += 1
                else:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    result.latencies.append(finished - scheduled)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.05
    for index, prepared in enumerate(requests):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        schedule.put((scheduled, prepared))
    for _ in threads:
        schedule.put(None)
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - start
    return result


def _send(port: int, prepared: PreparedRequest, timeout: float) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", prepared.path, body=prepared.body, headers=prepared.headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (every process and the kernel, idle and
    I/O wait excluded, /proc/stat): what a run cost in all, its database server included."""
    with open("/proc/stat") as handle:
        ticks = [int(value) for value in handle.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(workers: Sequence[int]) -> dict[str, float]:
    """CPU seconds used so far, per kind of process: the `workers` (and their children), each
    kind of PostgreSQL process, PostgreSQL's exited children (autovacuum workers and closed
    connections, counted in the postmaster's children's time), Redis, this process; for the
    difference of two snapshots."""
    tick = os.sysconf("SC_CLK_TCK")
    mine = set(workers)
    found: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        own = (int(fields[11]) + int(fields[12])) / tick
        if pid in mine or parent in mine:
            kind = "workers"
        elif pid == os.getpid():
            kind = "benchmark"
        elif command.startswith("postgres: "):
            name = command.split(":", 2)[-1].strip()
            kind = "pg " + ("backends" if "(" in name or " idle" in name else name.split()[0])
        elif "bin/postgres" in command:
            kind = "pg postmaster"
            found["pg exited"] = (int(fields[13]) + int(fields[14])) / tick
        elif command.startswith("redis-server"):
            kind = "redis"
        else:
            kind = "other"
        found[kind] = found.get(kind, 0.0) + own
    return found
