"""The one job decorator: named queues, explicit timeouts, bounded retries for retryable errors.

A job is a plain function that takes ids (never ORM objects or payloads), loads its rows, and
returns cleanly when a row is gone, so running it twice is safe.

A coalescing job (`coalesce=True`) has at most one copy waiting in its queue: enqueueing it while
a copy waits does nothing, because the waiting copy will see the same work when it starts. The
copy stops counting as waiting the moment it starts, so work that arrives during a run gets a
new copy. It suits jobs that drain a table ("process what is pending"), not jobs about one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

QUEUES = ("webhooks", "codes", "rewards", "payouts", "email", "periodic")

P = ParamSpec("P")
R = TypeVar("R")


class RetryableJobError(Exception):
    """Raise (or wrap) a transient failure so the job is tried again after a backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    queue: str
    timeout: int
    retry_intervals: tuple[int, ...]
    coalesce: bool = False

    @property
    def max_retries(self) -> int:
        return len(self.retry_intervals)


JOBS: dict[str, JobSpec] = {}


def job(
    queue: str,
    *,
    timeout: int = 120,
    retry_intervals: tuple[int, ...] = (10, 60, 300),
    coalesce: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; queues are {QUEUES}")

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        name = f"{func.__module__}.{func.__qualname__}"
        JOBS[name] = JobSpec(name, func, queue, timeout, retry_intervals, coalesce)
        func.job_name = name  # type: ignore[attr-defined]
        return func

    return decorate


def spec_for(func: Callable[..., Any]) -> JobSpec:
    name = getattr(func, "job_name", None)
    if name is None or name not in JOBS:
        raise LookupError(f"{func!r} is not a registered job")
    return JOBS[name]


def coalescing_key(spec: JobSpec, args: tuple[Any, ...]) -> str:
    """Names the one waiting copy of a coalescing job with these arguments."""
    return f"{spec.name}{args!r}"
