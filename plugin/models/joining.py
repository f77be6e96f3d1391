"""How a creator joins a shop: an application from the shop's public page, or an invitation the
merchant sends by email. Either ends in a Creator row once the merchant approves (applications)
or the creator accepts (invitations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin

APPLICATION_STATUSES = ("pending", "approved", "declined")
INVITATION_STATUSES = ("sent", "accepted", "revoked")


class CreatorApplication(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "creator_applications"
    shop_id_indexed = False
    __table_args__ = (
        # One application under review per email and shop; decided ones are kept as history
        # (is_open NULL), and NULLs never collide.
        UniqueConstraint("shop_id", "email_hash", "is_open"),
        Index("ix_creator_applications_shop_id_status", "shop_id", "status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_hash: Mapped[str] = mapped_column(String(64))
    # {"instagram": "handle", "tiktok": "handle", ...}
    social_handles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    niche: Mapped[str] = mapped_column(String(120), default="")
    audience_size: Mapped[int] = mapped_column(default=0)
    pitch: Mapped[str] = mapped_column(Text, default="")
    # Consent evidence: the terms text as shown (its SHA-256) and when it was accepted.
    terms_hash: Mapped[str] = mapped_column(String(64))
    consented_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    is_open: Mapped[bool | None] = mapped_column(default=True)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_message: Mapped[str] = mapped_column(Text, default="")
    creator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="SET NULL"), default=None, index=True
    )


class CreatorInvitation(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "creator_invitations"
    __table_args__ = (UniqueConstraint("token_hash"),)

    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the token in the invite link; the clear token is only in the email.
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="sent")
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    creator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="SET NULL"), default=None, index=True
    )
