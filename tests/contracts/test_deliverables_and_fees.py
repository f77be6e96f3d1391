"""Deliverables (submit, disclosure, review, audit) and flat fees booked exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.domain.contracts import DeliverableTransitionError
from plugin.domain.validation import ValidationFailed
from plugin.models import Creator, LedgerEntry, Shop, utcnow
from plugin.services import creators as creator_service
from plugin.services import deliverables as work
from plugin.services.contract_payments import upcoming_payments
from plugin.services.ledger import post_due_flat_fees
from plugin.tenancy import Tenant
from tests.contracts.factories import accept_current, make_versioned_agreement
from tests.engine.factories import make_creator, make_shop
from workers.jobs.ledger import post_flat_fees_all_shops
from workers.runtime import enqueue

DUE = "2026-12-20T17:00:00+00:00"


def fees(session: Session, shop: Shop) -> list[tuple[str, int]]:
    rows = session.execute(
        select(LedgerEntry.idempotency_key, LedgerEntry.amount_minor)
        .where(LedgerEntry.shop_id == shop.id, LedgerEntry.kind == "flat_fee")
        .order_by(LedgerEntry.id)
    )
    return [(key, amount) for key, amount in rows]


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, hold_days=0)


@pytest.fixture
def creator(session: Session, shop: Shop) -> Creator:
    return make_creator(session, shop, "nina", name="Nina Vale")


def test_a_signing_fee_is_booked_once_on_acceptance_never_before(
    session: Session, shop: Shop, creator: Creator, run_jobs: Callable[[], int]
) -> None:
    # given a USD 150 fee on signing, not yet accepted
    agreement = make_versioned_agreement(
        session, shop, creator, flat_fee_minor=15_000, payment_schedule="on_signing"
    )
    assert post_due_flat_fees(session, shop, utcnow()) == 0
    # when the creator accepts, and the periodic job also runs twice
    accept_current(session, shop, agreement, creator)
    shop_id = shop.id
    session.commit()
    enqueue(post_flat_fees_all_shops)
    enqueue(post_flat_fees_all_shops)
    run_jobs()
    # then the fee is in the ledger exactly once
    rows = get_session().execute(
        select(LedgerEntry.idempotency_key, LedgerEntry.amount_minor, LedgerEntry.kind).where(
            LedgerEntry.shop_id == shop_id
        )
    )
    assert [tuple(r) for r in rows] == [
        (f"flat_fee:agreement:{agreement.id}:signing", 15_000, "flat_fee")
    ]


def test_monthly_fees_run_from_the_acceptance(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given a monthly fee from 1 Jan, accepted on 10 Feb
    agreement = make_versioned_agreement(
        session,
        shop,
        creator,
        flat_fee_minor=5_000,
        payment_schedule="monthly",
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    accept_current(session, shop, agreement, creator, now=datetime(2026, 2, 10, tzinfo=UTC))
    # when
    posted = post_due_flat_fees(session, shop, datetime(2026, 3, 5, tzinfo=UTC))
    again = post_due_flat_fees(session, shop, datetime(2026, 3, 5, tzinfo=UTC))
    # then February (from the signing) and March, once each
    prefix = f"flat_fee:agreement:{agreement.id}"
    assert (posted, again) == (2, 0)
    assert fees(session, shop) == [(f"{prefix}:2026-02", 5_000), (f"{prefix}:2026-03", 5_000)]


def _delivery_agreement(session: Session, shop: Shop, creator: Creator):  # type: ignore[no-untyped-def]
    agreement = make_versioned_agreement(
        session,
        shop,
        creator,
        flat_fee_minor=10_001,
        payment_schedule="on_delivery",
        deliverables=[{"kind": "reel", "due_at": DUE}, {"kind": "story", "quantity": 3}],
    )
    accept_current(session, shop, agreement, creator)
    return agreement, work.for_agreement(Tenant(session, shop.id), agreement.id)


def test_an_approved_deliverable_books_its_share_of_the_fee_once(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given
    tenant = Tenant(session, shop.id)
    agreement, (reel, story) = _delivery_agreement(session, shop, creator)
    assert (reel.status, reel.due_at) == ("due", datetime(2026, 12, 20, 17, tzinfo=UTC))
    # when the reel is submitted, sent back, corrected and approved; the story only submitted
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/abc", caption="love it")
    assert post_due_flat_fees(session, shop, utcnow()) == 0
    work.review(tenant, reel, "request_changes", "Please add #ad at the start")
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/abc2", caption="#ad love")
    work.review(tenant, reel, "approve")
    work.submit(tenant, story, creator, post_url="https://instagram.com/s/1", caption="#ad")
    # then the reel's half (rounded half to even) is booked, once
    assert post_due_flat_fees(session, shop, utcnow() + timedelta(seconds=1)) == 1
    assert post_due_flat_fees(session, shop, utcnow() + timedelta(seconds=1)) == 0
    assert fees(session, shop) == [(f"flat_fee:agreement:{agreement.id}:deliverable:0", 5_000)]
    # and the story's share is what remains upcoming
    (upcoming,) = upcoming_payments(session, shop, utcnow())
    assert (upcoming.amount_minor, upcoming.condition) == (5_001, "when 'story' is approved")


def test_submissions_are_disclosure_checked_and_everything_is_in_the_audit_trail(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    _agreement, (reel, _story) = _delivery_agreement(session, shop, creator)
    # when a post without disclosure is submitted, sent back, and resubmitted with it
    work.submit(tenant, reel, creator, post_url="https://tiktok.com/@n/1", caption="my routine")
    assert (reel.disclosure_ok, reel.status) == (False, "submitted")
    work.review(tenant, reel, "request_changes", "Add #ad please")
    work.submit(tenant, reel, creator, post_url="https://tiktok.com/@n/1", caption="#ad routine")
    work.review(tenant, reel, "approve")
    # then
    assert (reel.disclosure_ok, reel.disclosure_matches, reel.status) == (True, ["#ad"], "approved")
    trail = [(e.category, e.action, e.actor) for e in reversed(work.history(tenant, reel.id))]
    assert trail == [
        ("submission", "submitted", "creator @nina"),
        ("disclosure", "missing", "creator @nina"),
        ("review", "changes_requested", "merchant"),
        ("submission", "submitted", "creator @nina"),
        ("disclosure", "passed", "creator @nina"),
        ("review", "approved", "merchant"),
    ]


def test_review_rules(session: Session, shop: Shop, creator: Creator) -> None:
    tenant = Tenant(session, shop.id)
    _agreement, (reel, _story) = _delivery_agreement(session, shop, creator)
    with pytest.raises(DeliverableTransitionError, match="due cannot be reviewed"):
        work.review(tenant, reel, "approve")
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/x")
    with pytest.raises(ValidationFailed) as failed:
        work.review(tenant, reel, "request_changes", "  ")
    assert failed.value.fields == {"message": "tell the creator what to change"}
    work.review(tenant, reel, "approve")
    with pytest.raises(DeliverableTransitionError, match="approved cannot be submitted"):
        work.submit(tenant, reel, creator, post_url="https://instagram.com/p/y")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is required"),
        ("http://instagram.com/p/x", "must be the https:// address of the published post"),
        ("javascript:alert(1)", "must be the https:// address of the published post"),
        ("https://" + "a" * 2050 + ".com", "must be at most 2048 characters"),
    ],
)
def test_a_bad_post_url_is_a_field_error(
    session: Session, shop: Shop, creator: Creator, url: str, message: str
) -> None:
    tenant = Tenant(session, shop.id)
    _agreement, (reel, _story) = _delivery_agreement(session, shop, creator)
    with pytest.raises(ValidationFailed) as failed:
        work.submit(tenant, reel, creator, post_url=url)
    assert failed.value.fields == {"post_url": message}
    assert reel.status == "due"


def test_work_cannot_be_handed_in_before_acceptance(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(session, shop, creator, deliverables=[{"kind": "reel"}])
    (reel,) = work.for_agreement(tenant, agreement.id)
    with pytest.raises(DeliverableTransitionError, match="accept the agreement"):
        work.submit(tenant, reel, creator, post_url="https://instagram.com/p/x")


def test_a_started_deliverable_cannot_be_removed_from_the_terms(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    agreement, (_reel, story) = _delivery_agreement(session, shop, creator)
    work.submit(tenant, story, creator, post_url="https://instagram.com/s/1")
    with pytest.raises(ValidationFailed) as failed:
        creator_service.update_agreement(tenant, agreement, {"deliverables": [{"kind": "reel"}]})
    assert failed.value.fields == {
        "deliverables": "deliverable 2 (story) is already submitted and cannot be removed"
    }


def test_changing_a_deliverable_keeps_its_progress(
    session: Session, shop: Shop, creator: Creator
) -> None:
    tenant = Tenant(session, shop.id)
    agreement, (reel, _story) = _delivery_agreement(session, shop, creator)
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/1")
    creator_service.update_agreement(
        tenant,
        agreement,
        {"deliverables": [{"kind": "reel", "due_at": "2026-12-27T17:00:00+00:00"}]},
    )
    # the signed list stays until the creator accepts version 2
    assert len(work.for_agreement(tenant, agreement.id)) == 2
    accept_current(session, shop, agreement, creator)
    (row,) = work.for_agreement(tenant, agreement.id)
    assert (row.id, row.status, row.due_at.day) == (reel.id, "submitted", 27)  # type: ignore[union-attr]
    assert (agreement.terms_version, agreement.accepted_version) == (2, 2)


def test_upcoming_monthly_fees_leave_out_what_is_booked(
    session: Session, shop: Shop, creator: Creator
) -> None:
    agreement = make_versioned_agreement(
        session,
        shop,
        creator,
        flat_fee_minor=5_000,
        payment_schedule="monthly",
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 15, tzinfo=UTC),
    )
    accept_current(session, shop, agreement, creator, now=datetime(2026, 1, 3, tzinfo=UTC))
    now = datetime(2026, 2, 10, tzinfo=UTC)
    post_due_flat_fees(session, shop, now)  # January and February are booked
    upcoming = upcoming_payments(session, shop, now)
    assert [(p.key.rsplit(":", 1)[-1], p.expected_at) for p in upcoming] == [
        ("2026-03", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-04", datetime(2026, 4, 1, tzinfo=UTC)),
    ]


def test_a_booked_flat_fee_shows_in_program_spend(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given the USD 150 signing fee that used to show nowhere
    from plugin.services.metrics import shop_summary

    agreement = make_versioned_agreement(
        session, shop, creator, flat_fee_minor=15_000, payment_schedule="on_signing"
    )
    accept_current(session, shop, agreement, creator)
    # when the fee is booked
    post_due_flat_fees(session, shop, utcnow() + timedelta(seconds=1))
    # then it is in the shop's spend for the period
    summary = shop_summary(
        session, shop.id, start=utcnow() - timedelta(days=1), end=utcnow() + timedelta(days=1)
    )
    assert summary.attributed.spend_minor == 15_000


def test_a_proposed_fee_is_not_booked_until_accepted(
    session: Session, shop: Shop, creator: Creator
) -> None:
    # given a signed monthly fee of 50, and a proposal of 90 the creator has not accepted
    tenant = Tenant(session, shop.id)
    agreement = make_versioned_agreement(
        session,
        shop,
        creator,
        flat_fee_minor=5_000,
        payment_schedule="monthly",
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    accept_current(session, shop, agreement, creator, now=datetime(2026, 1, 2, tzinfo=UTC))
    creator_service.update_agreement(tenant, agreement, {"flat_fee_minor": 9_000})
    # when February's fee falls due
    post_due_flat_fees(session, shop, datetime(2026, 2, 2, tzinfo=UTC))
    # then it is the signed amount; after acceptance March's is the new one
    accept_current(session, shop, agreement, creator, now=datetime(2026, 2, 20, tzinfo=UTC))
    post_due_flat_fees(session, shop, datetime(2026, 3, 2, tzinfo=UTC))
    prefix = f"flat_fee:agreement:{agreement.id}"
    assert fees(session, shop) == [
        (f"{prefix}:2026-01", 5_000),
        (f"{prefix}:2026-02", 5_000),
        (f"{prefix}:2026-03", 9_000),
    ]


def test_the_creator_is_emailed_new_terms_and_each_review_once(
    session: Session, shop: Shop
) -> None:
    # given a creator with an email address and an agreement they accepted
    from plugin.models import OutboundEmail

    creator = make_creator(session, shop, "ria", name="Ria Moss", email="ria@example.com")
    tenant = Tenant(session, shop.id)
    agreement, (reel, _story) = _delivery_agreement(session, shop, creator)
    # when the merchant changes the terms, and reviews the reel twice (changes, then approval)
    creator_service.update_agreement(tenant, agreement, {"commission_rate_bps": 1_500})
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/abc", caption="#ad")
    work.review(tenant, reel, "request_changes", "Please tag the shop")
    work.submit(tenant, reel, creator, post_url="https://instagram.com/p/abd", caption="#ad")
    work.review(tenant, reel, "approve")
    session.flush()
    # then each event queued one email to the creator, keyed so a retry sends nothing new
    sent = session.scalars(
        select(OutboundEmail).where(OutboundEmail.shop_id == shop.id).order_by(OutboundEmail.id)
    ).all()
    assert [(mail.event, mail.to_address) for mail in sent if mail.event != "creator_welcome"] == [
        ("contract_changed", "ria@example.com"),
        ("contract_changed", "ria@example.com"),
        ("deliverable_reviewed", "ria@example.com"),
        ("deliverable_reviewed", "ria@example.com"),
    ]
    assert len({mail.idempotency_key for mail in sent}) == len(sent)
    assert "Please tag the shop" in sent[-2].text_body
