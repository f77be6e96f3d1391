"""One bad event never holds up the inbox: it fails alone, or is retried with backoff and parked."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from connectors.base import MalformedPayload
from connectors.payload import MAX_DEPTH, load_json, nesting_depth
from plugin.ingest import processing, registry
from plugin.ingest.processing import MAX_ATTEMPTS, process_pending
from plugin.ingest.registry import HandlerContext, handlers
from plugin.models import Shop, WebhookEvent, utcnow
from tests.ingest.conftest import events, post_webhook, signed_headers
from workers.registry import RetryableJobError


def _event(session: Session, shop: Shop, body: bytes) -> int:
    event = WebhookEvent(
        shop_id=shop.id,
        platform="sandbox",
        topic="orders/create",
        dedupe_key=f"sandbox:{secrets.token_hex(8)}",
        body=body,
    )
    session.add(event)
    session.commit()
    return event.id


def test_a_signed_body_nested_100000_deep_fails_alone_and_later_events_are_processed(
    client: FlaskClient, session: Session, shop: Shop, run_jobs: Any, recorded: list[Any]
) -> None:
    # given a correctly signed poison body, then an ordinary delivery
    poison = b"[" * 100_000 + b"]" * 100_000
    ordinary = json.dumps({"id": 7}).encode()
    assert post_webhook(client, poison, signed_headers(poison)).status_code == 200
    assert post_webhook(client, ordinary, signed_headers(ordinary)).status_code == 200
    # when the worker drains
    run_jobs()
    # then the poison is failed with its reason and the later event went through
    first, second = events(session)
    assert first.status == "failed"
    assert first.error == f"JSON nested 100000 levels deep, more than {MAX_DEPTH}"
    assert first.body == poison
    assert second.status == "processed"
    assert [event_id for _, event_id in recorded] == [second.id]


def test_parse_bounds_on_depth_and_size() -> None:
    # given / then: strings do not count as nesting, brackets do
    assert nesting_depth(b'{"a": "[[[[[[[[", "b": [[1], {"c": []}]}') == 4
    assert load_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(MalformedPayload, match="nested 65 levels"):
        load_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(MalformedPayload, match="more than 10"):
        load_json(b'{"a": "0123456789"}', max_bytes=10)
    with pytest.raises(MalformedPayload, match="malformed JSON body"):
        load_json(b'{"a": ')


def test_a_failure_outside_the_handler_fails_that_event_and_the_batch_goes_on(
    session: Session, shop: Shop, recorded: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the topic lookup breaks on the first event only (say, a bug in a manifest reader)
    real = processing._subscription
    calls: list[str] = []

    def breaks_once(platform: str, topic: str) -> Any:
        calls.append(topic)
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real(platform, topic)

    monkeypatch.setattr(processing, "_subscription", breaks_once)
    first = _event(session, shop, b"{}")
    second = _event(session, shop, b"{}")
    # when
    batch = process_pending(session, limit=10)
    # then
    assert batch.outcomes == {first: "failed", second: "processed"}
    assert [(e.status, e.error) for e in events(session)] == [
        ("failed", "RecursionError: maximum recursion depth exceeded"),
        ("processed", None),
    ]


def test_an_event_that_breaks_every_batch_is_isolated_retried_with_backoff_then_parked(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an event whose handler always loses the connection, before and after a good one
    def apply(context: HandlerContext) -> None:
        if context.event.body == b"[0]":
            raise OperationalError("UPDATE orders", {}, Exception("server closed the connection"))

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", apply)
    bad = _event(session, shop, b"[0]")
    good = _event(session, shop, b"[1]")
    # when one drain takes both
    batch = process_pending(session, limit=10)
    # then the good event went through; the bad one waits for its next attempt
    assert batch.outcomes == {good: "processed", bad: "pending"}
    bad_event, good_event = events(session)
    assert (good_event.status, bad_event.status, bad_event.attempts) == ("processed", "pending", 1)
    assert bad_event.error is not None
    assert bad_event.error.startswith("retrying: OperationalError")
    assert bad_event.next_attempt_at is not None
    assert bad_event.next_attempt_at - utcnow() > timedelta(seconds=5)
    # and no drain takes it again before then: no tight loop
    assert process_pending(session, limit=10).claimed == 0
    # when its last allowed attempt fails too
    bad_event.attempts, bad_event.next_attempt_at = MAX_ATTEMPTS - 1, utcnow()
    session.commit()
    assert process_pending(session, limit=10).outcomes == {bad: "failed"}
    # then it is parked with the reason
    [parked, _] = events(session)
    assert parked.status == "failed"
    assert parked.error is not None
    assert parked.error.startswith(f"parked after {MAX_ATTEMPTS} failed attempts: Operational")


def test_while_the_database_is_down_no_event_is_charged_and_the_drain_is_retried(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given every statement after the claim fails, counting an attempt included
    def apply(context: HandlerContext) -> None:
        raise OperationalError("UPDATE orders", {}, Exception("server closed the connection"))

    def cannot_count(*args: Any) -> str:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", apply)
    monkeypatch.setattr(processing, "_count_failure", cannot_count)
    _event(session, shop, b"[1]")
    _event(session, shop, b"[2]")
    # when / then
    with pytest.raises(RetryableJobError):
        process_pending(session, limit=10)
    assert [(e.status, e.attempts) for e in events(session)] == [("pending", 0), ("pending", 0)]
