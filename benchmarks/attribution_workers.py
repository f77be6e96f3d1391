"""The attribution benchmark's workers (benchmarks.attribution): real `tastemaker worker`
processes kept for a whole run and switched between the shipped metric-rollup hooks and no-ops,
and one timed drain through them, with the machine's CPU per item split per kind of process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from benchmarks._util import cpu_by_kind, machine_busy_seconds

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET_KEY = "benchmark-secret-key"  # noqa: S105 - the benchmark's throwaway key


@dataclass
class Drained:
    rate: float  # items per second, first job start to last job end
    cpu_us: float  # the whole machine's busy CPU time per item, from sending to done


class Workers:
    """`count` worker processes kept for the whole run, each exactly `tastemaker worker --queues
    webhooks` (or `--fork`), switched between the shipped rollup hooks and no-ops by a signal
    while idle: both arms of the A/B then run in the same warm processes, on the same open
    connections, and neither pays a process start or a cold cache the other does not."""

    def __init__(self, url: str, count: int, redis: Redis, model: str, modes: Path) -> None:
        env = {
            **os.environ,
            "TASTEMAKER_DATABASE_URL": url,
            "TASTEMAKER_REDIS_URL": REDIS_URL,
            "TASTEMAKER_SECRET_KEY": SECRET_KEY,
            "TASTEMAKER_LOG_LEVEL": "WARNING",
            "TM_BENCH_WORKER": model,
            "TM_BENCH_MODES": str(modes),
        }
        command = [
            sys.executable,
            "-c",
            "import benchmarks.attribution_workers as w; w.worker_main()",
        ]
        self.modes = modes
        self.processes = [
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(count)
        ]
        _wait_for(lambda: Worker.count(connection=redis) == count, "workers to start")

    def switch(self, rollups: bool) -> None:
        """Rollup hooks on or off in every worker; returns once each has said it switched."""
        wanted = "on" if rollups else "off"
        for process in self.processes:
            process.send_signal(signal.SIGUSR1 if rollups else signal.SIGUSR2)
        _wait_for(
            lambda: all(_mode_of(self.modes, process.pid) == wanted for process in self.processes),
            f"workers to switch their rollups {wanted}",
        )

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)


def _mode_of(modes: Path, pid: int) -> str | None:
    try:
        return (modes / str(pid)).read_text()
    except FileNotFoundError:
        return None


def drain(
    redis: Redis,
    items: int,
    send: Callable[[], None],
    done: Callable[[], bool],
    pids: Sequence[int] = (),
) -> Drained:
    """`send` the work to the running workers and wait until it is `done`; returns `items` per
    second over the jobs they finished, and the machine's CPU time per item meanwhile. The
    finished jobs are then deleted, so the next drain counts only its own."""
    busy_before = machine_busy_seconds()
    kinds_before = cpu_by_kind(pids)
    send()
    _wait_for(done, "the work to finish")
    busy = machine_busy_seconds() - busy_before
    kinds = cpu_by_kind(pids)
    split = {k: (kinds[k] - kinds_before.get(k, 0.0)) / items * 1e6 for k in kinds}
    split["kernel+gone"] = busy / items * 1e6 - sum(split.values())
    print(
        "  CPU us/item: "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(split.items()) if abs(v) >= 5)
    )
    queue = Queue("webhooks", connection=redis)
    if queue.count or queue.failed_job_registry.count:
        raise RuntimeError(f"{queue.count} jobs left, {queue.failed_job_registry.count} failed")
    registry = queue.finished_job_registry
    job_ids = registry.get_job_ids()
    jobs = [j for j in Job.fetch_many(job_ids, connection=redis) if j is not None]
    for job_id in job_ids:
        registry.remove(job_id, delete_job=True)
    started = min(j.started_at for j in jobs if j.started_at is not None)
    ended = max(j.ended_at for j in jobs if j.ended_at is not None)
    durations = sorted(
        (j.ended_at - j.started_at).total_seconds()
        for j in jobs
        if j.started_at is not None and j.ended_at is not None
    )
    print(
        f"  {len(jobs)} jobs, median job {durations[len(durations) // 2] * 1000:.1f} ms "
        f"(in the worker process)"
    )
    return Drained(items / (ended - started).total_seconds(), busy / items * 1e6)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.05)


def worker_main() -> None:
    """One worker process on the webhooks queue: `shipped` is exactly `tastemaker worker --queues
    webhooks`; `fork` is the same with `--fork` (a forked work horse per job). SIGUSR1 puts the
    shipped rollup hooks in place, SIGUSR2 no-ops (`Workers.switch`); each switch is written to
    TM_BENCH_MODES/<pid>."""
    import benchmarks.attribution  # noqa: F401 - registers the no-op baseline job
    from benchmarks.metrics_write_overhead import hooks
    from workers.rq_worker import run_worker

    model = os.environ.get("TM_BENCH_WORKER", "shipped")
    modes = Path(os.environ["TM_BENCH_MODES"])
    replaced: list[AbstractContextManager[None]] = []

    def switch(rollups: bool) -> None:
        # Only while idle (the benchmark switches between drains): the hooks are module globals.
        if rollups and replaced:
            replaced.pop().__exit__(None, None, None)
        elif not rollups and not replaced:
            replaced.append(hooks(enabled=False))
            replaced[0].__enter__()
        (modes / str(os.getpid())).write_text("on" if rollups else "off")

    signal.signal(signal.SIGUSR1, lambda *_: switch(True))
    signal.signal(signal.SIGUSR2, lambda *_: switch(False))
    raise SystemExit(run_worker(["webhooks"], fork=model == "fork"))
