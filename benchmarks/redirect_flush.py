"""The click flush's part of benchmarks.redirect: the production flush (`tastemaker cron` and a
`tastemaker worker --queues periodic`) running while the redirect is loaded, and two
measurements after the rounds:

- drain: a burst of closed-loop redirects (new connection per request) with the flush running
  as in production; how many clicks it stored during the burst, and the time from the burst's
  end until every click is stored (goal <= 10 s);
- capacity: a second burst with the worker paused (SIGSTOP), so the whole burst waits in the
  spool; then the worker resumes and the clicks stored per second are measured from the first
  stored click to the last (the flush's sustained rate, without the second until the next tick
  and the idle segments' sealing, which the drain time already counts). Goal: >= 1.5x the
  redirect's closed-loop new-connection rate measured in the same run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import make_engine
from plugin.models import Click, ClickDay
from plugin.services.click_flush import flush_spool
from plugin.spool import Spool

ROOT = Path(__file__).resolve().parent.parent
TASTEMAKER = str(Path(sys.executable).with_name("tastemaker"))
# Flushed before and after: TASTEMAKER_BENCH_REDIS_URL gives two concurrent runs a database each.
REDIS_URL = os.environ.get("TASTEMAKER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
GOAL_FLUSH_RATIO = 1.5
GOAL_DRAIN_SECONDS = 10.0

# (requests per second, requests completed) of a closed-loop burst of so many seconds
Burst = Callable[[float], tuple[float, int]]


class PeriodicFlusher:
    """The production flush path: the cron scheduler and one worker on the periodic queue."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        Redis.from_url(REDIS_URL).flushdb()
        for name, command in (("cron", ["cron"]), ("worker", ["worker", "--queues", "periodic"])):
            self.processes[name] = subprocess.Popen(
                [TASTEMAKER, *command],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The worker stopped (SIGSTOP) and continued afterwards; the cron keeps ticking."""
        worker = self.processes["worker"]
        worker.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            worker.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():  # only the processes started here, by pid
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        redis = Redis.from_url(REDIS_URL)
        redis.flushdb()
        redis.close()


@contextmanager
def periodic_flusher(env: dict[str, str]) -> Iterator[PeriodicFlusher]:
    flusher = PeriodicFlusher(env)
    flusher.start()
    try:
        yield flusher
    finally:
        flusher.stop()


@dataclass
class Progress:
    start_count: int
    first: float | None = None  # seconds until the first click more than at the start
    first_count: int = 0
    done: float | None = None  # seconds until every click expected was stored
    done_count: int = 0

    def steady_rate(self) -> float:
        """Clicks stored per second from the first progress seen to the last click."""
        if self.done is None or self.first is None or self.done <= self.first:
            return 0.0
        return (self.done_count - self.first_count) / (self.done - self.first)


class ClickCounter:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def count(self) -> int:
        """Clicks stored, read from their rollup cells (updated in the flush's transaction): one
        row to sum, where counting the raw rows 20 times a second would compete with the flush."""
        with Session(self.engine) as session:
            return int(session.scalar(select(func.coalesce(func.sum(ClickDay.clicks), 0))) or 0)

    def raw_count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(Click)) or 0)

    def wait_for(self, expected: int, timeout: float) -> Progress:
        """Polls every 0.05 s until `expected` clicks are stored or `timeout` seconds passed."""
        started = time.monotonic()
        progress = Progress(start_count=self.count())
        while time.monotonic() - started < timeout:
            stored = self.count()
            if progress.first is None and stored > progress.start_count:
                progress.first, progress.first_count = time.monotonic() - started, stored
            if stored >= expected:
                progress.done, progress.done_count = time.monotonic() - started, stored
                break
            time.sleep(0.05)
        return progress

    def final_drain(self, spool_dir: Path) -> int:
        """Every writer and flusher has stopped: flush what is left; returns the stored total."""

        @contextmanager
        def transaction() -> Iterator[Session]:
            with Session(self.engine) as session, session.begin():
                yield session

        spool = Spool(spool_dir, "clicks", fsync=False)
        flush_spool(spool, transaction, wait=True, stale_after=0.0)
        return self.raw_count()

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class FlushFigures:
    caught_up: float | None  # seconds after the rounds until their clicks were all stored
    burst_rate: float
    burst_clicks: int
    stored_during_burst: int
    drain: float | None
    paused_backlog: int
    capacity: float  # clicks stored per second, first to last, of the paused backlog
    resume_to_done: float | None

    def report(self, closed_loop: float, burst_seconds: float) -> str:
        def seconds(value: float | None) -> str:
            return f"{value:.1f} s" if value is not None else "not within 120 s"

        return (
            f"click flush: caught up with the rounds' clicks {seconds(self.caught_up)} after them\n"
            f"  drain: a {burst_seconds:g} s burst of {self.burst_clicks} clicks at "
            f"{self.burst_rate:.0f}/s, {self.stored_during_burst} of them stored during it; "
            f"every click stored {seconds(self.drain)} after it ended "
            f"(goal <= {GOAL_DRAIN_SECONDS:g} s)\n"
            f"  capacity: {self.paused_backlog} clicks spooled with the worker paused, stored "
            f"at {self.capacity:.0f} clicks/s once it resumed ({seconds(self.resume_to_done)} "
            f"from resuming to the last) = {self.capacity / closed_loop:.2f}x the redirect's "
            f"closed-loop rate of {closed_loop:.0f}/s (goal >= {GOAL_FLUSH_RATIO})"
        )

    def meets_goals(self, closed_loop: float) -> bool:
        return (
            self.drain is not None
            and self.drain <= GOAL_DRAIN_SECONDS
            and self.capacity >= GOAL_FLUSH_RATIO * closed_loop
        )


def measure_flush(
    counter: ClickCounter, flusher: PeriodicFlusher, burst: Burst, seconds: float, seen: int
) -> tuple[FlushFigures, int]:
    """Both flush measurements; returns the figures and the redirects seen, updated."""
    caught_up = counter.wait_for(seen, 120).done
    before = counter.count()
    burst_rate, burst_clicks = burst(seconds)
    seen += burst_clicks
    stored_during_burst = counter.count() - before
    drain = counter.wait_for(seen, 120).done
    with flusher.paused():
        _, paused_clicks = burst(seconds)
        seen += paused_clicks
        backlog = seen - counter.count()
    resumed = counter.wait_for(seen, 120)
    figures = FlushFigures(
        caught_up=caught_up,
        burst_rate=burst_rate,
        burst_clicks=burst_clicks,
        stored_during_burst=min(stored_during_burst, burst_clicks),
        drain=drain,
        paused_backlog=backlog,
        capacity=resumed.steady_rate(),
        resume_to_done=resumed.done,
    )
    return figures, seen
