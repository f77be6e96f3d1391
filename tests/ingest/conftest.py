"""Ingest fixtures: a sandbox shop with a webhook secret, and the simulated store signing for it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sandbox import signing
from connectors.sandbox.store import WEBHOOK_PATH, SandboxStore, Transport
from plugin.extensions import credentials
from plugin.ingest import registry
from plugin.ingest.registry import HandlerContext, handlers
from plugin.models import Shop, WebhookEvent
from plugin.services.shops import create_or_reinstall_shop
from workers.backends import InProcessBackend
from workers.runtime import get_backend

SHOP_DOMAIN = "alpha.sandbox.test"
WEBHOOK_SECRET = "whsec-alpha-0123456789"


def make_sandbox_shop(session: Session, app: Flask, domain: str, secret: str) -> Shop:
    shop = create_or_reinstall_shop(
        session,
        credentials(app),
        platform="sandbox",
        domain=domain,
        credentials={"webhook_secret": secret},
    )
    session.commit()
    return shop


def client_transport(client: FlaskClient) -> Transport:
    return lambda path, body, headers: client.post(path, data=body, headers=headers).status_code


def signed_headers(
    body: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    topic: str = "orders/create",
    domain: str = SHOP_DOMAIN,
    event_id: str | None = None,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        signing.TOPIC_HEADER: topic,
        signing.SHOP_HEADER: domain,
        signing.EVENT_ID_HEADER: event_id or str(uuid.uuid4()),
        signing.SIGNATURE_HEADER: signing.sign(body, secret),
    }


def post_webhook(client: FlaskClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(WEBHOOK_PATH, data=body, headers=headers)


def events(session: Session) -> list[WebhookEvent]:
    session.expire_all()
    return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def enqueued(app: Flask) -> list[tuple[str, tuple[Any, ...]]]:
    backend = get_backend(app)
    assert isinstance(backend, InProcessBackend)
    return list(backend.enqueued)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Replace order_changed with a recorder: pipeline tests need no order service."""
    calls: list[tuple[str, int]] = []
    handlers()  # import every handler module first, so none re-registers over the recorder

    def record(context: HandlerContext) -> None:
        calls.append((context.event.topic, context.event.id))

    monkeypatch.setitem(registry._HANDLERS, "order_changed", record)
    return calls


@pytest.fixture
def shop(session: Session, app: Flask) -> Shop:
    return make_sandbox_shop(session, app, SHOP_DOMAIN, WEBHOOK_SECRET)


@pytest.fixture
def store(client: FlaskClient, shop: Shop) -> SandboxStore:
    return SandboxStore(
        domain=shop.domain, webhook_secret=WEBHOOK_SECRET, transport=client_transport(client)
    )
