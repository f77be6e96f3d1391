"""Periodic jobs, declared as data, and the runners that fire them.

`tastemaker cron` runs RQ's CronScheduler over PERIODIC (run exactly one). In the embedded mode a
daemon thread fires the same jobs on the same intervals. Every periodic job is idempotent.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    job: str  # dotted path of a registered job taking no arguments
    every_seconds: int


PERIODIC: tuple[Periodic, ...] = (
    Periodic("workers.jobs.webhooks.sweep_pending_events", 60),
    Periodic("workers.jobs.webhooks.replay_spool", 30),
    Periodic("workers.jobs.clicks.flush_clicks", 1),
    Periodic("workers.jobs.periodic.reconcile_all_shops", 15 * 60),
    Periodic("workers.jobs.payouts.batch_all_shops", 24 * 3600),
    Periodic("workers.jobs.woocommerce.check_all_webhooks", 60 * 60),
    Periodic("workers.jobs.shopify.ensure_all_shopify_webhooks", 6 * 60 * 60),
    Periodic("workers.jobs.ledger.post_flat_fees_all_shops", 60 * 60),
    Periodic("workers.jobs.rewards.sweep_pending_rewards", 10 * 60),
    Periodic("workers.jobs.rewards.settle_due_sprints", 15 * 60),
    Periodic("workers.jobs.rewards.expire_rights_grants", 15 * 60),
    Periodic("workers.jobs.metrics.prune_clicks_all_shops", 24 * 3600),
    Periodic("workers.jobs.metrics.compact_visitor_blocks_all_shops", 3 * 3600),
    Periodic("workers.jobs.email.sweep_unsent_email", 10 * 60),
    Periodic("workers.jobs.lift.activate_lift_waves", 5 * 60),
)


def resolve(dotted: str) -> Callable[..., Any]:
    module_name, _, attribute = dotted.rpartition(".")
    func: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return func


def sweep_once() -> dict[str, int]:
    """Enqueue everything left pending (the `tastemaker sweep` command)."""
    counts: dict[str, int] = {}
    for dotted in (
        "workers.jobs.webhooks.sweep_pending_events",
        "workers.jobs.codes.sweep_pending_codes",
        "workers.jobs.rewards.sweep_pending_rewards",
        "workers.jobs.email.sweep_unsent_email",
    ):
        counts[dotted.rsplit(".", 1)[-1]] = int(resolve(dotted)() or 0)
    return counts


def run_cron() -> int:
    from redis import Redis

    from plugin.settings import load_settings

    settings = load_settings()
    if not settings.redis_url:
        print(
            "tastemaker cron needs TASTEMAKER_REDIS_URL (embedded mode runs periodic jobs itself)"
        )
        return 2
    build_cron(Redis.from_url(settings.redis_url)).start()
    return 0


def build_cron(connection: Any) -> Any:
    """RQ's CronScheduler with every PERIODIC job, each through workers.runtime.run_job."""
    from rq.cron import CronScheduler

    from workers.runtime import run_job

    scheduler = CronScheduler(connection=connection)
    for periodic in PERIODIC:
        resolve(periodic.job)  # fail at start, not at the first tick, on a missing job
        scheduler.register(
            run_job,
            queue_name="periodic",
            args=(periodic.job,),
            interval=periodic.every_seconds,
            name=periodic.job,
        )
    return scheduler


def start_embedded_scheduler(app: Flask, stop: threading.Event) -> threading.Thread:
    """Fire PERIODIC jobs through the app's queue until `stop` is set (embedded mode)."""
    from workers.runtime import enqueue

    def loop() -> None:
        elapsed = 0
        while not stop.wait(1.0):
            elapsed += 1
            for periodic in PERIODIC:
                if elapsed % periodic.every_seconds:
                    continue
                with app.app_context():
                    enqueue(resolve(periodic.job))

    thread = threading.Thread(target=loop, name="tastemaker-periodic", daemon=True)
    thread.start()
    return thread
