from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow


class Shop(IdMixin, TimestampMixin, Base):
    __tablename__ = "shops"
    __table_args__ = (UniqueConstraint("platform", "domain"),)

    platform: Mapped[str] = mapped_column(String(32))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    # Public, non-secret key that storefront embeds use to name the shop.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Fernet token of a JSON object (access/refresh tokens, consumer keys, webhook secret).
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    attribution_window_days: Mapped[int] = mapped_column(default=30)
    hold_days: Mapped[int] = mapped_column(default=30)
    payout_minimum_minor: Mapped[int] = mapped_column(default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(32), default="active")
    installed_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class ApiKey(IdMixin, TenantMixin, TimestampMixin, Base):
    """A merchant's admin API key; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthState(IdMixin, TimestampMixin, Base):
    """A one-time nonce for an install flow in progress (Shopify state, WooCommerce user_id)."""

    __tablename__ = "oauth_states"

    platform: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    domain: Mapped[str] = mapped_column(String(255))
    shop_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("shops.id", ondelete="CASCADE"), default=None, index=True
    )
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
