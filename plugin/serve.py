"""`tastemaker serve`: the WSGI app (`plugin.wsgi:app`) under granian.

Why granian: measured on the 2-core benchmark machine (benchmarks/redirect.py), gunicorn's sync
worker, not the app, was the ceiling of the referral redirect (~5k requests/s even for an empty
WSGI app, every connection closed); the same unchanged app under granian served 2x more with a
new connection per request and 5x more with keep-alive, with the steadiest p99 of the servers
tried. It is maintained (bjoern and meinheld have had no release in years), serves plain WSGI,
and has graceful reloads on SIGHUP. gunicorn stays only as a development dependency, for the
benchmarks' before/after comparison.

Process and thread model (each flag below is an option of `tastemaker serve`):
- `--workers` processes (default: WEB_CONCURRENCY, else one per CPU), each with its own copy of
  the app, its own background threads (link cache refresh, webhook spool replayer, click flusher
  in the embedded mode) and its own database pool. Each process listens on the port itself
  (SO_REUSEPORT) and the kernel spreads new connections across them.
- per process, one Rust I/O thread (HTTP parsing, keep-alive, slow clients: none of it holds the
  GIL) and `--threads` Python threads running requests (default 4: the redirect is CPU-bound and
  gains nothing from more, but admin pages and webhooks wait on the database, and 4 threads keep
  a core busy while they wait). Requests beyond `--threads` wait in the Rust side's queue
  (backpressure), not in Python, so the GIL is shared by at most that many requests.
- `--backlog` pending connections per listening socket (default 2048).

Graceful reload (a deploy): `kill -HUP <pid of tastemaker serve>`. Each worker in turn is
replaced: a new process loads the app, and only once it listens on the port is the old one
stopped gracefully (in-flight requests finish; killed after GRACEFUL_TIMEOUT seconds). granian
itself waits a fixed `respawn_interval` instead, and on the loaded benchmark machine loading the
app took longer than that: the port had no listener for a moment and clients were refused. So
`ReloadSafeServer` waits for the new worker's listening socket (seen in /proc) before stopping
the old one; tests/test_serve.py sends HUP under load and counts every answer. On Linux >= 5.14
also set `sysctl net.ipv4.tcp_migrate_req=1`, so that connections still queued in a stopping
worker's backlog move to a live listener instead of being reset; `serve` notes when it is off.
SIGTERM or SIGINT stop the server gracefully; a worker that dies is started again.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import MPServer

logger = logging.getLogger(__name__)

APP = "plugin.wsgi:app"
DEFAULT_THREADS = 4
DEFAULT_BACKLOG = 2048
RESPAWN_INTERVAL = 0.5  # after the new worker listens: let the kernel start routing to it
GRACEFUL_TIMEOUT = 30
READY_TIMEOUT = 120.0  # seconds a new worker may take to load the app before the old one stops
MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")
_LISTEN = "0A"  # TCP state in /proc/net/tcp


def default_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="processes (default: one per CPU)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"Python threads running requests, per process (default {DEFAULT_THREADS})",
    )
    parser.add_argument("--backlog", type=int, default=DEFAULT_BACKLOG)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )


def reload_safe_server(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int = DEFAULT_THREADS,
    backlog: int = DEFAULT_BACKLOG,
    access_log: bool = False,
    log_level: str = "info",
) -> ReloadSafeServer:
    """granian serving the WSGI callable at `app` ("module:attribute", or "module:factory()")."""
    factory = app.endswith("()")
    return ReloadSafeServer(
        app.removesuffix("()"),
        factory=factory,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=threads,
        backlog=backlog,
        websockets=False,
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL,
        workers_kill_timeout=GRACEFUL_TIMEOUT,
        log_level=LogLevels(log_level),
        log_access=access_log,
    )


class ReloadSafeServer(MPServer):  # type: ignore[misc]
    """granian's process server whose reload stops an old worker only once its successor listens."""

    def _respawn_workers(
        self, workers: list[int], spawn_target: Any, target_loader: Any, delay: float = 0
    ) -> None:
        for idx in workers:
            self.respawned_wrks[idx] = time.monotonic()
            logger.info("reload: starting a new worker-%d", idx + 1)
            old = self.wrks.pop(idx)
            new = self._spawn_worker(idx=idx, target=spawn_target, callback_loader=target_loader)
            new.start()
            self.wrks.insert(idx, new)
            if not wait_listening(new._id(), self.bind_port, timeout=READY_TIMEOUT):
                logger.warning("reload: new worker-%d is not listening yet", idx + 1)
            time.sleep(delay)
            old.terminate()
            old.join(self.workers_kill_timeout)
            if old.is_alive():  # a joined process may still be reported alive for a moment
                time.sleep(0.05)
            if old.is_alive():
                logger.warning("reload: killing old worker-%d after the graceful timeout", idx + 1)
                old.kill()
                old.join()
            logger.info("reload: old worker-%d stopped", idx + 1)
        self._metrics.incr_spawn(len(workers))


def wait_listening(pid: int, port: int, *, timeout: float) -> bool:
    """Wait until process `pid` holds a TCP socket listening on `port` (False after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port in listening_ports(pid):
            return True
        time.sleep(0.05)
    return False


def listening_ports(pid: int) -> set[int]:
    """Ports of the TCP sockets in LISTEN state that process `pid` has open (Linux /proc)."""
    try:
        inodes = {
            target[len("socket:[") : -1]
            for fd in os.scandir(f"/proc/{pid}/fd")
            if (target := _readlink(fd.path)).startswith("socket:[")
        }
    except OSError:
        return set()
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def migrate_req_enabled() -> bool | None:
    """Whether the kernel moves queued connections off a closing listener; None when unknown."""
    try:
        return MIGRATE_REQ.read_text().strip() == "1"
    except OSError:
        return None


def serve(args: argparse.Namespace, *, production: bool, app: str = APP) -> int:
    if not production:
        print(
            "note: TASTEMAKER_ENV is not production; serving with granian anyway", file=sys.stderr
        )
    if args.workers > 1 and migrate_req_enabled() is False:
        print(
            "note: net.ipv4.tcp_migrate_req is 0: during a reload (SIGHUP), connections queued "
            "in a stopping worker's backlog may be reset; `sysctl -w net.ipv4.tcp_migrate_req=1`",
            file=sys.stderr,
        )
    reload_safe_server(
        app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        backlog=args.backlog,
        access_log=args.access_log,
        log_level=args.log_level,
    ).serve()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m plugin.serve MODULE:APP [options]`: any WSGI app with the same settings
    (the benchmarks serve their baselines this way)."""
    parser = argparse.ArgumentParser(prog="python -m plugin.serve")
    parser.add_argument("app")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return serve(args, production=True, app=args.app)


if __name__ == "__main__":
    raise SystemExit(main())
