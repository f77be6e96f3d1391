"""/readyz reports what waits and for how long: webhook backlog, click spool, sweeper."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plugin.models import WebhookEvent, utcnow
from tests.conftest import REDIS_URL
from workers import runtime
from workers.backends import RQBackend
from workers.jobs.webhooks import sweep_pending_events


def test_a_webhook_backlog_and_an_unflushed_click_spool_are_reported_with_their_age(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    # given an event pending for ten minutes and a click segment nobody flushed for two
    session.add(
        WebhookEvent(
            platform="sandbox",
            topic="orders/create",
            dedupe_key="readyz-1",
            body=b"{}",
            received_at=utcnow() - timedelta(minutes=10),
        )
    )
    session.commit()
    clicks = app.config["TASTEMAKER"].spool_dir / "clicks"
    clicks.mkdir(parents=True)
    segment = clicks / "1-1-1.ready"
    segment.write_bytes(b'{"slug":"x"}\n')
    two_minutes_ago = time.time() - 120
    os.utime(segment, (two_minutes_ago, two_minutes_ago))
    # when
    response = client.get("/readyz")
    # then ready, with both backlogs flagged
    body = response.get_json()
    assert response.status_code == 200
    assert body["stale"] == ["click_spool", "webhooks"]
    assert body["backlog"]["webhooks"]["waiting"] == 1
    assert 590 < body["backlog"]["webhooks"]["oldest_age_seconds"] < 700
    assert body["backlog"]["click_spool"]["waiting"] == 1
    assert 110 < body["backlog"]["click_spool"]["oldest_age_seconds"] < 200


def test_a_sweeper_that_never_ran_is_stale_until_it_runs(
    app: Flask, client: FlaskClient, redis_connection: Any
) -> None:
    # given the real queue, and no cron yet
    runtime.init_app(app, RQBackend(REDIS_URL))
    assert client.get("/readyz").get_json()["backlog"]["sweeper"] == {
        "waiting": None,
        "oldest_age_seconds": None,
        "stale": True,
    }
    # when the sweeper runs
    sweep_pending_events()
    # then
    body = client.get("/readyz").get_json()
    assert body["backlog"]["sweeper"]["stale"] is False
    assert body["backlog"]["sweeper"]["oldest_age_seconds"] < 60
    assert "stale" not in body
