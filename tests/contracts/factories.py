"""An agreement made the way the merchant makes one (through the service, so it is versioned)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plugin.models import Agreement, Creator, Shop
from plugin.services import creators as creator_service
from plugin.services.agreements import accept, document_for, version
from plugin.tenancy import Tenant


def make_versioned_agreement(
    session: Session, shop: Shop, creator: Creator, **terms: Any
) -> Agreement:
    values = {"creator_id": creator.id, "commission_rate_bps": 1000, **terms}
    agreement = creator_service.create_agreement(Tenant(session, shop.id), values)
    session.flush()
    return agreement


def accept_current(session: Session, shop: Shop, agreement: Agreement, creator: Creator, **kw: Any):  # type: ignore[no-untyped-def]
    tenant = Tenant(session, shop.id)
    current = version(tenant, agreement, agreement.terms_version)
    assert current is not None
    _clauses, shown = document_for(current.terms, shop)
    return accept(
        tenant,
        agreement,
        creator,
        version_number=agreement.terms_version,
        shown_hash=shown,
        **kw,
    )
