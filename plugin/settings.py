"""Settings, read once from the environment through small typed coercers.

Every variable is documented in README.md ("Configuration"). Production mode refuses to start
without its secrets; the embedded default (SQLite, in-process queue) needs none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def as_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def as_int(name: str, raw: str | None, default: int, *, minimum: int = 0) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_url(
    name: str, raw: str | None, default: str | None, *, schemes: tuple[str, ...]
) -> str | None:
    if raw is None or raw == "":
        return default
    value = raw.strip()
    if not value.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        allowed = ", ".join(schemes)
        raise ConfigurationError(f"{name} must be a URL with scheme {allowed}, got {value!r}")
    return value.rstrip("/") if schemes == ("http", "https") else value


def as_list(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite:///{DEFAULT_INSTANCE_DIR / 'tastemaker.sqlite3'}"
    redis_url: str | None = None
    secret_key: str = "dev-secret-key-not-for-production"  # noqa: S105 - development default only
    encryption_key: str | None = None
    public_url: str = "http://127.0.0.1:5000"
    shopify_api_key: str | None = None
    shopify_api_secret: str | None = None
    shopify_previous_api_secret: str | None = None
    shopify_api_version: str = "2026-10"
    shopify_base_url_override: str | None = None
    # Where the embedded admin lives and where App Bridge comes from (the demo's stand-ins).
    shopify_admin_origin: str = "https://admin.shopify.com"
    shopify_app_bridge_url: str = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
    woocommerce_base_url_override: str | None = None
    spool_dir: Path = DEFAULT_INSTANCE_DIR / "spool"
    media_dir: Path = DEFAULT_INSTANCE_DIR / "media"
    webhook_max_body_bytes: int = 1_048_576
    job_default_timeout: int = 120
    log_level: str = "INFO"
    link_cache_seconds: int = 30
    # smtp:// (STARTTLS when offered) or smtps://; unset = the outbox stored in the database.
    smtp_url: str | None = None
    mail_from: str = "Tastemaker <no-reply@tastemaker.invalid>"
    # Tests only: lets post checks fetch from 127.0.0.1 (a local oEmbed server); never from env.
    allow_loopback_fetch: bool = False
    # Tests only: network -> oEmbed endpoint replacing the real one (a local server).
    post_check_endpoints: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def embedded_queue(self) -> bool:
        return self.redis_url is None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)


PRODUCTION_SECRETS = (
    "TASTEMAKER_SECRET_KEY",
    "TASTEMAKER_ENCRYPTION_KEY",
    "TASTEMAKER_DATABASE_URL",
    "TASTEMAKER_PUBLIC_URL",
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment; raises ConfigurationError with a one-line message."""
    env = os.environ if environ is None else environ
    mode = env.get("TASTEMAKER_ENV", "development").strip().lower()
    if mode not in {"development", "production", "test"}:
        raise ConfigurationError(
            f"TASTEMAKER_ENV must be development, production or test, got {mode!r}"
        )
    if mode == "production":
        for name in PRODUCTION_SECRETS:
            if not env.get(name):
                raise ConfigurationError(f"{name} is required when TASTEMAKER_ENV=production")
    defaults = Settings()
    instance_dir = Path(env.get("TASTEMAKER_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
    database_url = env.get("TASTEMAKER_DATABASE_URL") or (
        f"sqlite:///{instance_dir / 'tastemaker.sqlite3'}"
    )
    if not database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigurationError(
            "TASTEMAKER_DATABASE_URL must be a sqlite:// or postgresql:// URL, "
            f"got {database_url!r}"
        )
    return Settings(
        env=mode,
        database_url=normalize_database_url(database_url),
        redis_url=as_url(
            "TASTEMAKER_REDIS_URL",
            env.get("TASTEMAKER_REDIS_URL"),
            None,
            schemes=("redis", "rediss", "unix"),
        ),
        secret_key=env.get("TASTEMAKER_SECRET_KEY") or defaults.secret_key,
        encryption_key=env.get("TASTEMAKER_ENCRYPTION_KEY") or None,
        public_url=as_url(
            "TASTEMAKER_PUBLIC_URL",
            env.get("TASTEMAKER_PUBLIC_URL"),
            defaults.public_url,
            schemes=("http", "https"),
        )
        or defaults.public_url,
        shopify_api_key=env.get("SHOPIFY_API_KEY") or None,
        shopify_api_secret=env.get("SHOPIFY_API_SECRET") or None,
        shopify_previous_api_secret=env.get("SHOPIFY_PREVIOUS_API_SECRET") or None,
        shopify_api_version=env.get("SHOPIFY_API_VERSION") or defaults.shopify_api_version,
        shopify_base_url_override=as_url(
            "TASTEMAKER_SHOPIFY_BASE_URL",
            env.get("TASTEMAKER_SHOPIFY_BASE_URL"),
            None,
            schemes=("http", "https"),
        ),
        shopify_admin_origin=as_url(
            "TASTEMAKER_SHOPIFY_ADMIN_ORIGIN",
            env.get("TASTEMAKER_SHOPIFY_ADMIN_ORIGIN"),
            defaults.shopify_admin_origin,
            schemes=("http", "https"),
        )
        or defaults.shopify_admin_origin,
        shopify_app_bridge_url=as_url(
            "TASTEMAKER_SHOPIFY_APP_BRIDGE_URL",
            env.get("TASTEMAKER_SHOPIFY_APP_BRIDGE_URL"),
            defaults.shopify_app_bridge_url,
            schemes=("http", "https"),
        )
        or defaults.shopify_app_bridge_url,
        woocommerce_base_url_override=as_url(
            "TASTEMAKER_WOOCOMMERCE_BASE_URL",
            env.get("TASTEMAKER_WOOCOMMERCE_BASE_URL"),
            None,
            schemes=("http", "https"),
        ),
        spool_dir=Path(env.get("TASTEMAKER_SPOOL_DIR") or instance_dir / "spool"),
        media_dir=Path(env.get("TASTEMAKER_MEDIA_DIR") or instance_dir / "media"),
        webhook_max_body_bytes=as_int(
            "TASTEMAKER_WEBHOOK_MAX_BYTES",
            env.get("TASTEMAKER_WEBHOOK_MAX_BYTES"),
            defaults.webhook_max_body_bytes,
            minimum=1024,
        ),
        job_default_timeout=as_int(
            "TASTEMAKER_JOB_TIMEOUT",
            env.get("TASTEMAKER_JOB_TIMEOUT"),
            defaults.job_default_timeout,
            minimum=1,
        ),
        log_level=(env.get("TASTEMAKER_LOG_LEVEL") or "INFO").upper(),
        link_cache_seconds=as_int(
            "TASTEMAKER_LINK_CACHE_SECONDS",
            env.get("TASTEMAKER_LINK_CACHE_SECONDS"),
            defaults.link_cache_seconds,
            minimum=1,
        ),
        smtp_url=as_url(
            "TASTEMAKER_SMTP_URL", env.get("TASTEMAKER_SMTP_URL"), None, schemes=("smtp", "smtps")
        ),
        mail_from=env.get("TASTEMAKER_MAIL_FROM") or defaults.mail_from,
    )


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the common way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
