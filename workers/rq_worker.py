"""`tastemaker worker`: an RQ worker over the configured Redis, with RQ's retry scheduler."""

from __future__ import annotations

from collections.abc import Sequence

from workers.registry import QUEUES


def run_worker(queue_names: Sequence[str], *, burst: bool = False) -> int:
    from redis import Redis
    from rq import Queue, Worker

    import workers.jobs  # noqa: F401 - register every job before work starts
    from plugin.settings import load_settings
    from workers.runtime import worker_app

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
    worker_app()  # build the app (and fail on bad configuration) before taking jobs
    connection = Redis.from_url(settings.redis_url)
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker = Worker(queues, connection=connection)
    worker.work(with_scheduler=True, burst=burst)
    return 0
