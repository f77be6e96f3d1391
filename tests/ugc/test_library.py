"""The UGC library services: posts, moderation, disclosure, rights, catalog, the SQL rule."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.ugc_rules import GrantView, is_servable
from plugin.domain.validation import ValidationFailed
from plugin.models import utcnow
from plugin.models.ugc import (
    UgcAuditEvent,
    UgcFeedVersion,
    UgcPost,
    UgcPostProduct,
    UgcRightsGrant,
)
from plugin.services import ugc as service
from plugin.services import ugc_rights as rights
from plugin.services.ugc_feed import eligible_posts_query
from plugin.tenancy import Tenant
from tests.ugc.conftest import ShopKey
from tests.ugc.factories import image_media, make_creator, make_post


def trail(session: Session, post: UgcPost) -> list[tuple[str, str]]:
    events = session.scalars(
        select(UgcAuditEvent).where(UgcAuditEvent.ugc_post_id == post.id).order_by(UgcAuditEvent.id)
    )
    return [(event.category, event.action) for event in events]


def version(session: Session, shop_id: int) -> int:
    value = session.scalar(select(UgcFeedVersion.version).where(UgcFeedVersion.shop_id == shop_id))
    return value or 0


def test_a_new_post_waits_for_moderation_with_its_products_indexed(
    session: Session, shop_a: ShopKey
) -> None:
    # when
    post, _ = make_post(session, shop_a.shop, products=("7", "8", "7"), approved=False, scopes=None)
    # then
    assert post.moderation_status == "pending"
    assert post.product_ids == ["7", "8"]
    rows = session.scalars(
        select(UgcPostProduct.product_id).where(UgcPostProduct.ugc_post_id == post.id)
    )
    assert sorted(rows) == ["7", "8"]


def test_a_creator_post_without_disclosure_is_flagged_with_an_audit_record(
    session: Session, shop_a: ShopKey
) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "ava")
    # when
    post, _ = make_post(
        session, shop_a.shop, source="creator", creator=creator, caption="my fave", scopes=None
    )
    # then
    assert post.disclosure_ok is False
    assert post.disclosure_checked_at is not None
    assert trail(session, post)[:2] == [("content", "created"), ("disclosure", "missing")]
    event = session.scalars(
        select(UgcAuditEvent).where(UgcAuditEvent.category == "disclosure")
    ).one()
    assert event.detail["matches"] == []
    assert event.detail["flagged"] is True
    assert event.detail["checked_at"] == post.disclosure_checked_at.isoformat()


def test_shop_configured_phrases_count_as_disclosure(session: Session, shop_a: ShopKey) -> None:
    creator = make_creator(session, shop_a.shop)
    post = service.create_post(
        Tenant(session, shop_a.shop.id),
        source="creator",
        media=image_media(),
        caption="Anzeige: mein Lieblingsteil",
        creator_id=creator.id,
        settings=service.UgcShopSettings(disclosure_phrases=("anzeige",)),
    )
    assert (post.disclosure_ok, post.disclosure_matches) == (True, ["anzeige"])
    assert post.author_handle == creator.handle


def test_create_post_names_every_invalid_field(
    session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    other_creator = make_creator(session, shop_b.shop)
    with pytest.raises(ValidationFailed) as failed:
        service.create_post(
            Tenant(session, shop_a.shop.id),
            source="creator",
            media=[],
            creator_id=other_creator.id,
            campaign_id=999_999,
            post_url="javascript:alert(1)",
        )
    assert failed.value.fields == {
        "creator_id": "is not a creator of this shop",
        "campaign_id": "is not a campaign of this shop",
        "post_url": "must be an https URL",
        "media": "is required: upload an image or give a media URL",
        "author_handle": "is required",
    }


def test_moderation_records_who_what_and_why(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, _ = make_post(session, shop_a.shop, approved=False, scopes=None)
    # when
    service.moderate(tenant, post, "approve")
    service.moderate(tenant, post, "approve")  # repeating is a no-op
    service.moderate(tenant, post, "hide", reason="out of season")
    service.moderate(tenant, post, "reject", reason="blurry")
    # then
    assert (post.moderation_status, post.moderation_reason) == ("rejected", "blurry")
    assert trail(session, post)[1:] == [
        ("moderation", "approved"),
        ("moderation", "hidden"),
        ("moderation", "rejected"),
    ]
    last = session.scalars(select(UgcAuditEvent).order_by(UgcAuditEvent.id.desc())).first()
    assert last is not None
    assert last.detail == {"previous": "hidden", "reason": "blurry"}


@pytest.mark.parametrize(
    ("action", "reason", "fields"),
    [
        ("reject", None, {"reason": "is required to reject a post"}),
        ("reject", "  ", {"reason": "is required to reject a post"}),
        ("delete", None, {"action": "must be one of: approve, reject, hide"}),
    ],
)
def test_invalid_moderation_is_refused(
    session: Session, shop_a: ShopKey, action: str, reason: str | None, fields: dict[str, str]
) -> None:
    post, _ = make_post(session, shop_a.shop, approved=False, scopes=None)
    with pytest.raises(ValidationFailed) as failed:
        service.moderate(Tenant(session, shop_a.shop.id), post, action, reason=reason)
    assert failed.value.fields == fields


def test_rights_lifecycle_keeps_the_consent_evidence(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, _ = make_post(session, shop_a.shop, scopes=None)
    consent = utcnow() - timedelta(days=2)
    # when
    grant = rights.request_rights(
        tenant,
        post,
        scopes=["on_site", "ads"],
        request_text="Can we use this on our site and ads for 90 days?",
        duration_days=90,
        territory="US,CA",
    )
    rights.grant_rights(
        tenant,
        grant,
        evidence_url="https://www.instagram.com/p/abc/c/123",
        consented_at=consent,
    )
    # then
    assert grant.status == "granted"
    assert grant.scopes == ["on_site", "ads"]
    assert (grant.territory, grant.duration_days) == ("US,CA", 90)
    assert grant.consented_at == consent
    assert grant.starts_at == consent
    assert grant.expires_at == consent + timedelta(days=90)
    assert grant.request_text == "Can we use this on our site and ads for 90 days?"
    # when revoked
    rights.revoke_rights(tenant, grant, "changed my mind")
    assert (grant.status, grant.reason) == ("revoked", "changed my mind")
    assert grant.closed_at is not None
    assert [action for category, action in trail(session, post) if category == "rights"] == [
        "requested",
        "granted",
        "revoked",
    ]


def test_a_grant_needs_evidence_and_a_past_consent_time(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, _ = make_post(session, shop_a.shop, scopes=None)
    grant = rights.request_rights(tenant, post, scopes=["on_site"], request_text="May we?")
    with pytest.raises(ValidationFailed) as failed:
        rights.grant_rights(
            tenant,
            grant,
            evidence_url="http://insecure.example/x",
            consented_at=utcnow() + timedelta(days=1),
        )
    assert failed.value.fields == {
        "evidence_url": "must be an https URL",
        "consented_at": "must not be in the future",
    }
    with pytest.raises(ValidationFailed) as missing:
        rights.grant_rights(tenant, grant)
    assert list(missing.value.fields) == ["reply_text"]
    assert grant.status == "requested"


def test_closed_rights_cannot_be_reopened(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, _ = make_post(session, shop_a.shop, scopes=None)
    grant = rights.request_rights(tenant, post, scopes=["on_site"], request_text="May we?")
    rights.decline_rights(tenant, grant, "no thanks")
    with pytest.raises(
        service.InvalidTransition, match="a declined rights grant cannot become granted"
    ):
        rights.grant_rights(tenant, grant, reply_text="ok now yes")
    with pytest.raises(service.InvalidTransition):
        rights.revoke_rights(tenant, grant)


def test_one_open_request_per_post(session: Session, shop_a: ShopKey) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, _ = make_post(session, shop_a.shop, scopes=None)
    rights.request_rights(tenant, post, scopes=["on_site"], request_text="May we?")
    with pytest.raises(service.InvalidTransition, match="still waiting"):
        rights.request_rights(tenant, post, scopes=["email"], request_text="And email?")


def test_expire_due_grants_closes_only_what_is_past(session: Session, shop_a: ShopKey) -> None:
    then = utcnow() - timedelta(days=40)
    _, short = make_post(session, shop_a.shop, duration_days=30, consented_at=then)
    _, long = make_post(session, shop_a.shop, duration_days=60, consented_at=then)
    _, forever = make_post(session, shop_a.shop, duration_days=None)
    # when
    expired = rights.expire_due_grants(session)
    again = rights.expire_due_grants(session)
    # then
    assert (expired, again) == (1, 0)
    assert [g.status for g in (short, long, forever)] == ["expired", "granted", "granted"]  # type: ignore[union-attr]


def test_every_storefront_visible_change_bumps_the_feed_version(
    session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    tenant = Tenant(session, shop_a.shop.id)
    post, grant = make_post(session, shop_a.shop)
    assert grant is not None
    steps = [
        lambda: service.set_featured(tenant, post, True),
        lambda: service.moderate(tenant, post, "hide"),
        lambda: service.update_post(tenant, post, {"caption": "new"}),
        lambda: rights.revoke_rights(tenant, grant),
        lambda: service.upsert_products(
            tenant,
            [
                {
                    "product_id": "1",
                    "title": "T",
                    "price_minor": 1,
                    "currency": "USD",
                    "variant_id": "2",
                }
            ],
        ),
    ]
    for step in steps:
        before = version(session, shop_a.shop.id)
        step()
        session.flush()
        assert version(session, shop_a.shop.id) == before + 1
    assert version(session, shop_b.shop.id) == 0


def test_the_sql_rule_matches_the_pure_rule(session: Session, shop_a: ShopKey) -> None:
    """Every combination of moderation and rights state: SQL eligibility == is_servable."""
    now = utcnow()
    tenant = Tenant(session, shop_a.shop.id)
    cases = []
    states = ("pending", "approved", "rejected", "hidden")
    right_states = (
        "none",
        "requested",
        "granted",
        "granted_email",
        "expired_time",
        "future",
        "revoked",
    )
    for moderation, right in itertools.product(states, right_states):
        post, _ = make_post(session, shop_a.shop, approved=False, scopes=None)
        if moderation != "pending":
            action = {"approved": "approve", "rejected": "reject", "hidden": "hide"}[moderation]
            service.moderate(tenant, post, action, reason="r")
        if right != "none":
            scopes = ["email"] if right == "granted_email" else ["on_site"]
            grant = rights.request_rights(tenant, post, scopes=scopes, request_text="May we?")
            if right != "requested":
                consent = now - timedelta(days=10) if right == "expired_time" else now
                rights.grant_rights(tenant, grant, reply_text="yes", consented_at=consent, now=now)
                if right == "expired_time":
                    grant.expires_at = now - timedelta(seconds=1)
                if right == "future":
                    grant.starts_at = now + timedelta(hours=1)
                if right == "revoked":
                    rights.revoke_rights(tenant, grant)
        cases.append(post)
    session.flush()
    served = set(session.scalars(eligible_posts_query(shop_a.shop.id, now)).all())
    for post in cases:
        views = [
            GrantView(g.status, frozenset(g.scopes), g.starts_at, g.expires_at)
            for g in session.scalars(
                tenant.select(UgcRightsGrant, UgcRightsGrant.ugc_post_id == post.id)
            )
        ]
        assert (post in served) == is_servable(post.moderation_status, views, now), post.id
    assert len(served) == 1
