"""Agreement terms as versions, the creator's acceptance, and codes and links that wait for it.

- Creating an agreement records version 1; every change to a term field (TERM_FIELDS) records
  the next version, which the creator must accept again. Status changes are not term changes.
- An acceptance names a version and the hash of the plain-language document shown
  (`plugin.domain.contracts.document_hash`); a hash that does not match the current version means
  the terms changed while the creator read them, and nothing is recorded.
- "Go live on acceptance": when an agreement asks for it (its own flag, else the shop's setting
  `Shop.settings["contracts"]["live_on_acceptance"]`), the creator's new codes are stored as
  `awaiting_signing` (not sent to the store) and new links inactive, until the creator accepts;
  acceptance then sends the codes through the usual codes job and activates the links.

Nothing here commits: the caller owns the transaction. Jobs go after commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from plugin import background
from plugin.domain import contracts as terms_rules
from plugin.domain.validation import ValidationFailed
from plugin.models import (
    Agreement,
    AgreementAcceptance,
    AgreementVersion,
    Creator,
    DiscountCode,
    HeldLink,
    ReferralLink,
    Shop,
    utcnow,
)
from plugin.services import contract_notices
from plugin.services.deliverables import check_removable, sync_deliverables
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

ACCEPTABLE_STATUSES = ("draft", "active")


class AcceptanceRefused(ValueError):
    """The creator cannot accept this (wrong version, changed terms, ended agreement)."""


def current_terms(agreement: Agreement) -> dict[str, Any]:
    return terms_rules.snapshot(
        {name: getattr(agreement, name) for name in terms_rules.TERM_FIELDS}
    )


def _digest(terms: Mapping[str, Any]) -> str:
    return hashlib.sha256(terms_rules.canonical(terms).encode()).hexdigest()


def record_first_version(tenant: Tenant, agreement: Agreement, actor: str = "merchant") -> None:
    """Version 1 of a new agreement, and its deliverable rows."""
    agreement.deliverables = current_terms(agreement)["deliverables"]
    tenant.session.flush()
    terms = current_terms(agreement)
    first = _record_version(tenant, agreement, terms, list(terms_rules.TERM_FIELDS), actor)
    sync_deliverables(tenant, agreement)
    contract_notices.notify_contract_changed(tenant.session, agreement.id, first.number)


def latest_terms(tenant: Tenant, agreement: Agreement) -> dict[str, Any]:
    """The newest version's terms: in force once accepted, proposed until then."""
    if agreement.terms_version:
        row = version(tenant, agreement, agreement.terms_version)
        if row is not None:
            return dict(row.terms)
    return current_terms(agreement)


def apply_update(
    tenant: Tenant, agreement: Agreement, values: Mapping[str, Any], actor: str = "merchant"
) -> AgreementVersion | None:
    """Apply an update; a change to any term records (and returns) a new version.

    Terms a creator has signed stay in force until they accept the new version: the row (which
    commissions and flat fees read) changes only then. Before the first signature there is
    nothing in force to protect, so new terms apply at once. Other columns (status, the
    go-live setting) always apply at once.
    """
    term_values = {k: v for k, v in values.items() if k in terms_rules.TERM_FIELDS}
    for column, value in values.items():
        if column not in term_values:
            setattr(agreement, column, value)
    latest = latest_terms(tenant, agreement)
    proposed = terms_rules.snapshot({**latest, **term_values})
    changed = terms_rules.changed_fields(latest, proposed)
    if not changed:
        tenant.session.flush()
        return None
    check_removable(tenant, agreement, len(proposed["deliverables"]))
    version = _record_version(tenant, agreement, proposed, changed, actor)
    if agreement.signed_at is None:
        _put_in_force(tenant, agreement, proposed)
    contract_notices.notify_contract_changed(tenant.session, agreement.id, version.number)
    return version


def _put_in_force(tenant: Tenant, agreement: Agreement, terms: Mapping[str, Any]) -> None:
    for name in terms_rules.TERM_FIELDS:
        value = terms[name]
        if name in ("starts_at", "ends_at"):
            value = datetime.fromisoformat(value) if value else None
        setattr(agreement, name, value)
    tenant.session.flush()
    sync_deliverables(tenant, agreement)


