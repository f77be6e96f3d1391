"""Where jobs go: Redis (RQ) when configured, else an in-process runner with the same semantics."""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from workers.registry import JobSpec, coalescing_key

logger = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The queue backend could not take the job (Redis down); sweepers will enqueue it later."""


class JobBackend(Protocol):
    def enqueue(self, spec: JobSpec, args: tuple[Any, ...], job_id: str | None) -> None: ...

    def started(self, spec: JobSpec, args: tuple[Any, ...]) -> None:
        """The job is running: a coalescing job's next enqueue sends a new copy."""

    def ping(self) -> None: ...

    def beat(self, name: str) -> None:
        """Note that a periodic job named `name` ran now (read by /readyz)."""

    def last_beat(self, name: str) -> float | None: ...


class RQBackend:
    # A coalescing job's "copy waiting" marker; if the copy is lost (Redis flushed), the marker
    # expires and the next enqueue (or sweep) sends a new one.
    WAITING_PREFIX = "tastemaker:waiting:"
    WAITING_TTL_SECONDS = 60

    def __init__(self, redis_url: str) -> None:
        from redis import Redis

        self.redis_url = redis_url
        self.connection = Redis.from_url(
            redis_url, socket_connect_timeout=0.5, socket_timeout=2, health_check_interval=30
        )

    def queue(self, name: str) -> Any:
        from rq import Queue

        return Queue(name, connection=self.connection)

    def enqueue(self, spec: JobSpec, args: tuple[Any, ...], job_id: str | None) -> None:
        from redis.exceptions import RedisError
        from rq import Retry

        retry = (
            Retry(max=spec.max_retries, interval=list(spec.retry_intervals))
            if (spec.retry_intervals)
            else None
        )
        waiting = self.WAITING_PREFIX + coalescing_key(spec, args) if spec.coalesce else None
        try:
            if waiting and not self.connection.set(
                waiting, 1, nx=True, ex=self.WAITING_TTL_SECONDS
            ):
                return  # a copy is waiting and will see this work
            self.queue(spec.queue).enqueue(
                "workers.runtime.run_job",
                spec.name,
                *args,
                job_id=job_id,
                job_timeout=spec.timeout,
                retry=retry,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"{spec.name}{args!r}",
            )
        except RedisError as exc:
            if waiting:
                self._forget(waiting)
            raise QueueUnavailable(str(exc)) from exc

    def started(self, spec: JobSpec, args: tuple[Any, ...]) -> None:
        if spec.coalesce:
            self._forget(self.WAITING_PREFIX + coalescing_key(spec, args))

    def _forget(self, waiting: str) -> None:
        from redis.exceptions import RedisError

        try:
            self.connection.delete(waiting)
        except RedisError as exc:  # the marker expires on its own
            logger.warning("could not clear %s: %s", waiting, exc)

    def ping(self) -> None:
        self.connection.ping()

    HEARTBEAT_PREFIX = "tastemaker:heartbeat:"

    def beat(self, name: str) -> None:
        self.connection.set(self.HEARTBEAT_PREFIX + name, repr(time.time()), ex=7 * 24 * 3600)

    def last_beat(self, name: str) -> float | None:
        value = self.connection.get(self.HEARTBEAT_PREFIX + name)
        return float(value) if value is not None else None


class InProcessBackend:
    """Runs jobs in this process with the job's own retry intervals.

    Threaded (the embedded default): one daemon thread runs jobs in order. Manual (tests): jobs
    wait until `drain()` runs them in the caller's thread, like RQ's burst worker. `retry_scale`
    shrinks backoff delays; `drain()` returns when nothing is left.
    """

    def __init__(
        self,
        runner: Callable[[JobSpec, tuple[Any, ...]], None],
        *,
        threaded: bool = True,
        retry_scale: float = 1.0,
    ) -> None:
        self._runner = runner
        self._threaded = threaded
        self._retry_scale = retry_scale
        self._tasks: stdlib_queue.Queue[tuple[JobSpec, tuple[Any, ...], int]] = stdlib_queue.Queue()
        self._pending = 0
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._waiting: set[str] = set()
        self._beats: dict[str, float] = {}
        self.enqueued: list[tuple[str, tuple[Any, ...]]] = []

    def enqueue(self, spec: JobSpec, args: tuple[Any, ...], job_id: str | None) -> None:
        with self._lock:
            if spec.coalesce:
                key = coalescing_key(spec, args)
                if key in self._waiting:
                    return  # a copy is waiting and will see this work
                self._waiting.add(key)
            self._pending += 1
        self.enqueued.append((spec.name, args))
        self._tasks.put((spec, args, 0))
        if self._threaded:
            self._ensure_thread()

    def started(self, spec: JobSpec, args: tuple[Any, ...]) -> None:
        if spec.coalesce:
            with self._lock:
                self._waiting.discard(coalescing_key(spec, args))

    def ping(self) -> None:
        return None

    def beat(self, name: str) -> None:
        self._beats[name] = time.time()

    def last_beat(self, name: str) -> float | None:
        return self._beats.get(name)

    def drain(self, timeout: float = 30.0) -> int:
        """Wait for (threaded) or run (manual) every pending job; returns how many ran."""
        if not self._threaded:
            ran = 0
            while not self._tasks.empty():
                self._run_one(*self._tasks.get_nowait())
                ran += 1
            return ran
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} in-process jobs still pending")
                self._lock.wait(remaining)
        return 0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="tastemaker-jobs", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            self._run_one(*self._tasks.get())

    def _run_one(self, spec: JobSpec, args: tuple[Any, ...], attempt: int) -> None:
        from workers.registry import RetryableJobError

        self.started(spec, args)
        try:
            self._runner(spec, args)
        except RetryableJobError as exc:
            if attempt < spec.max_retries:
                delay = spec.retry_intervals[attempt] * self._retry_scale
                logger.warning(
                    "job %s%r retry %d in %.1fs: %s", spec.name, args, attempt + 1, delay, exc
                )
                self._schedule(spec, args, attempt + 1, delay)
                return
            logger.error("job %s%r gave up after %d retries: %s", spec.name, args, attempt, exc)
        except Exception:
            # No failed-job registry in-process: the logged traceback is the record.
            logger.exception("job %s%r failed", spec.name, args)
        self._done()

    def _schedule(self, spec: JobSpec, args: tuple[Any, ...], attempt: int, delay: float) -> None:
        if delay <= 0 or not self._threaded:
            self._tasks.put((spec, args, attempt))
            return
        timer = threading.Timer(delay, self._tasks.put, args=((spec, args, attempt),))
        timer.daemon = True
        timer.start()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._lock.notify_all()
