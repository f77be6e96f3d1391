"""Versioned terms, acceptance and codes/links that wait for it (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.contracts import document_hash
from plugin.models import AgreementAcceptance, Creator, DiscountCode, Shop, utcnow
from plugin.services import creators as creator_service
from plugin.services.agreements import (
    AcceptanceRefused,
    accept,
    acceptance_state,
    acceptances,
    current_terms,
    versions,
)
from plugin.services.links import create_link
from plugin.tenancy import Tenant
from tests.contracts.factories import accept_current, make_versioned_agreement
from tests.engine.factories import make_creator, make_shop


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, hold_days=14)


@pytest.fixture
def creator(session: Session, shop: Shop) -> Creator:
    return make_creator(session, shop, "nina", name="Nina Vale")


def test_a_new_agreement_is_version_one_awaiting_its_first_acceptance(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # when
    agreement = make_versioned_agreement(session, shop, creator, flat_fee_minor=15_000)
    # then
    (first,) = versions(Tenant(session, shop.id), agreement)
    assert (first.number, agreement.terms_version, acceptance_state(agreement)) == (
        1,
        1,
        "unsigned",
    )
    assert first.terms == current_terms(agreement)
    assert first.terms["flat_fee_minor"] == 15_000


def test_every_change_to_terms_is_a_new_version_and_status_changes_are_not(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given an accepted agreement
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(session, shop, creator)
    accept_current(session, shop, agreement, creator)
    # when the merchant changes the rate, then re-sends the same rate, then only the status
    creator_service.update_agreement(tenant, agreement, {"commission_rate_bps": 1500})
    creator_service.update_agreement(tenant, agreement, {"commission_rate_bps": 1500})
    creator_service.update_agreement(tenant, agreement, {"status": "active"})
    # then exactly one new version, naming what changed, awaiting a new acceptance
    history = versions(tenant, agreement)
    assert [(v.number, v.changed_fields) for v in history] == [
        (2, ["commission_rate_bps"]),
        (1, history[1].changed_fields),
    ]
    assert (agreement.accepted_version, acceptance_state(agreement)) == (1, "awaiting")
    # and the signed rate stays in force until the creator accepts the new one
    assert agreement.commission_rate_bps == 1000
    accept_current(session, shop, agreement, creator)
    assert (agreement.commission_rate_bps, acceptance_state(agreement)) == (1500, "accepted")


def test_before_the_first_signature_new_terms_apply_at_once(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(session, shop, creator)
    creator_service.update_agreement(tenant, agreement, {"commission_rate_bps": 1500})
    assert (agreement.commission_rate_bps, agreement.terms_version) == (1500, 2)


def test_acceptance_records_who_when_which_version_and_the_hash_of_what_was_shown(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given
    agreement = make_versioned_agreement(
        session, shop, creator, flat_fee_minor=15_000, payment_schedule="on_signing", status="draft"
    )
    before = utcnow()
    # when
    acceptance = accept_current(session, shop, agreement, creator, user_agent="Firefox")
    # then
    expected = document_hash(current_terms(agreement), hold_days=14)
    assert (acceptance.version_number, acceptance.document_hash) == (1, expected)
    assert acceptance.accepted_by == "Nina Vale (@nina)"
    assert acceptance.creator_id == creator.id
    assert before <= acceptance.accepted_at <= utcnow()
    assert (agreement.status, agreement.accepted_version) == ("active", 1)
    assert agreement.signed_at == acceptance.accepted_at
    # and accepting the same version again records nothing new
    accept_current(session, shop, agreement, creator)
    assert len(acceptances(Tenant(session, shop.id), agreement)) == 1


def test_the_document_hash_changes_with_every_term_and_the_shown_hold_period() -> None:
    base = current_terms_for(fee=15_000)
    assert document_hash(base, hold_days=14) == document_hash(dict(base), hold_days=14)
    assert document_hash(base, hold_days=14) != document_hash(
        current_terms_for(16_000), hold_days=14
    )
    assert document_hash(base, hold_days=14) != document_hash(base, hold_days=30)


def current_terms_for(fee: int) -> dict[str, object]:
    from plugin.domain.contracts import snapshot

    return snapshot(
        {
            "flat_fee_minor": fee,
            "payment_schedule": "monthly",
            "commission_rate_bps": 1000,
            "currency": "USD",
            "usage_rights_days": 0,
            "usage_rights_territory": "worldwide",
            "exclusivity": "",
            "termination_terms": "",
        }
    )


def test_a_stale_version_or_a_hash_of_other_words_is_refused(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given version 1 shown to the creator, then the merchant changes the fee (version 2)
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(session, shop, creator, flat_fee_minor=100)
    shown_v1 = document_hash(current_terms(agreement), hold_days=14)
    creator_service.update_agreement(tenant, agreement, {"flat_fee_minor": 200})
    # when / then: accepting version 1 is refused
    with pytest.raises(AcceptanceRefused, match="terms changed"):
        accept(tenant, agreement, creator, version_number=1, shown_hash=shown_v1)
    # and version 2 with the hash of version 1's words is refused too
    with pytest.raises(AcceptanceRefused, match="terms changed"):
        accept(tenant, agreement, creator, version_number=2, shown_hash=shown_v1)
    count = session.scalar(
        select(AgreementAcceptance.id).where(AgreementAcceptance.agreement_id == agreement.id)
    )
    assert count is None


def test_another_creator_cannot_accept(session: Session, shop: Shop, creator: Creator) -> None:
    agreement = make_versioned_agreement(session, shop, creator)
    other = make_creator(session, shop, "otto")
    with pytest.raises(AcceptanceRefused, match="someone else"):
        accept_current(session, shop, agreement, other)


def test_codes_and_links_wait_for_acceptance_when_the_agreement_asks(
    session: Session, shop: Shop, creator: Creator, run_jobs: Callable[[], int]
) -> None:
    # given an agreement whose codes and links go live on acceptance
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(session, shop, creator, live_on_acceptance=True)
    # when the merchant creates a code and a link before the creator accepts
    code = creator_service.create_discount_code(
        tenant, {"creator_id": creator.id, "code": "NINA10", "kind": "percentage", "value": 1000}
    )
    link = create_link(session, shop.id, creator.id, target_path="/products/tea")
    session.commit()
    # then neither is live and no store call was queued
    assert run_jobs() == 0
    assert (code.status, link.active) == ("awaiting_signing", False)
    # when the creator accepts
    accept_current(session, shop, agreement, creator)
    session.commit()
    run_jobs()
    # then the code went to the (sandbox) store and the link is live
    session.expire_all()
    assert session.get(DiscountCode, code.id).status == "active"  # type: ignore[union-attr]
    assert link.active is True


def test_without_the_setting_codes_go_live_at_once(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    make_versioned_agreement(session, shop, creator)
    code = creator_service.create_discount_code(
        tenant, {"creator_id": creator.id, "code": "NINA5", "kind": "percentage", "value": 500}
    )
    assert code.status == "pending"


def test_the_shop_setting_applies_when_the_agreement_does_not_say(
    session: Session, shop: Shop, creator: Creator
) -> None:
    shop.settings = {"contracts": {"live_on_acceptance": True}}
    Tenant(session, shop.id)
    make_versioned_agreement(session, shop, creator)
    link = create_link(session, shop.id, creator.id)
    assert link.active is False


def test_an_ended_agreement_cannot_be_accepted(
    session: Session, shop: Shop, creator: Creator
) -> None:
    agreement = make_versioned_agreement(
        session, shop, creator, ends_at=utcnow() + timedelta(days=1), status="terminated"
    )
    with pytest.raises(AcceptanceRefused, match="terminated"):
        accept_current(session, shop, agreement, creator)


def test_a_version_dropping_work_handed_in_meanwhile_cannot_be_accepted(
    session: Session, shop: Shop, creator: Creator
) -> None:
    from plugin.services import deliverables as work

    # given a signed agreement with two deliverables, and a proposal keeping only the first
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(
        session, shop, creator, deliverables=[{"kind": "reel"}, {"kind": "story"}]
    )
    accept_current(session, shop, agreement, creator)
    creator_service.update_agreement(tenant, agreement, {"deliverables": [{"kind": "reel"}]})
    # when the creator hands in the story before accepting
    _reel, story = work.for_agreement(tenant, agreement.id)
    work.submit(tenant, story, creator, post_url="https://instagram.com/s/1")
    # then the proposal cannot be accepted, and version 1 stays in force
    with pytest.raises(AcceptanceRefused, match="drops work you have already handed in"):
        accept_current(session, shop, agreement, creator)
    assert (agreement.accepted_version, len(agreement.deliverables)) == (1, 2)