def _record_version(
    tenant: Tenant,
    agreement: Agreement,
    terms: Mapping[str, Any],
    changed: list[str],
    actor: str,
) -> AgreementVersion:
    agreement.terms_version = (agreement.terms_version or 0) + 1
    version = tenant.add(
        AgreementVersion(
            agreement_id=agreement.id,
            number=agreement.terms_version,
            terms=dict(terms),
            terms_digest=_digest(terms),
            changed_fields=changed,
            created_by=actor[:120],
        )
    )
    tenant.session.flush()
    return version


def versions(tenant: Tenant, agreement: Agreement) -> list[AgreementVersion]:
    return list(
        tenant.session.scalars(
            tenant.select(AgreementVersion, AgreementVersion.agreement_id == agreement.id).order_by(
                AgreementVersion.number.desc()
            )
        )
    )


def version(tenant: Tenant, agreement: Agreement, number: int) -> AgreementVersion | None:
    return tenant.first(
        AgreementVersion,
        AgreementVersion.agreement_id == agreement.id,
        AgreementVersion.number == number,
    )


def acceptances(tenant: Tenant, agreement: Agreement) -> list[AgreementAcceptance]:
    return list(
        tenant.session.scalars(
            tenant.select(
                AgreementAcceptance, AgreementAcceptance.agreement_id == agreement.id
            ).order_by(AgreementAcceptance.version_number.desc())
        )
    )


def acceptance_state(agreement: Agreement) -> str:
    """not_required (made before versioning) | accepted | awaiting (a newer version) | unsigned."""
    if not agreement.terms_version:
        return "not_required"
    if agreement.accepted_version == agreement.terms_version:
        return "accepted"
    return "awaiting" if agreement.accepted_version else "unsigned"


def document_for(terms: Mapping[str, Any], shop: Shop) -> tuple[list[terms_rules.Clause], str]:
    clauses = terms_rules.document(terms, hold_days=shop.hold_days)
    return clauses, terms_rules.document_hash(terms, hold_days=shop.hold_days)


def accept(
    tenant: Tenant,
    agreement: Agreement,
    creator: Creator,
    *,
    version_number: int,
    shown_hash: str,
    user_agent: str = "",
    now: datetime | None = None,
) -> AgreementAcceptance:
    """Record the creator's acceptance of the current version (idempotent per version)."""
    if agreement.creator_id != creator.id or not tenant.owns(agreement):
        raise AcceptanceRefused("this agreement belongs to someone else")
    if agreement.status not in ACCEPTABLE_STATUSES:
        raise AcceptanceRefused(f"this agreement is {agreement.status} and cannot be accepted")
    if version_number != agreement.terms_version:
        raise AcceptanceRefused("the terms changed since you opened them: read the new version")
    shop = tenant.session.get(Shop, tenant.shop_id)
    row = version(tenant, agreement, version_number)
    if shop is None or row is None:
        raise AcceptanceRefused("this version does not exist")
    _clauses, expected = document_for(row.terms, shop)
    if shown_hash != expected:
        raise AcceptanceRefused("the terms changed since you opened them: read the new version")
    try:
        check_removable(tenant, agreement, len(row.terms["deliverables"]))
    except ValidationFailed:
        raise AcceptanceRefused(
            "this version drops work you have already handed in: ask the store to update it"
        ) from None
    existing = tenant.first(
        AgreementAcceptance,
        AgreementAcceptance.agreement_id == agreement.id,
        AgreementAcceptance.version_number == version_number,
    )
    if existing is not None:
        return existing
    moment = now or utcnow()
    acceptance = AgreementAcceptance(
        agreement_id=agreement.id,
        version_number=version_number,
        creator_id=creator.id,
        accepted_by=f"{creator.name} (@{creator.handle})"[:200]
        if creator.name
        else f"@{creator.handle}",
        accepted_at=moment,
        document_hash=expected,
        user_agent=user_agent[:300],
    )
    savepoint = tenant.session.begin_nested()
    try:
        tenant.add(acceptance)
        tenant.session.flush()
    except IntegrityError:
        # Two clicks at once: the other request recorded this version first.
        savepoint.rollback()
        found = tenant.first(
            AgreementAcceptance,
            AgreementAcceptance.agreement_id == agreement.id,
            AgreementAcceptance.version_number == version_number,
        )
        if found is None:
            raise
        return found
    savepoint.commit()
    _put_in_force(tenant, agreement, row.terms)
    agreement.accepted_version = version_number
    if agreement.signed_at is None:
        agreement.signed_at = moment
    if agreement.status == "draft":
        agreement.status = "active"
    release_holds(tenant, creator.id)
    _book_fees_after_commit(tenant)
    tenant.session.flush()
    return acceptance


