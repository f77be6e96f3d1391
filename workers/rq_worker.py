"""`tastemaker worker`: an RQ worker over the configured Redis, with RQ's retry scheduler.

By default jobs run in the worker process itself (RQ's SimpleWorker): the app, its imports, its
mappers and its connection pool stay warm, which makes a short job ~20x cheaper than forking a
cold work horse for each one. Job timeouts are still enforced (SIGALRM). Run N worker processes
for parallelism; `--fork` gives each job its own process where isolation matters more than speed.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.registry import QUEUES


def run_worker(queue_names: Sequence[str], *, burst: bool = False, fork: bool = False) -> int:
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker

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
    warm_up(dispose_connections=fork)  # fail on bad configuration before taking any job
    connection = Redis.from_url(settings.redis_url)
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker_class = Worker if fork else SimpleWorker
    worker_class(queues, connection=connection).work(with_scheduler=True, burst=burst)
    return 0
