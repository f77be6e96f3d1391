"""Running and enqueueing jobs, the same way in RQ workers and in the embedded runner."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from workers.backends import InProcessBackend, JobBackend, QueueUnavailable, RQBackend
from workers.registry import JOBS, JobSpec, RetryableJobError, spec_for

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

EXTENSION_KEY = "tastemaker.queue"
_PENDING_KEY = "tastemaker.jobs_after_commit"
current_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_job_id", default=None
)
_worker_app: Flask | None = None


class JobIdLogFilter(logging.Filter):
    """Puts the running job's id on every log record (`%(job_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job_id.get() or "-"
        return True


def init_app(app: Flask, backend: JobBackend | None = None) -> JobBackend:
    settings = app.config["TASTEMAKER"]
    if backend is None:
        if settings.redis_url:
            backend = RQBackend(settings.redis_url)
        else:
            backend = InProcessBackend(lambda spec, args: _run_in_app(app, spec, args))
    app.extensions[EXTENSION_KEY] = backend
    return backend


def get_backend(app: Flask | None = None) -> JobBackend:
    from flask import current_app

    backend: JobBackend = (app or current_app).extensions[EXTENSION_KEY]
    return backend


Job = Callable[..., Any] | str  # a job function, or its registered name (plugin.background)


def job_spec(job: Job) -> JobSpec:
    if not isinstance(job, str):
        return spec_for(job)
    if job not in JOBS:
        _import_job_modules()
    try:
        return JOBS[job]
    except KeyError:
        raise LookupError(f"{job!r} is not a registered job") from None


def enqueue(job: Job, *args: Any, job_id: str | None = None, app: Flask | None = None) -> bool:
    """Send a job now. Returns False (and logs) when the queue is down: sweepers catch up."""
    spec = job_spec(job)
    try:
        get_backend(app).enqueue(spec, args, job_id)
    except QueueUnavailable as exc:
        logger.warning("queue unavailable, %s%r left for the sweeper: %s", spec.name, args, exc)
        return False
    return True


def enqueue_after_commit(session: Session, job: Job, *args: Any, job_id: str | None = None) -> None:
    """Send a job only once `session` commits; a rollback drops it."""
    from flask import current_app

    job_spec(job)  # fail now, not after commit, on something that is not a job
    pending: list[tuple[Any, Job, tuple[Any, ...], str | None]] = session.info.setdefault(
        _PENDING_KEY, []
    )
    pending.append((current_app._get_current_object(), job, args, job_id))  # type: ignore[attr-defined]


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the real commit is still to come
    pending = session.info.pop(_PENDING_KEY, [])
    for app, func, args, job_id in pending:
        enqueue(func, *args, job_id=job_id, app=app)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    # A savepoint rolling back leaves the outer transaction (and its jobs) alive; jobs that were
    # queued inside it load their rows by id and return when those rows never committed.
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_KEY, None)


def _run_in_app(app: Flask, spec: JobSpec, args: tuple[Any, ...]) -> None:
    token = current_job_id.set(f"inproc:{spec.name.rsplit('.', 1)[-1]}:{args!r}")
    try:
        with app.app_context():
            spec.func(*args)
    finally:
        current_job_id.reset(token)


def worker_app() -> Flask:
    """The app jobs run in, in a worker process (built once by `warm_up`)."""
    if _worker_app is None:
        raise RuntimeError("no worker app: the worker calls warm_up(create_app) before any job")
    return _worker_app


def set_worker_app(app: Flask | None) -> None:
    """Tests run RQ's SimpleWorker in-process against their own app."""
    global _worker_app
    _worker_app = app


def warm_up(create_app: Callable[[], Flask], *, dispose_connections: bool = False) -> Flask:
    """Build the worker's app and load everything a first job would: job and handler modules,
    mappers, the database dialect. With `dispose_connections`, drop pooled connections so that
    no connection is shared with forked work horses. The worker passes `plugin.create_app`:
    the app imports this module, so this module does not import the app."""
    from sqlalchemy import text
    from sqlalchemy.orm import configure_mappers

    from plugin.db import get_db
    from plugin.ingest.registry import handlers

    global _worker_app
    _import_job_modules()
    if _worker_app is None:
        _worker_app = create_app()
    app = _worker_app
    with app.app_context():
        handlers()
        configure_mappers()
        db = get_db()
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if dispose_connections:
            db.engine.dispose()
    return app


def run_job(name: str, *args: Any) -> None:
    """RQ's entry point for every Tastemaker job."""
    from rq import get_current_job

    spec = JOBS.get(name)
    if spec is None:
        _import_job_modules()
        spec = JOBS[name]
    rq_job = get_current_job()
    token = current_job_id.set(rq_job.id if rq_job else None)
    try:
        with worker_app().app_context():
            get_backend().started(spec, args)
            spec.func(*args)
    except RetryableJobError:
        raise
    except Exception:
        # Terminal: retrying cannot help, so spend no retries; the job lands in the failed registry.
        if rq_job is not None:
            rq_job.retries_left = 0
        raise
    finally:
        current_job_id.reset(token)


def _import_job_modules() -> None:
    import workers.jobs  # noqa: F401 - registers every job
