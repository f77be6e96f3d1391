"""Processing inbox events: the topic table, malformed payloads, skips, retries, one effect."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import RetryableConnectorError
from connectors.sandbox.store import SandboxStore
from plugin import create_app
from plugin.extensions import manifest
from plugin.ingest import registry
from plugin.ingest.processing import MAX_ATTEMPTS, process_event, process_pending
from plugin.ingest.registry import HandlerContext, handlers
from plugin.models import Shop, WebhookEvent, utcnow
from plugin.services.orders import lock_order
from plugin.services.shops import mark_uninstalled
from tests.conftest import make_settings
from tests.ingest.conftest import events, post_webhook, signed_headers


def _event(session: Session, shop: Shop | None, platform: str, topic: str, body: bytes) -> int:
    event = WebhookEvent(
        shop_id=shop.id if shop else None,
        platform=platform,
        topic=topic,
        dedupe_key=f"{platform}:{topic}:{secrets.token_hex(8)}",
        body=body,
    )
    session.add(event)
    session.commit()
    return event.id


def test_every_manifest_handler_is_registered(app: Flask) -> None:
    # given
    named = {subscription.handler for subscription in manifest(app).subscriptions()}
    # then
    assert named - set(handlers()) == set()


def test_verified_but_malformed_json_is_kept_failed_and_the_worker_carries_on(
    client: FlaskClient, session: Session, shop: Shop, run_jobs: Any
) -> None:
    # given a correctly signed delivery whose body is not JSON
    body = b'{"id": 1001, "status": '
    assert post_webhook(client, body, signed_headers(body)).status_code == 200
    # when the worker runs (and does not raise)
    ran = run_jobs()
    # then the event keeps its raw body and the error, for inspection
    assert ran == 1
    [event] = events(session)
    assert event.status == "failed"
    assert event.error is not None
    assert event.error.startswith("malformed JSON body: ")
    assert event.body == body


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[1, 2]", "malformed payload: expected a JSON object, got list"),
        (b'{"id": 1001}', "malformed payload: sandbox order payload: KeyError('currency')"),
    ],
)
def test_json_that_is_not_an_order_is_kept_failed(
    client: FlaskClient, session: Session, shop: Shop, run_jobs: Any, body: bytes, error: str
) -> None:
    # given
    assert post_webhook(client, body, signed_headers(body)).status_code == 200
    # when
    run_jobs()
    # then
    assert [(event.status, event.error) for event in events(session)] == [("failed", error)]


def test_order_events_of_an_uninstalled_shop_are_ignored_with_a_reason(
    session: Session, shop: Shop, store: SandboxStore, run_jobs: Any, recorded: list[Any]
) -> None:
    # given an order event that arrived just before the app was uninstalled
    store.deliver("orders/create", {"id": 1001})
    mark_uninstalled(session, shop)
    session.commit()
    # when
    run_jobs()
    # then
    assert recorded == []
    assert [(e.status, e.error) for e in events(session)] == [("ignored", "shop is uninstalled")]


def test_compliance_events_still_run_for_an_uninstalled_shop(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a shop/redact for a shop that uninstalled the app 48 hours earlier
    ran: list[int] = []
    handlers()
    monkeypatch.setitem(
        registry._HANDLERS, "shop_redact", lambda context: ran.append(context.event.id)
    )
    shop.platform = "shopify"
    mark_uninstalled(session, shop)
    event_id = _event(session, shop, "shopify", "shop/redact", b'{"shop_id": 1}')
    # when
    status = process_event(session, event_id)
    # then
    assert (status, ran) == ("processed", [event_id])


def test_topic_without_a_handler_is_ignored(session: Session, shop: Shop) -> None:
    # given
    event_id = _event(session, shop, "sandbox", "orders/fulfilled", b"{}")
    # when
    status = process_event(session, event_id)
    # then
    assert status == "ignored"
    assert [e.error for e in events(session)] == ["no handler for sandbox orders/fulfilled"]


def test_processed_or_missing_events_are_left_alone(
    session: Session, shop: Shop, recorded: list[Any]
) -> None:
    # given an event processed once
    event_id = _event(session, shop, "sandbox", "orders/create", b"{}")
    assert process_event(session, event_id) == "processed"
    # when it is processed again, and an id that does not exist is processed
    again, missing = process_event(session, event_id), process_event(session, event_id + 999)
    # then
    assert (again, missing) == (None, None)
    assert recorded == [("orders/create", event_id)]
    assert [(e.status, e.attempts) for e in events(session)] == [("processed", 1)]


def test_retryable_connector_error_keeps_the_event_pending_until_its_next_attempt(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a handler whose store call times out and asks for 90 seconds
    def flaky(context: HandlerContext) -> None:
        raise RetryableConnectorError("store timed out", retry_after=90.0)

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", flaky)
    event_id = _event(session, shop, "sandbox", "orders/create", b"{}")
    # when
    status = process_event(session, event_id)
    # then it stays pending, with the attempt counted and the wait recorded
    assert status == "pending"
    [event] = events(session)
    assert (event.status, event.attempts, event.error) == (
        "pending",
        1,
        "retrying: store timed out",
    )
    assert event.next_attempt_at is not None
    wait = event.next_attempt_at - utcnow()
    assert timedelta(seconds=80) < wait <= timedelta(seconds=90)
    # and no drain claims it before that time
    assert process_pending(session, limit=10).claimed == 0


def test_an_event_whose_wait_is_over_is_claimed_again(
    session: Session, shop: Shop, recorded: list[tuple[str, int]]
) -> None:
    # given an event that failed transiently and whose next attempt time has passed
    event_id = _event(session, shop, "sandbox", "orders/create", b"{}")
    event = session.get_one(WebhookEvent, event_id)
    event.attempts, event.next_attempt_at = 1, utcnow() - timedelta(seconds=1)
    session.commit()
    # when
    batch = process_pending(session, limit=10)
    # then
    assert batch.outcomes == {event_id: "processed"}
    assert recorded == [("orders/create", event_id)]
    assert [(e.status, e.attempts, e.next_attempt_at) for e in events(session)] == [
        ("processed", 2, None)
    ]


def test_retryable_errors_give_up_after_max_attempts(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an event that already failed transiently MAX_ATTEMPTS - 1 times
    def flaky(context: HandlerContext) -> None:
        raise RetryableConnectorError("store timed out")

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", flaky)
    event_id = _event(session, shop, "sandbox", "orders/create", b"{}")
    session.get_one(WebhookEvent, event_id).attempts = MAX_ATTEMPTS - 1
    session.commit()
    # when
    status = process_event(session, event_id)
    # then
    assert status == "failed"
    assert [(e.status, e.error) for e in events(session)] == [
        ("failed", f"gave up after {MAX_ATTEMPTS} attempts: store timed out")
    ]


def test_a_handler_bug_undoes_only_its_own_writes_and_the_batch_goes_on(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a handler that writes, then fails on its first event only
    seen: list[int] = []

    def buggy_once(context: HandlerContext) -> None:
        seen.append(context.event.id)
        context.shop.name = f"written by {len(seen)}"  # type: ignore[union-attr]
        context.session.flush()
        if len(seen) == 1:
            raise ZeroDivisionError("boom")

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", buggy_once)
    first = _event(session, shop, "sandbox", "orders/create", b"{}")
    second = _event(session, shop, "sandbox", "orders/create", b"[]")
    # when one drain takes both
    batch = process_pending(session, limit=10)
    # then the first is failed with its error, its write undone; the second applied
    assert batch.outcomes == {first: "failed", second: "processed"}
    session.expire_all()
    assert session.get_one(Shop, shop.id).name == "written by 2"
    assert [(e.status, e.error) for e in events(session)] == [
        ("failed", "ZeroDivisionError: boom"),
        ("processed", None),
    ]


def test_a_batch_takes_the_oldest_pending_events_up_to_its_limit(
    session: Session, shop: Shop, recorded: list[tuple[str, int]]
) -> None:
    # given three pending events
    ids = [_event(session, shop, "sandbox", "orders/create", f"[{n}]".encode()) for n in range(3)]
    # when
    first, second = process_pending(session, limit=2), process_pending(session, limit=2)
    # then
    assert list(first.outcomes) == ids[:2]
    assert list(second.outcomes) == ids[2:]
    assert [event_id for _topic, event_id in recorded] == ids


def test_a_full_batch_asks_for_another_drain_before_it_works(
    session: Session, shop: Shop, recorded: list[tuple[str, int]]
) -> None:
    # given two pending events
    for n in range(2):
        _event(session, shop, "sandbox", "orders/create", f"[{n}]".encode())
    asked: list[int] = []
    # when a batch of 2, then a batch of 3, run
    process_pending(session, limit=2, on_full_claim=lambda: asked.append(len(recorded)))
    process_pending(session, limit=3, on_full_claim=lambda: asked.append(len(recorded)))
    # then only the full claim asked, and before any handler ran
    assert asked == [0]


@pytest.fixture
def committed_event(engine: Engine) -> Iterator[tuple[sessionmaker[Session], int]]:
    """A shop and a pending event committed for real (threads need their own connections)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        shop = Shop(platform="sandbox", domain="race.sandbox.test", public_key="pk_race_test")
        session.add(shop)
        session.flush()
        event = WebhookEvent(
            shop_id=shop.id,
            platform="sandbox",
            topic="orders/create",
            dedupe_key="race:evt-1",
            body=b"{}",
        )
        session.add(event)
        session.commit()
        shop_id, event_id = shop.id, event.id
    yield factory, event_id
    with factory() as session:
        session.execute(delete(WebhookEvent).where(WebhookEvent.shop_id == shop_id))
        session.execute(delete(Shop).where(Shop.id == shop_id))
        session.commit()


