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
  in the embedded mode) and its own database pool, accepting from a listening socket of its
  own or one they all share (see Listeners below).
- per process, one Rust I/O thread (HTTP parsing, keep-alive, slow clients: none of it holds the
  GIL) and `--threads` Python threads running requests (default 4: the redirect is CPU-bound and
  gains nothing from more, but admin pages and webhooks wait on the database, and 4 threads keep
  a core busy while they wait). Requests beyond `--threads` wait in the Rust side's queue,
  not in Python, so the GIL is shared by at most that many requests.
- `--max-connections` open connections per process (default: the backlog shared out over the
  workers, as granian does). granian counts a connection against it from accept to close, idle
  keep-alive time included: when it was set to `--threads` (4), one browser holding 6 keep-alive
  connections to a worker left it taking no new connection at all (found by the widget's
  Lighthouse benchmark; tests/test_serve.py holds idle connections open and asks again).
- `--backlog` pending connections per listening socket (default 2048).

Graceful reload (a deploy): `kill -HUP <pid of tastemaker serve>`. Each worker in turn is
replaced: a new process loads the app; only once it has loaded does the old one stop accepting,
serve what it has accepted, and stop gracefully (in-flight requests finish; killed after
GRACEFUL_TIMEOUT seconds). granian itself waits a fixed `respawn_interval`, which on the loaded
benchmark machine was shorter than loading the app, and stops a worker outright, which makes
hyper close connections accepted a moment earlier whose request it has not read yet (the client
sees a reset); the old worker's "stop accepting" swaps its listening descriptor for an
unreachable one first (`detach_listener`).
Listeners (`--listeners`): granian on Linux gives each worker its own SO_REUSEPORT socket, but
closing one resets the connections queued in it unless the kernel moves them
(`net.ipv4.tcp_migrate_req=1`). So `auto` uses a socket per worker when that sysctl is on, and
otherwise one socket bound by the main process and shared by every worker, whose queue outlives
any worker. Measured on the 2-core machine: with other work saturating the CPUs, an interleaved
A/B on a raw WSGI app accepted 9-21 % more new connections per worker socket; quiet, the two
were within noise (benchmarks/redirect.py: raw WSGI 29.0k vs 27.0k/s, `/r/<slug>` 17.3k vs
16.1k/s, shared first). tests/test_serve.py
sends HUP under load and counts every answer. SIGTERM or SIGINT stop the server gracefully; a
worker that dies is started again.
"""

from __future__ import annotations

import argparse
import functools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.net import SocketSpec
from granian.server import MPServer

logger = logging.getLogger(__name__)

APP = "plugin.wsgi:app"
DEFAULT_THREADS = 4
DEFAULT_BACKLOG = 2048
RESPAWN_INTERVAL = 0.5  # after the new worker has loaded the app: let it start accepting
GRACEFUL_TIMEOUT = 30
ACCEPT_STOP_TIMEOUT = 5.0
MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")
SHARED, PER_WORKER = "shared", "per-worker"
READY_TIMEOUT = 120.0  # seconds a new worker may take to load the app before the old one stops


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
    parser.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="open connections per process, idle keep-alive ones included "
        "(default: backlog / workers)",
    )
    parser.add_argument(
        "--listeners",
        default="auto",
        choices=("auto", SHARED, PER_WORKER),
        help="one listening socket shared by the workers, or one per worker (SO_REUSEPORT); "
        "auto: per worker when net.ipv4.tcp_migrate_req is 1, else shared",
    )
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
    max_connections: int | None = None,
    access_log: bool = False,
    log_level: str = "info",
    listeners: str = "auto",
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
        backpressure=max(threads, max_connections or backlog // workers),
        backlog=backlog,
        websockets=False,
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL,
        workers_kill_timeout=GRACEFUL_TIMEOUT,
        log_level=LogLevels(log_level),
        log_access=access_log,
        listeners=listeners,
    )


class ReloadSafeServer(MPServer):  # type: ignore[misc]
    """granian's process server whose reload swaps a worker without refusing or resetting a
    single connection."""

    def __init__(self, *args: Any, listeners: str = "auto", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners = resolve_listeners(listeners)
        self._controls: dict[Any, WorkerControl] = {}

    def _init_shared_socket(self) -> None:
        # On Linux granian gives every worker its own SO_REUSEPORT listener, and closing a
        # stopping worker's listener resets the connections still queued in it unless the
        # kernel's tcp_migrate_req is on. Without it, one socket bound here and inherited by
        # every worker has one queue that outlives any worker.
        if self.bind_uds or self.listeners == PER_WORKER:
            super()._init_shared_socket()
            return
        self._ssp = None
        self._shd = SocketSpec(self.bind_addr, self.bind_port, self.backlog).build()
        self._sfd = self._shd.get_fd()
        self._sso = socket.socket(fileno=self._sfd)
        self._sso.set_inheritable(True)

    def _spawn_worker(self, idx: int, target: Any, callback_loader: Any) -> Any:
        control = WorkerControl.new()
        worker = super()._spawn_worker(
            idx=idx,
            target=target,
            callback_loader=functools.partial(
                _worker_side, callback_loader, control, None if self.bind_uds else self.bind_port
            ),
        )
        self._controls[worker] = control
        return worker

    def _respawn_workers(
        self, workers: list[int], spawn_target: Any, target_loader: Any, delay: float = 0
    ) -> None:
        for idx in workers:
            self.respawned_wrks[idx] = time.monotonic()
            logger.info("reload: starting a new worker-%d", idx + 1)
            new = self._spawn_worker(idx=idx, target=spawn_target, callback_loader=target_loader)
            new.start()
            if not self._controls[new].loaded.wait(READY_TIMEOUT):
                logger.warning("reload: new worker-%d has not loaded the app yet", idx + 1)
            old = self.wrks[idx]
            self.wrks[idx] = new
            self._stop_gracefully(old, idx, delay)
        self._metrics.incr_spawn(len(workers))

    def _stop_gracefully(self, old: Any, idx: int, delay: float) -> None:
        # granian's stop makes hyper close every connection that has not sent its request yet,
        # including one accepted a microsecond earlier: that client sees a reset. So the old
        # worker first stops accepting, serves what it has accepted, and only then stops.
        control = self._controls.pop(old, None)
        if control is not None and old.is_alive():
            control.stop_accepting.set()
            if not control.accepting_stopped.wait(ACCEPT_STOP_TIMEOUT):
                logger.warning("reload: old worker-%d did not stop accepting", idx + 1)
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


def resolve_listeners(listeners: str) -> str:
    """`auto`: a listener per worker where the kernel migrates a closing listener's queue
    (no shared accept queue to contend on), else one shared."""
    if listeners == "auto":
        return PER_WORKER if migrate_req_enabled() else SHARED
    if listeners not in (SHARED, PER_WORKER):
        raise ValueError(f"listeners must be auto, {SHARED} or {PER_WORKER}")
    return listeners


def migrate_req_enabled() -> bool:
    try:
        return MIGRATE_REQ.read_text().strip() == "1"
    except OSError:
        return False


@dataclass(frozen=True)
class WorkerControl:
    """Events shared by the main process and one worker process."""

    loaded: Any  # the worker has loaded the app
    stop_accepting: Any  # the main process asks the worker to take no new connection
    accepting_stopped: Any  # ... and the worker has done so

    @classmethod
    def new(cls) -> WorkerControl:
        # granian's WorkerProcess uses fork or spawn; the events must come from the same context
        method = multiprocessing.get_start_method()
        context = multiprocessing.get_context(method if method in {"fork", "spawn"} else "spawn")
        return cls(context.Event(), context.Event(), context.Event())


def _worker_side(target_loader: Callable[[], Any], control: WorkerControl, port: int | None) -> Any:
    """In a worker process: load the app, say so, and stop accepting when asked to."""
    # A forked worker inherits the main process's SIGTERM handler, which does nothing here; until
    # granian installs its own (after this returns), a stop must simply end the worker, which
    # has taken no connection yet. Otherwise a stop during the app's load is lost, and the
    # worker serves on until the main process kills it after the graceful timeout.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, signal.SIG_DFL)
    app = target_loader()
    if port is not None:
        threading.Thread(
            target=_stop_accepting_when_asked,
            args=(control, port),
            name="tastemaker-stop-accepting",
            daemon=True,
        ).start()
    control.loaded.set()
    return app


def _stop_accepting_when_asked(control: WorkerControl, port: int) -> None:
    control.stop_accepting.wait()
    try:
        for listener_fd in listening_descriptors(port):
            detach_listener(listener_fd)
    finally:
        control.accepting_stopped.set()


def listening_descriptors(port: int) -> list[int]:
    """This process's descriptors of TCP sockets listening on `port`."""
    found = []
    for entry in os.scandir("/proc/self/fd"):
        try:
            probe = socket.socket(fileno=os.dup(int(entry.name)))
        except OSError:  # not a socket, or already closed
            continue
        with probe:
            if (
                probe.family in (socket.AF_INET, socket.AF_INET6)
                and probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                and probe.getsockname()[1] == port
            ):
                found.append(int(entry.name))
    return found


