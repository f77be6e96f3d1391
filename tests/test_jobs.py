"""The job runtime: enqueue after commit, retries for retryable errors only, RQ and in-process."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy.orm import Session

from plugin.models import Shop
from workers.backends import InProcessBackend, RQBackend
from workers.registry import RetryableJobError, job, spec_for
from workers.runtime import _run_in_app, enqueue, enqueue_after_commit, init_app, set_worker_app

CALLS: list[tuple[str, int]] = []


@job("periodic", retry_intervals=(0, 0))
def record_call(value: int) -> None:
    CALLS.append(("record", value))


@job("periodic", retry_intervals=(0, 0))
def flaky(value: int) -> None:
    CALLS.append(("flaky", value))
    if sum(1 for name, _ in CALLS if name == "flaky") < 3:
        raise RetryableJobError("store timed out")


@job("periodic", retry_intervals=(0, 0))
def broken(value: int) -> None:
    CALLS.append(("broken", value))
    raise ValueError("bad input: retrying cannot help")


@job("periodic", coalesce=True)
def drain_something(area: str) -> None:
    CALLS.append(("drain", len(CALLS)))
    if area == "grows" and len(CALLS) == 1:
        enqueue(drain_something, area)  # work arrived while this copy ran


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_a_job_is_sent_only_when_the_transaction_commits(
    app: Flask, session: Session, run_jobs: Any
) -> None:
    # given a job queued inside a transaction that also releases a savepoint
    session.add(Shop(platform="sandbox", domain="a.example", public_key="pk_a"))
    enqueue_after_commit(session, record_call, 1)
    with session.begin_nested():
        session.add(Shop(platform="sandbox", domain="b.example", public_key="pk_b"))
    # then the savepoint release sent nothing
    assert run_jobs() == 0
    # when the transaction commits
    session.commit()
    # then the job runs once
    assert run_jobs() == 1
    assert CALLS == [("record", 1)]


def test_a_rolled_back_transaction_sends_nothing(
    app: Flask, session: Session, run_jobs: Any
) -> None:
    session.add(Shop(platform="sandbox", domain="c.example", public_key="pk_c"))
    enqueue_after_commit(session, record_call, 2)
    session.rollback()
    session.commit()
    assert run_jobs() == 0
    assert CALLS == []


def test_in_process_runner_retries_retryable_errors_only(app: Flask) -> None:
    backend = InProcessBackend(lambda spec, args: _run_in_app(app, spec, args), threaded=False)
    init_app(app, backend)
    enqueue(flaky, 7)
    enqueue(broken, 8)
    backend.drain()
    assert CALLS.count(("flaky", 7)) == 3  # two retries, then success
    assert CALLS.count(("broken", 8)) == 1  # terminal: never retried


def test_threaded_in_process_runner_drains(app: Flask) -> None:
    backend = InProcessBackend(lambda spec, args: _run_in_app(app, spec, args), retry_scale=0)
    init_app(app, backend)
    for value in range(5):
        enqueue(record_call, value)
    backend.drain(timeout=10)
    assert sorted(value for _, value in CALLS) == [0, 1, 2, 3, 4]


def test_rq_retries_retryable_errors_and_fails_terminal_ones_at_once(
    app: Flask, redis_connection: Any
) -> None:
    # given the app on a real Redis
    from tests.conftest import REDIS_URL

    backend = RQBackend(REDIS_URL)
    init_app(app, backend)
    set_worker_app(app)
    try:
        # when a flaky and a broken job run on RQ's burst worker
        enqueue(flaky, 1)
        enqueue(broken, 2)
        queue = Queue("periodic", connection=redis_connection)
        worker = SimpleWorker([queue], connection=redis_connection)
        for _ in range(4):  # retries with a 0 s interval go back on the queue
            worker.work(burst=True)
    finally:
        set_worker_app(None)
    # then the flaky job succeeded on its third try and the broken one failed without retries
    assert CALLS.count(("flaky", 1)) == 3
    assert CALLS.count(("broken", 2)) == 1
    failed = FailedJobRegistry(queue=queue)
    assert failed.count == 1
    assert ScheduledJobRegistry(queue=queue).count == 0


def test_a_coalescing_job_waits_in_the_queue_once_and_a_running_copy_does_not_count(
    app: Flask,
) -> None:
    # given the in-process runner and three requests for the same drain
    backend = InProcessBackend(lambda spec, args: _run_in_app(app, spec, args), threaded=False)
    init_app(app, backend)
    for _ in range(3):
        enqueue(drain_something, "same")
    enqueue(drain_something, "other")
    # when the jobs run
    ran = backend.drain()
    # then one copy per argument ran
    assert ran == 2
    assert len(CALLS) == 2
    # and a request made while a copy runs gets a new copy
    CALLS.clear()
    enqueue(drain_something, "grows")
    assert backend.drain() == 2


def test_a_coalescing_job_on_redis_waits_once_until_a_worker_starts_it(
    app: Flask, redis_connection: Any
) -> None:
    # given the app on a real Redis and two requests for the same drain
    from tests.conftest import REDIS_URL

    init_app(app, RQBackend(REDIS_URL))
    queue = Queue("periodic", connection=redis_connection)
    sent = [enqueue(drain_something, "same"), enqueue(drain_something, "same")]
    assert sent == [True, True]
    # then one copy waits
    assert queue.count == 1
    # when a worker runs it, and it asks for itself again while running
    set_worker_app(app)
    try:
        queue.empty()
        enqueue(drain_something, "grows")
        SimpleWorker([queue], connection=redis_connection).work(burst=True)
    finally:
        set_worker_app(None)
    # then the request made during the run got its own copy, which ran too
    assert [name for name, _ in CALLS] == ["drain", "drain"]


def test_enqueue_reports_a_redis_outage_instead_of_raising(app: Flask) -> None:
    init_app(app, RQBackend("redis://127.0.0.1:1/0"))
    assert enqueue(record_call, 3) is False


def test_only_registered_functions_can_be_enqueued() -> None:
    with pytest.raises(LookupError):
        spec_for(print)


def test_the_worker_command_runs_queued_jobs_on_redis(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, redis_connection: Any
) -> None:
    # given the environment of a production-like worker and a job waiting on Redis
    from plugin.cli import main
    from tests.conftest import REDIS_URL

    monkeypatch.setenv("TASTEMAKER_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("TASTEMAKER_DATABASE_URL", f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    assert main(["db", "upgrade"]) == 0
    backend = RQBackend(REDIS_URL)
    backend.enqueue(spec_for(record_call), (41,), None)
    set_worker_app(None)
    try:
        # when `tastemaker worker --burst` runs
        assert main(["worker", "--queues", "periodic", "--burst"]) == 0
    finally:
        set_worker_app(None)
    # then the job ran in the worker
    assert CALLS == [("record", 41)]


def test_every_periodic_job_is_a_registered_job_taking_no_arguments() -> None:
    import inspect

    from workers.registry import JOBS
    from workers.schedule import PERIODIC, resolve

    for periodic in PERIODIC:
        func = resolve(periodic.job)
        assert periodic.job in JOBS, periodic.job
        assert not [
            p for p in inspect.signature(func).parameters.values() if p.default is p.empty
        ], periodic.job


def test_the_cron_scheduler_enqueues_periodic_jobs_through_run_job(redis_connection: Any) -> None:
    from workers.schedule import PERIODIC, build_cron

    scheduler = build_cron(redis_connection)
    cron_jobs = scheduler.get_jobs()
    assert sorted(cron.name for cron in cron_jobs) == sorted(p.job for p in PERIODIC)
    queued = cron_jobs[0].enqueue(redis_connection)
    assert (queued.func_name, queued.args) == ("workers.runtime.run_job", (cron_jobs[0].name,))
