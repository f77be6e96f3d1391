"""Tastemaker: the Flask app. `create_app()` wires each subsystem through its init_app."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from plugin.settings import Settings, load_settings


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` is a Settings, or overrides applied on top of the environment."""
    settings = _resolve_settings(config)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        TASTEMAKER=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=max(settings.webhook_max_body_bytes, 20 * 1024 * 1024),
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    configure_logging(settings.log_level)

    from plugin import db, extensions, web
    from workers import runtime

    db.init_app(app)
    runtime.init_app(app)
    extensions.init_app(app)
    web.init_app(app)
    return app


def _resolve_settings(config: Settings | Mapping[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    settings = load_settings()
    return settings.with_overrides(**dict(config)) if config else settings


def configure_logging(level: str) -> None:
    from workers.runtime import JobIdLogFilter

    root = logging.getLogger()
    if any(getattr(handler, "_tastemaker", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._tastemaker = True  # type: ignore[attr-defined]
    handler.addFilter(JobIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [job=%(job_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