def _book_fees_after_commit(tenant: Tenant) -> None:
    # A fee "on signing" is due now: book it at once rather than at the next hourly run.

    background.after_commit(tenant.session, background.POST_SHOP_FLAT_FEES, tenant.shop_id)


# --- codes and links that wait for the creator's acceptance --------------------------------------


def shop_live_on_acceptance(shop: Shop | None) -> bool:
    raw = ((shop.settings if shop else None) or {}).get("contracts") or {}
    return bool(raw.get("live_on_acceptance", False)) if isinstance(raw, Mapping) else False


def set_shop_live_on_acceptance(shop: Shop, value: bool) -> None:
    settings = dict(shop.settings or {})
    contracts = settings.get("contracts")
    contracts = dict(contracts) if isinstance(contracts, Mapping) else {}
    contracts["live_on_acceptance"] = value
    settings["contracts"] = contracts
    shop.settings = settings  # a new dict: the JSON column sees the change


def live_on_acceptance(agreement: Agreement, shop: Shop | None) -> bool:
    if agreement.live_on_acceptance is not None:
        return agreement.live_on_acceptance
    return shop_live_on_acceptance(shop)


def creator_awaits_acceptance(tenant: Tenant, creator_id: int) -> bool:
    """True while the creator has an agreement that holds tracking until accepted, and has not
    accepted any agreement yet."""
    mine = tenant.all(
        Agreement,
        Agreement.creator_id == creator_id,
        Agreement.status.in_(ACCEPTABLE_STATUSES),
    )
    if any(agreement.signed_at is not None for agreement in mine):
        return False
    shop = tenant.session.get(Shop, tenant.shop_id)
    return any(a.terms_version and live_on_acceptance(a, shop) for a in mine)


def hold_code_if_awaiting(tenant: Tenant, code: DiscountCode) -> bool:
    """Called as a code is created: True (and the code held) when it must wait."""
    if not creator_awaits_acceptance(tenant, code.creator_id):
        return False
    code.status = "awaiting_signing"
    return True


def hold_link_if_awaiting(tenant: Tenant, link: ReferralLink) -> bool:
    if not creator_awaits_acceptance(tenant, link.creator_id):
        return False
    link.active = False
    tenant.add(HeldLink(creator_id=link.creator_id, link_id=link.id))
    tenant.session.flush()
    return True


def release_holds(tenant: Tenant, creator_id: int) -> tuple[int, int]:
    """Send the creator's held codes to the store and activate held links; (codes, links)."""

    codes = tenant.all(
        DiscountCode,
        DiscountCode.creator_id == creator_id,
        DiscountCode.status == "awaiting_signing",
    )
    from plugin.services.lift import hold_new_code, hold_new_link

    # Signing lifts this hold only: a lift test's wave that has not started keeps its own.
    for code in codes:
        if hold_new_code(tenant, code):
            continue
        code.status = "pending"
        background.after_commit(tenant.session, background.CREATE_DISCOUNT_CODE, code.id)
    held = tenant.all(HeldLink, HeldLink.creator_id == creator_id, HeldLink.released_at.is_(None))
    now = utcnow()
    for hold in held:
        link = tenant.get(ReferralLink, hold.link_id)
        if link is not None:
            link.active = True
            hold_new_link(tenant, link)
        hold.released_at = now
    if codes or held:
        logger.info(
            "shop %s creator %s accepted: %d code(s), %d link(s) go live",
            tenant.shop_id,
            creator_id,
            len(codes),
            len(held),
        )
    return len(codes), len(held)


def held_items(tenant: Tenant, creator_id: int) -> tuple[list[DiscountCode], list[int]]:
    codes = tenant.all(
        DiscountCode,
        DiscountCode.creator_id == creator_id,
        DiscountCode.status == "awaiting_signing",
    )
    links = list(
        tenant.session.scalars(
            select(HeldLink.link_id).where(
                HeldLink.shop_id == tenant.shop_id,
                HeldLink.creator_id == creator_id,
                HeldLink.released_at.is_(None),
            )
        )
    )
    return codes, links