def test_two_workers_processing_the_same_event_at_once_apply_it_once(
    committed_event: tuple[sessionmaker[Session], int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a handler slow enough that both workers are inside process_event together
    factory, event_id = committed_event
    app = create_app(make_settings(tmp_path))
    effects: list[int] = []

    def slow_effect(context: HandlerContext) -> None:
        effects.append(context.event.id)
        time.sleep(0.3)

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", slow_effect)
    start = threading.Barrier(2)
    results: list[str | None] = []

    def worker() -> None:
        with app.app_context(), factory() as session:
            start.wait()
            results.append(process_event(session, event_id))

    # when
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly one worker applied it
    assert effects == [event_id]
    assert sorted(results, key=str) == [None, "processed"]
    with factory() as session:
        event = session.get_one(WebhookEvent, event_id)
        assert (event.status, event.attempts) == ("processed", 1)


def test_an_event_whose_order_another_batch_holds_waits_for_the_end_of_the_batch(
    postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given (on PostgreSQL, whose advisory locks guard orders) events for orders 1 and 2,
    # and a handler that takes the order's lock
    factory = sessionmaker(bind=postgres_engine, expire_on_commit=False)
    session = factory()
    shop = Shop(platform="sandbox", domain="busy.sandbox.test", public_key="pk_busy_test")
    session.add(shop)
    session.commit()
    _event(session, shop, "sandbox", "orders/create", b'{"id": 1}')
    _event(session, shop, "sandbox", "orders/create", b'{"id": 2}')
    applied: list[int] = []
    order_2_applied = threading.Event()

    def apply(context: HandlerContext) -> None:
        lock_order(context.session, shop.id, context.payload["id"])
        applied.append(context.payload["id"])
        if context.payload["id"] == 2:
            order_2_applied.set()

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", apply)
    app = create_app(make_settings(tmp_path))
    # and another transaction holding order 1 until order 2 is applied (or, should the drain
    # wait on order 1 first, for 10 s: then order 1 comes first and the test fails)
    other = factory()
    lock_order(other, shop.id, 1)

    def release_after_order_2() -> None:
        order_2_applied.wait(10)
        other.rollback()

    releaser = threading.Thread(target=release_after_order_2)
    releaser.start()
    try:
        # when a drain takes both
        with app.app_context():
            batch = process_pending(session, limit=10)
    finally:
        releaser.join()
        other.close()
        session.execute(delete(WebhookEvent).where(WebhookEvent.shop_id == shop.id))
        session.execute(delete(Shop).where(Shop.id == shop.id))
        session.commit()
        session.close()
    # then order 2 went first, and order 1 once the other transaction let go
    assert applied == [2, 1]
    assert sorted(batch.outcomes.values()) == ["processed", "processed"]


def test_two_drains_at_once_split_the_inbox_and_apply_every_event_once(
    postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given (on PostgreSQL, where claims skip each other's rows) 40 pending events
    factory = sessionmaker(bind=postgres_engine, expire_on_commit=False)
    with factory() as session:
        shop = Shop(platform="sandbox", domain="split.sandbox.test", public_key="pk_split_test")
        session.add(shop)
        session.commit()
        ids = [
            _event(session, shop, "sandbox", "orders/create", f"[{n}]".encode()) for n in range(40)
        ]
    applied: list[int] = []
    per_worker: dict[str, int] = {}

    def slow_apply(context: HandlerContext) -> None:
        applied.append(context.event.id)
        time.sleep(0.005)

    handlers()
    monkeypatch.setitem(registry._HANDLERS, "order_changed", slow_apply)
    app = create_app(make_settings(tmp_path))
    start = threading.Barrier(2)

    def drain(name: str) -> None:
        with app.app_context(), factory() as session:
            start.wait()
            while claimed := process_pending(session, limit=5).claimed:
                per_worker[name] = per_worker.get(name, 0) + claimed

    # when two workers drain at the same time
    try:
        threads = [threading.Thread(target=drain, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with factory() as session:
            statuses = [session.get_one(WebhookEvent, event_id).status for event_id in ids]
    finally:
        with factory() as session:
            session.execute(delete(WebhookEvent).where(WebhookEvent.shop_id == shop.id))
            session.execute(delete(Shop).where(Shop.id == shop.id))
            session.commit()
    # then each event was applied exactly once, both workers took part, and all are processed
    assert sorted(applied) == ids
    assert set(per_worker) == {"a", "b"}
    assert statuses == ["processed"] * 40
