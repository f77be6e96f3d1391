"""The worker process around RQ: how it stops."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from rq import Queue, SimpleWorker

from workers.rq_worker import PromptUnsubscribe

pytestmark = pytest.mark.redis


class _Worker(PromptUnsubscribe, SimpleWorker):
    pass


def _wait_until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_a_stopping_worker_ends_its_pubsub_thread_at_once(redis_connection: Any) -> None:
    # given: a worker listening for commands, whose pubsub thread saw its subscription end
    # before being told to stop (it then waits RQ's 60 s for a new subscription)
    worker = _Worker([Queue("webhooks", connection=redis_connection)], connection=redis_connection)
    worker.subscribe()
    _wait_until(lambda: worker.pubsub.subscribed)
    worker.pubsub.unsubscribe()
    _wait_until(lambda: not worker.pubsub.subscribed)
    # when the worker unsubscribes on its way out
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    started = time.monotonic()
    stopping.start()
    stopping.join(10)
    # then it is done in well under RQ's 60 s, its thread told to stop
    assert not stopping.is_alive()
    assert time.monotonic() - started < 5
    assert not worker.pubsub_thread._running.is_set()


def test_a_worker_reading_its_commands_stops_its_pubsub_thread_at_once(
    redis_connection: Any,
) -> None:
    # given: a worker listening for commands
    worker = _Worker([Queue("webhooks", connection=redis_connection)], connection=redis_connection)
    worker.subscribe()
    _wait_until(lambda: worker.pubsub.subscribed)
    # when
    started = time.monotonic()
    worker.unsubscribe()
    # then the unsubscribe reply ended the thread
    assert time.monotonic() - started < 5
    _wait_until(lambda: not worker.pubsub_thread.is_alive())
