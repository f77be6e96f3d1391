"""The payout jobs: the daily fan-out and the per-shop batch."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import Payout
from tests.admin.factories import make_creator, make_entry, make_shop
from tests.conftest import REDIS_URL
from workers import runtime
from workers.backends import InProcessBackend, RQBackend
from workers.jobs.payouts import batch_all_shops, daily_batch_key
from workers.runtime import get_backend


def test_the_daily_job_batches_every_active_shop_once_per_day(
    app: Flask, session: Session, run_jobs: Callable[[], int]
) -> None:
    # given
    active = make_shop(session, "active.example")
    paused = make_shop(session, "paused.example", status="needs_reconnect")
    for shop in (active, paused):
        make_entry(session, shop, make_creator(session, shop, "anna"), 1_000)
    session.commit()
    active_id = active.id
    backend = get_backend(app)
    assert isinstance(backend, InProcessBackend)
    # when the daily job runs twice the same day
    assert batch_all_shops() == 1
    assert batch_all_shops() == 1
    run_jobs()
    # then one payout, keyed by the day
    (first_key,) = {args[1] for _, args in backend.enqueued}
    rows = (
        get_session().execute(select(Payout.shop_id, Payout.batch_key, Payout.amount_minor)).all()
    )
    assert rows == [(active_id, first_key, 1_000)]
    assert re.fullmatch(r"daily-\d{4}-\d{2}-\d{2}", first_key)
    assert [(name, args[0]) for name, args in backend.enqueued] == [
        ("workers.jobs.payouts.batch_shop_payouts", active_id),
        ("workers.jobs.payouts.batch_shop_payouts", active_id),
    ]


def test_daily_batch_key_is_the_utc_date() -> None:
    assert daily_batch_key(datetime(2026, 11, 25, 23, 59, tzinfo=UTC)) == "daily-2026-11-25"


@pytest.mark.redis
def test_a_real_rq_worker_runs_the_daily_batch(
    app: Flask, session: Session, redis_connection: Any
) -> None:
    # given a shop owed money, and the daily job sent through Redis
    shop = make_shop(session, "rq.example")
    make_entry(session, shop, make_creator(session, shop, "anna"), 2_500)
    session.commit()
    shop_id = shop.id
    runtime.init_app(app, RQBackend(REDIS_URL))
    runtime.enqueue(batch_all_shops)
    payouts_queue = Queue("payouts", connection=redis_connection)
    # when an RQ worker runs it (the fan-out enqueues the shop's batch on the same queue)
    runtime.set_worker_app(app)
    try:
        SimpleWorker([payouts_queue], connection=redis_connection).work(burst=True)
    finally:
        runtime.set_worker_app(None)
    # then
    rows = get_session().execute(select(Payout.shop_id, Payout.amount_minor)).all()
    assert rows == [(shop_id, 2_500)]
