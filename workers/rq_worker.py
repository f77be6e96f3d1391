"""`tastemaker worker`: an RQ worker over the configured Redis, with RQ's retry scheduler.

By default jobs run in the worker process itself (RQ's SimpleWorker): the app, its imports, its
mappers and its connection pool stay warm, which makes a short job ~20x cheaper than forking a
cold work horse for each one. Job timeouts are still enforced (SIGALRM). Run N worker processes
for parallelism; `--fork` gives each job its own process where isolation matters more than speed.

RQ's work loop quits on most Redis errors (a timeout, a failed heartbeat or registration), so
the loop here starts a new worker after each such exit, with a growing wait, until Redis answers
again: an outage pauses the workers instead of ending them. Only a stop request (SIGTERM,
SIGINT) or the end of a burst ends the command. Once back, a worker on the webhooks queue asks
for a drain at once: the events accepted during the outage wait in the database, and the jobs
that Redis held may be gone with it.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from workers.registry import QUEUES

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

# Seconds between attempts to get a worker going again; the last one repeats.
RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


def run_worker(
    queue_names: Sequence[str],
    *,
    burst: bool = False,
    fork: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker, Worker

    from plugin import create_app
    from plugin.settings import load_settings
    from workers.runtime import warm_up

    settings = load_settings()
    if not settings.redis_url:
        print(
            "tastemaker worker needs TASTEMAKER_REDIS_URL (the embedded mode runs jobs in-process)"
        )
        return 2
    unknown = [name for name in queue_names if name not in QUEUES]
    if unknown:
        print(f"unknown queue(s): {', '.join(unknown)}; queues are {', '.join(QUEUES)}")
        return 2
    # fail on bad configuration before taking any job
    app = warm_up(create_app, dispose_connections=fork)
    stop = _StopFlag()
    base = Worker if fork else SimpleWorker

    class queue_class(Queue):
        @classmethod
        def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:
            # RQ waits out a lost connection inside its dequeue, then carries on as if nothing
            # happened; ending its loop instead brings the worker back through the reconnect
            # below, which also asks for what waited in the database meanwhile.
            try:
                return super().dequeue_any(*args, **kwargs)
            except RedisConnectionError as exc:
                raise RedisLost(str(exc)) from exc

    class StoppableWorker(PromptUnsubscribe, base):  # type: ignore[valid-type,misc]
        def handle_warm_shutdown_request(self) -> None:
            # RQ ends its loop on a stop request without always saying so afterwards.
            stop.requested = True
            super().handle_warm_shutdown_request()

    worker_class = StoppableWorker
    failures = 0
    while not stop.requested:
        worker = None
        try:
            connection = Redis.from_url(
                settings.redis_url, socket_connect_timeout=2, health_check_interval=30
            )
            connection.ping()
            if failures:
                logger.warning("redis is back after %d attempts: worker resuming", failures)
                failures = 0
                _ask_for_what_waited(app, queue_names)
            queues = [queue_class(name, connection=connection) for name in queue_names]
            worker = worker_class(queues, connection=connection, queue_class=queue_class)
            worker.work(with_scheduler=True, burst=burst)
        except (RedisError, RedisLost) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        else:
            if burst or stop.requested:
                return 0
            reason = "the RQ work loop quit (see its log)"
        finally:
            stop.install()  # RQ's handlers belong to the worker that just ended
        delay = RECONNECT_BACKOFF[min(failures, len(RECONNECT_BACKOFF) - 1)]
        failures += 1
        logger.warning("worker stopped (%s); starting again in %.1f s", reason, delay)
        stop.wait(delay, sleep)
    return 0


class PromptUnsubscribe:
    """Ends the worker without waiting out RQ's pubsub thread (stop and kill commands).

    RQ unsubscribes, then stops the thread, which redis-py joins without a timeout. Woken by
    the unsubscribe reply before it is told to stop, the thread goes back to wait for a
    subscription, for RQ's `sleep_time` of 60 s: a stopping worker then hung for up to a
    minute (seen in benchmarks.attribution, about one stop in ten). Here the thread's stop flag
    is tripped first, so the reply ends a thread that is reading; one already waiting is a
    daemon thread with nothing left to do, given a second, then left to end with the process.
    """

    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread is None:
            return
        thread.stop(timeout=0)  # only clears its running flag
        self.pubsub.unsubscribe()
        thread.join(timeout=1)


class RedisLost(Exception):
    """Redis went away while a worker waited for jobs."""


class _StopFlag:
    """SIGTERM/SIGINT between two RQ workers (while Redis is away) end the command at once."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._request)
        signal.signal(signal.SIGINT, self._request)

    def _request(self, signum: int, _frame: object) -> None:
        logger.warning("signal %d: worker stopping", signum)
        self.requested = True

    def wait(self, seconds: float, sleep: Callable[[float], None]) -> None:
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            sleep(min(0.1, max(deadline - time.monotonic(), 0)))


def _ask_for_what_waited(app: Flask, queue_names: Sequence[str]) -> None:
    if "webhooks" not in queue_names:
        return
    from workers.jobs.webhooks import drain_webhook_inbox
    from workers.runtime import enqueue

    with app.app_context():
        enqueue(drain_webhook_inbox)