def detach_listener(listener_fd: int) -> None:
    """Make `listener_fd` in this process a listener nobody can reach.

    granian's acceptor keeps calling accept() on the same descriptor number; from now on it gets
    EAGAIN from an unreachable, non-blocking Unix socket instead of taking connections that this
    worker would be too late to serve. A shared socket (held by the main process and the other
    workers) keeps its queue; a worker's own SO_REUSEPORT socket closes here, and the kernel
    moves its queue to the other workers' (tcp_migrate_req)."""
    unreachable = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unreachable.bind("")  # Linux autobind: an abstract address, no file
    unreachable.listen(1)
    unreachable.setblocking(False)
    os.dup2(unreachable.fileno(), listener_fd)
    unreachable.close()


def serve(args: argparse.Namespace, *, production: bool, app: str = APP) -> int:
    if not production:
        print(
            "note: TASTEMAKER_ENV is not production; serving with granian anyway", file=sys.stderr
        )
    if args.workers > 1 and resolve_listeners(args.listeners) == SHARED:
        print(
            "note: the workers share one listening socket (net.ipv4.tcp_migrate_req is 0); "
            "with `sysctl -w net.ipv4.tcp_migrate_req=1` each gets its own (no shared accept "
            "queue to contend on under load), and reloads stay lossless",
            file=sys.stderr,
        )
    reload_safe_server(
        app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        backlog=args.backlog,
        max_connections=args.max_connections,
        access_log=args.access_log,
        log_level=args.log_level,
        listeners=args.listeners,
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
