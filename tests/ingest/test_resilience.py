"""Nothing is lost: Redis down -> the event waits in the database for the sweeper; database down ->
the raw delivery waits in the spool for the replay."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from connectors.sandbox.store import SandboxStore
from plugin import create_app
from plugin.ingest.stats import stats_for
from plugin.models import Shop, WebhookEvent, utcnow
from plugin.settings import Settings
from plugin.spool import SEALS_FILE
from tests.conftest import REDIS_URL
from tests.ingest.conftest import enqueued, events, post_webhook, signed_headers
from workers import runtime
from workers.backends import RQBackend
from workers.jobs.webhooks import replay_spool, sweep_pending_events
from workers.schedule import sweep_once

DRAIN_JOB = "workers.jobs.webhooks.drain_webhook_inbox"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def _age_events(session: Session, by: timedelta) -> None:
    session.execute(update(WebhookEvent).values(received_at=utcnow() - by))
    session.commit()


def test_redis_down_answers_200_and_keeps_the_event_pending(
    app: Flask, session: Session, store: SandboxStore, caplog: pytest.LogCaptureFixture
) -> None:
    # given a queue that cannot be reached
    runtime.init_app(app, RQBackend(UNREACHABLE_REDIS))
    # when
    delivery = store.deliver("orders/create", {"id": 1001})
    # then the platform hears success and the event waits in the database
    assert delivery.status == 200
    assert [event.status for event in events(session)] == ["pending"]
    assert "left for the sweeper" in caplog.text


def test_sweeper_enqueues_events_left_pending_and_a_real_worker_processes_them(
    app: Flask,
    session: Session,
    store: SandboxStore,
    redis_connection: Any,
    recorded: list[tuple[str, int]],
) -> None:
    # given an event accepted while Redis was down, a while ago
    runtime.init_app(app, RQBackend(UNREACHABLE_REDIS))
    store.deliver("orders/create", {"id": 1001})
    _age_events(session, timedelta(minutes=2))
    [event] = events(session)
    # when Redis is back and the sweeper runs (as `tastemaker sweep` does)
    runtime.init_app(app, RQBackend(REDIS_URL))
    counts = sweep_once()
    # then the event is on the webhooks queue, once
    assert counts["sweep_pending_events"] == 1
    queue = Queue("webhooks", connection=redis_connection)
    assert queue.count == 1
    # and an RQ worker processes it
    runtime.set_worker_app(app)
    try:
        SimpleWorker([queue], connection=redis_connection).work(burst=True)
    finally:
        runtime.set_worker_app(None)
    assert recorded == [("orders/create", event.id)]
    assert [(e.status, e.error) for e in events(session)] == [("processed", None)]


def test_sweeper_waits_for_an_event_whose_retry_is_not_due(
    app: Flask, session: Session, store: SandboxStore, run_jobs: Any
) -> None:
    # given an old pending event that failed transiently and retries in a minute
    store.deliver("orders/create", {"id": 1001})
    _age_events(session, timedelta(minutes=2))
    session.execute(update(WebhookEvent).values(next_attempt_at=utcnow() + timedelta(minutes=1)))
    session.commit()
    run_jobs()  # the delivery's own drain finds nothing due
    assert [event.status for event in events(session)] == ["pending"]
    already = len(enqueued(app))
    # when
    waiting = sweep_pending_events()
    # then no drain is asked for yet
    assert waiting == 0
    assert len(enqueued(app)) == already
    # and once its time has come, one is
    session.execute(update(WebhookEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert sweep_pending_events() == 1
    assert enqueued(app)[already:] == [(DRAIN_JOB, ())]


def test_sweeper_leaves_fresh_and_finished_events_alone(
    app: Flask, session: Session, store: SandboxStore
) -> None:
    # given one event just received and one already handled long ago
    store.deliver("orders/create", {"id": 1001})
    store.deliver("orders/create", {"id": 1002})
    old, _fresh = events(session)
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == old.id)
        .values(status="processed", received_at=utcnow() - timedelta(hours=1))
    )
    session.commit()
    already = len(enqueued(app))
    # when
    sent = sweep_pending_events()
    # then
    assert sent == 0
    assert len(enqueued(app)) == already


def test_sweeper_stops_while_the_queue_is_still_down(
    app: Flask, session: Session, store: SandboxStore
) -> None:
    # given two old pending events and Redis still down
    runtime.init_app(app, RQBackend(UNREACHABLE_REDIS))
    store.deliver("orders/create", {"id": 1001})
    store.deliver("orders/create", {"id": 1002})
    _age_events(session, timedelta(minutes=2))
    # when
    sent = sweep_pending_events()
    # then nothing was sent and both still wait
    assert sent == 0
    assert [event.status for event in events(session)] == ["pending", "pending"]


def _down_app(settings: Settings) -> Flask:
    return create_app(settings.with_overrides(database_url=UNREACHABLE_DATABASE))


def test_database_down_spools_the_delivery_and_answers_202(
    settings: Settings, session: Session, shop: Shop
) -> None:
    # given an app whose database is unreachable
    down = _down_app(settings)
    body = json.dumps({"id": 1001}).encode()
    # when
    response = post_webhook(down.test_client(), body, signed_headers(body))
    # then
    assert response.status_code == 202
    assert response.get_json() == {"status": "spooled"}
    assert events(session) == []
    assert sorted(p.suffix for p in _segments(settings.spool_dir)) == [".ready"]
    assert stats_for(down).snapshot()["accepted"] == {"sandbox": {"spooled": 1}}


def test_spool_replay_records_each_delivery_exactly_once(
    app: Flask, settings: Settings, session: Session, shop: Shop
) -> None:
    # given a delivery spooled twice (the platform retried while the database was down)
    down_client = _down_app(settings).test_client()
    body = json.dumps({"id": 1001}).encode()
    headers = signed_headers(body, event_id="evt-1")
    assert post_webhook(down_client, body, headers).status_code == 202
    assert post_webhook(down_client, body, headers).status_code == 202
    # when the database is back and the spool is replayed, twice
    first = replay_spool()
    second = replay_spool()
    # then the delivery is recorded once, verified, and enqueued once
    assert (first, second) == (1, 0)
    [event] = events(session)
    assert (event.dedupe_key, event.body, event.shop_id) == (
        f"{shop.domain}:orders/create:evt-1",
        body,
        shop.id,
    )
    assert enqueued(app) == [(DRAIN_JOB, ())]
    assert _segments(settings.spool_dir) == []


def test_spool_replay_verifies_and_drops_forged_deliveries(
    app: Flask, settings: Settings, session: Session, shop: Shop, client: FlaskClient
) -> None:
    # given a forged delivery spooled while the database was down
    body = json.dumps({"id": 1001}).encode()
    assert (
        post_webhook(
            _down_app(settings).test_client(), body, signed_headers(body, secret="forged")
        ).status_code
        == 202
    )
    # when
    recorded = replay_spool()
    # then
    assert recorded == 0
    assert events(session) == []
    assert client.get("/internal/webhook-stats").get_json()["rejected"] == {
        "sandbox": {"bad_signature": 1}
    }
    assert _segments(settings.spool_dir) == []


def test_spool_is_kept_when_the_database_is_still_down_at_replay(settings: Settings) -> None:
    # given a spooled delivery and a replay running while the database is still down
    down = _down_app(settings)
    body = json.dumps({"id": 1001}).encode()
    assert post_webhook(down.test_client(), body, signed_headers(body)).status_code == 202
    # when
    with down.app_context(), pytest.raises(OperationalError):
        replay_spool()
    # then the delivery is still on disk for the next replay
    spooled: list[Path] = _segments(settings.spool_dir)
    assert [path.suffix for path in spooled] == [".claimed"]


def test_the_web_process_that_spooled_a_delivery_replays_it_itself(
    settings: Settings, tmp_path: Path
) -> None:
    # given a web process on a file-backed database with a shop, and a delivery it spooled
    # while the database was down (RQ workers elsewhere cannot see this host's spool)
    from plugin.db import get_db
    from plugin.ingest.inbox import inbound, spool_delivery, spool_for
    from plugin.ingest.replayer import ensure_replayer
    from plugin.migrate import upgrade
    from tests.ingest.conftest import SHOP_DOMAIN, WEBHOOK_SECRET, make_sandbox_shop

    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    upgrade(url)
    web = create_app(settings.with_overrides(database_url=url))
    with web.app_context():
        make_sandbox_shop(get_db(web).session(), web, SHOP_DOMAIN, WEBHOOK_SECRET)
    body = json.dumps({"id": 1001}).encode()
    headers = {name.lower(): value for name, value in signed_headers(body).items()}
    spool_delivery(spool_for(web), "sandbox", inbound(body, headers, "application/json"))
    # when the process's replayer runs
    ensure_replayer(web, interval=0.01).join(timeout=10)
    # then the delivery is in the inbox and the spool is empty
    with web.app_context():
        session = get_db(web).session()
        # (its processing job may already have run in the embedded queue: only the row matters)
        assert [e.topic for e in events(session)] == ["orders/create"]
    assert spool_for(web).pending_segments() == 0


def _segments(spool_dir: Path) -> list[Path]:
    """The webhook spool's segment files (not its shared `seals` token, see plugin.spool)."""
    return [path for path in (spool_dir / "webhooks").iterdir() if path.name != SEALS_FILE]
