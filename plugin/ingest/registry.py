"""The topic -> handler table. manifest.yml names a handler for each subscribed topic.

Handlers register themselves by name with `@handler("order_changed")`; the modules listed in
HANDLER_MODULES are imported by `handlers()`. A test checks every manifest handler exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import Connector
from plugin.crypto import CredentialBox
from plugin.models import Shop, WebhookEvent

HANDLER_MODULES = ("plugin.ingest.handlers", "plugin.ingest.privacy")


@dataclass(frozen=True)
class HandlerContext:
    session: Session
    event: WebhookEvent
    shop: Shop | None
    connector: Connector
    payload: Any  # the parsed JSON body
    credentials: CredentialBox


Handler = Callable[[HandlerContext], None]
_HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if name in _HANDLERS and _HANDLERS[name] is not func:
            raise ValueError(f"handler {name!r} registered twice")
        _HANDLERS[name] = func
        return func

    return register


def handlers() -> dict[str, Handler]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return dict(_HANDLERS)
