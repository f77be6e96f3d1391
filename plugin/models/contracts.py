"""Contract versions, acceptances, deliverables and their audit trail.

A version is an immutable snapshot of an agreement's terms; an acceptance names one version and
the hash of the document the creator was shown. Deliverables are the agreement's listed work,
one row per position in its terms, carrying the work's state (submitted link, review, disclosure
result). Every submission, review and disclosure check is appended to deliverable_events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.models.base import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow


class AgreementVersion(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    agreement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column()
    terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # SHA-256 of the canonical JSON of `terms`: proves the snapshot was not edited later.
    terms_digest: Mapped[str] = mapped_column(String(64))
    changed_fields: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(120), default="merchant")


class AgreementAcceptance(IdMixin, TenantMixin, Base):
    __tablename__ = "agreement_acceptances"
    # Accepting the same version twice records it once.
    __table_args__ = (UniqueConstraint("agreement_id", "version_number"),)

    agreement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="CASCADE")
    )
    version_number: Mapped[int] = mapped_column()
    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    accepted_by: Mapped[str] = mapped_column(String(200))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 of the plain-language document shown (plugin.domain.contracts.document_hash).
    document_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class Deliverable(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "deliverables"
    __table_args__ = (UniqueConstraint("agreement_id", "position"),)

    agreement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agreements.id", ondelete="CASCADE")
    )
    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()  # index in the agreement's terms.deliverables
    kind: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    brief: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="due", index=True)
    post_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    caption: Mapped[str] = mapped_column(Text, default="")
    creator_notes: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    feedback: Mapped[str] = mapped_column(Text, default="")
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    disclosure_ok: Mapped[bool | None] = mapped_column(default=None)
    disclosure_matches: Mapped[list[str]] = mapped_column(default=list)


class DeliverableEvent(IdMixin, TenantMixin, Base):
    """Append-only: submissions, reviews and disclosure checks of a deliverable."""

    __tablename__ = "deliverable_events"

    deliverable_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("deliverables.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))  # submission | review | disclosure
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class HeldLink(IdMixin, TenantMixin, TimestampMixin, Base):
    """A referral link created inactive because its creator had not yet accepted their
    agreement; acceptance activates it. (Held codes carry the status awaiting_signing.)"""

    __tablename__ = "held_links"
    __table_args__ = (UniqueConstraint("link_id"),)

    creator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_links.id", ondelete="CASCADE"))
    released_at: Mapped[datetime | None] = mapped_column(default=None)
