"""Creators, campaigns, agreements and discount codes: the merchant's writes, tenant-scoped.

Functions take a Tenant and values already shaped by a schema (plugin.domain.validation); they
check what needs the database (ownership, uniqueness, transitions) and raise ValidationFailed
with field-level messages. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import background
from plugin.crypto import hash_email, new_token, sha256_hex
from plugin.domain.validation import InvalidTransition, ValidationFailed
from plugin.models import Agreement, Campaign, Creator, DiscountCode, Shop, utcnow
from plugin.tenancy import Tenant

INACTIVE_CREATOR_STATUSES = ("paused", "terminated")
RETRYABLE_CODE_STATUSES = ("taken", "failed")


def create_creator(tenant: Tenant, values: Mapping[str, Any]) -> Creator:
    _check_handle_free(tenant, values["handle"])
    creator = Creator(**_creator_columns(values))
    with _unique_or_field_error(tenant.session, {"handle": "is already used by another creator"}):
        tenant.add(creator)
    return creator


def update_creator(tenant: Tenant, creator: Creator, values: Mapping[str, Any]) -> Creator:
    if "handle" in values and values["handle"].lower() != creator.handle.lower():
        _check_handle_free(tenant, values["handle"])
    previous_status = creator.status
    if previous_status == "terminated" and values.get("status", "terminated") != "terminated":
        raise ValidationFailed({"status": "a terminated creator cannot be reactivated"})
    with _unique_or_field_error(tenant.session, {"handle": "is already used by another creator"}):
        for column, value in _creator_columns(values).items():
            setattr(creator, column, value)
    if creator.status in INACTIVE_CREATOR_STATUSES and previous_status != creator.status:
        background.after_commit(tenant.session, background.DEACTIVATE_CREATOR_CODES, creator.id)
    return creator


def issue_portal_token(tenant: Tenant, creator: Creator) -> str:
    """A fresh portal token; the previous link stops working. Only the hash is stored."""
    if not tenant.owns(creator):
        raise LookupError("creator not in this shop")
    token = new_token(24)
    creator.portal_token_hash = sha256_hex(token)
    tenant.session.flush()
    return token


def creator_for_portal_token(session: Session, token: str) -> Creator | None:
    """The creator a portal token belongs to, if its shop is still installed."""
    if not token or len(token) > 128:
        return None
    creator = session.scalars(
        select(Creator).where(Creator.portal_token_hash == sha256_hex(token))
    ).first()
    if creator is None:
        return None
    shop = session.get(Shop, creator.shop_id)
    if shop is None or shop.status == "uninstalled":
        return None
    return creator


def create_campaign(tenant: Tenant, values: Mapping[str, Any]) -> Campaign:
    merged = {"currency": _shop_currency(tenant), **values}
    _check_period(merged.get("starts_at"), merged.get("ends_at"))
    campaign = Campaign(**merged)
    tenant.add(campaign)
    tenant.session.flush()
    return campaign


def update_campaign(tenant: Tenant, campaign: Campaign, values: Mapping[str, Any]) -> Campaign:
    _check_period(
        values.get("starts_at", campaign.starts_at), values.get("ends_at", campaign.ends_at)
    )
    for column, value in values.items():
        setattr(campaign, column, value)
    tenant.session.flush()
    return campaign


def create_agreement(tenant: Tenant, values: Mapping[str, Any]) -> Agreement:
    creator = _owned(tenant, Creator, values["creator_id"], "creator_id")
    campaign_id = values.get("campaign_id")
    if campaign_id is not None:
        _owned(tenant, Campaign, campaign_id, "campaign_id")
    duplicate = tenant.first(
        Agreement, Agreement.creator_id == creator.id, _campaign_is(campaign_id)
    )
    if duplicate is not None:
        raise ValidationFailed({"campaign_id": "this creator already has an agreement for it"})
    merged = {"currency": _shop_currency(tenant), **values}
    _check_period(merged.get("starts_at"), merged.get("ends_at"))
    agreement = Agreement(**merged)
    with _unique_or_field_error(tenant.session, {"campaign_id": "already has an agreement"}):
        tenant.add(agreement)
    from plugin.services.agreements import record_first_version

    record_first_version(tenant, agreement)
    return agreement


def update_agreement(tenant: Tenant, agreement: Agreement, values: Mapping[str, Any]) -> Agreement:
    """Update columns; a change to the terms records a new version (plugin.services.agreements)."""
    from plugin.services.agreements import apply_update

    _check_period(
        values.get("starts_at", agreement.starts_at), values.get("ends_at", agreement.ends_at)
    )
    apply_update(tenant, agreement, values)
    return agreement


def create_discount_code(tenant: Tenant, values: Mapping[str, Any]) -> DiscountCode:
    """Store the code as `pending`; the codes job creates it in the store after commit."""
    creator = _owned(tenant, Creator, values["creator_id"], "creator_id")
    if creator.status != "active":
        raise ValidationFailed({"creator_id": f"creator is {creator.status}"})
    agreement_id = values.get("agreement_id")
    if agreement_id is not None:
        agreement = _owned(tenant, Agreement, agreement_id, "agreement_id")
        if agreement.creator_id != creator.id:
            raise ValidationFailed({"agreement_id": "belongs to another creator"})
    currency = _shop_currency(tenant)
    if values.get("currency", currency) != currency:
        raise ValidationFailed({"currency": f"must be the shop currency ({currency})"})
    _check_code_free(tenant, values["code"])
    starts_at = values.get("starts_at") or utcnow()
    _check_period(starts_at, values.get("ends_at"))
    code = DiscountCode(
        **{**values, "currency": currency, "starts_at": starts_at},
        code_normalized=values["code"].lower(),
        status="pending",
    )
    with _unique_or_field_error(tenant.session, {"code": "already exists in this shop"}):
        tenant.add(code)
    from plugin.services.agreements import hold_code_if_awaiting
    from plugin.services.lift import hold_new_code

    # Held codes go to the store on acceptance or at their lift-test wave.
    if not hold_code_if_awaiting(tenant, code) and not hold_new_code(tenant, code):
        _enqueue_creation(tenant.session, code.id)
    return code


def retry_discount_code(tenant: Tenant, code: DiscountCode, new_code: str | None) -> DiscountCode:
    """Try a taken or failed code again, optionally under another name (e.g. an alternative)."""
    if code.status not in RETRYABLE_CODE_STATUSES:
        raise InvalidTransition(f"a {code.status} code cannot be retried")
    if new_code is not None and new_code.lower() != code.code_normalized:
        _check_code_free(tenant, new_code)
    with _unique_or_field_error(tenant.session, {"code": "already exists in this shop"}):
        if new_code is not None:
            code.code = new_code
            code.code_normalized = new_code.lower()
        code.status = "pending"
        code.error = None
        code.alternatives = []
    _enqueue_creation(tenant.session, code.id)
    return code


def deactivate_discount_code(tenant: Tenant, code: DiscountCode) -> DiscountCode:
    if code.status == "deactivated":
        return code
    if code.status == "scheduled":  # held for a lift-test wave: never reached the store
        code.status = "deactivated"
        tenant.session.flush()
        return code
    if code.status not in ("active", "pending"):
        raise InvalidTransition(f"a {code.status} code is not live in the store")

    background.after_commit(tenant.session, background.DEACTIVATE_CODE, code.id)
    return code


def _enqueue_creation(session: Session, code_id: int) -> None:
    background.after_commit(session, background.CREATE_DISCOUNT_CODE, code_id)


def _creator_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    columns = dict(values)
    if "email" in columns:
        columns["email_hash"] = hash_email(columns["email"])
    return columns


def _check_handle_free(tenant: Tenant, handle: str) -> None:
    taken = tenant.first(Creator, func.lower(Creator.handle) == handle.lower())
    if taken is not None:
        raise ValidationFailed({"handle": "is already used by another creator"})


def _check_code_free(tenant: Tenant, code: str) -> None:
    if tenant.first(DiscountCode, DiscountCode.code_normalized == code.lower()) is not None:
        raise ValidationFailed({"code": "already exists in this shop"})


def _owned(tenant: Tenant, model: Any, row_id: int, field: str) -> Any:
    row = tenant.get(model, row_id)
    if row is None:
        raise ValidationFailed({field: "does not exist in this shop"})
    return row


def _campaign_is(campaign_id: int | None) -> Any:
    if campaign_id is None:
        return Agreement.campaign_id.is_(None)
    return Agreement.campaign_id == campaign_id


def _shop_currency(tenant: Tenant) -> str:
    currency = tenant.session.scalar(select(Shop.currency).where(Shop.id == tenant.shop_id))
    return str(currency or "USD")


def _check_period(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed({"ends_at": "must be after starts_at"})


@contextmanager
def _unique_or_field_error(session: Session, fields: Mapping[str, str]) -> Iterator[None]:
    """Write inside a savepoint: a unique-constraint race becomes a field message, not a 500.

    The savepoint opens before the changes (begin_nested flushes what is already pending).
    """
    savepoint = session.begin_nested()
    try:
        yield
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise ValidationFailed(fields) from None
    savepoint.commit()
