"""The pure attribution function: precedence, window, last click, self-referral, evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugin.domain.attribution import attribute
from plugin.domain.attribution_inputs import (
    AgreementTerms,
    Candidates,
    ClickCandidate,
    CodeCandidate,
    CreatorFacts,
    LinkCandidate,
    order_click_uids,
    referral_params,
)
from tests.engine.factories import T0, order

# Creators: 1 has code ALICE10; 2 has click c2 on link 21; 3 (handle "carol") has click c3;
# 4 owns the link with slug "dave-link".
CODES = (CodeCandidate(101, "alice10", 1, 11, "active"),)
CLICKS = (
    ClickCandidate(201, "c2", 2, 21, None, T0 - timedelta(days=1)),
    ClickCandidate(301, "c3", 3, 31, 903, T0 - timedelta(days=2)),
)
LINKS = (LinkCandidate(41, "dave-link", 4, None),)
CREATORS = (
    CreatorFacts(1, "alice", "hash-alice", ("cust-1",)),
    CreatorFacts(2, "bob"),
    CreatorFacts(3, "carol"),
    CreatorFacts(4, "dave"),
)
AGREEMENTS = tuple(
    AgreementTerms(10 + n, n, None, "active", None, None, 1000) for n in (1, 2, 3, 4)
)
EVERYTHING = Candidates(CODES, CLICKS, LINKS, CREATORS, AGREEMENTS)


@pytest.mark.parametrize(
    ("codes", "click_id", "landing", "method", "creator"),
    [
        (("ALICE10",), None, None, "code", 1),
        (("alice10",), None, None, "code", 1),
        (("  Alice10 ",), None, None, "code", 1),
        (("ALICE10",), "c2", "/?tm_click=c3", "code", 1),
        (("WELCOME5",), "c2", None, "click", 2),
        ((), "c2", "/?tm_click=c3&ref=dave-link", "click", 2),
        ((), None, "/products/serum?tm_click=c3&ref=dave-link", "landing", 3),
        ((), None, "https://shop.example/?ref=dave-link", "landing", 4),
        ((), None, "/?utm_source=tastemaker&utm_content=carol", "landing", 3),
        ((), None, "/?utm_source=TasteMaker&utm_content=CAROL", "landing", 3),
        ((), None, "/discount/ALICE10?redirect=%2Fproducts%2Fx%3Fref%3Ddave-link", "landing", 4),
        ((), None, "/?utm_content=carol", "none", None),
        ((), "unknown-click", "/?ref=no-such-link", "none", None),
        (("WELCOME5",), None, None, "none", None),
        ((), None, None, "none", None),
    ],
)
def test_precedence(
    codes: tuple[str, ...], click_id: str | None, landing: str | None, method: str, creator: int
) -> None:
    # given
    payload = order(discount_codes=codes, click_id=click_id, landing_site=landing)
    # when
    result = attribute(payload, EVERYTHING)
    # then
    assert (result.method, result.creator_id) == (method, creator)
    assert result.evidence["method"] == method


@pytest.mark.parametrize(
    ("age", "window_days", "counts"),
    [
        (timedelta(days=30), 30, True),
        (timedelta(days=30, seconds=1), 30, False),
        (timedelta(days=7), 7, True),
        (timedelta(days=7, microseconds=1), 7, False),
        (timedelta(0), 30, True),
        (-timedelta(minutes=10), 30, True),  # clock skew between us and the platform
        (-timedelta(minutes=11), 30, False),
    ],
)
def test_click_window_edges(age: timedelta, window_days: int, counts: bool) -> None:
    # given a click `age` before the order
    click = ClickCandidate(201, "c2", 2, 21, None, T0 - age)
    candidates = Candidates(
        clicks=(click,), creators=CREATORS, agreements=AGREEMENTS, window_days=window_days
    )
    # when
    result = attribute(order(click_id="c2"), candidates)
    # then
    assert result.creator_id == (2 if counts else None)
    assert result.evidence["candidates"][0]["verdict"] == ("chosen" if counts else "rejected")


def test_click_outside_window_says_why() -> None:
    click = ClickCandidate(201, "c2", 2, 21, None, T0 - timedelta(days=31, hours=12))
    result = attribute(order(click_id="c2"), Candidates(clicks=(click,), creators=CREATORS))
    assert result.evidence["candidates"] == [
        {
            "source": "click_id",
            "value": "c2",
            "click_id": 201,
            "creator_id": 2,
            "link_id": 21,
            "clicked_at": "2026-02-07T00:00:00+00:00",
            "verdict": "rejected",
            "reason": "click is 31.5 days before the order, outside the 30-day window",
        }
    ]
    assert result.evidence["summary"].startswith("no candidate qualified: click_id 'c2': click is")


def test_last_click_wins_among_several_carried_click_ids() -> None:
    # given two valid clicks (the order's cart attribute kept both) and one outside the window
    clicks = (
        ClickCandidate(1, "early", 2, 21, None, T0 - timedelta(days=5)),
        ClickCandidate(2, "late", 3, 31, None, T0 - timedelta(hours=3)),
        ClickCandidate(3, "stale", 4, 41, None, T0 - timedelta(days=40)),
    )
    candidates = Candidates(clicks=clicks, creators=CREATORS, agreements=AGREEMENTS)
    # when
    result = attribute(order(click_id="early, late,stale"), candidates)
    # then
    assert (result.method, result.creator_id) == ("click", 3)
    verdicts = {
        c["value"]: (c["verdict"], c["reason"])
        for c in result.evidence["candidates"]
        if c["verdict"] == "rejected"
    }
    assert verdicts["early"] == ("rejected", "a later click wins ('late')")
    assert verdicts["stale"][1].endswith("outside the 30-day window")


def test_code_evidence_names_the_code_and_the_outranked_click() -> None:
    # when
    result = attribute(order(discount_codes=("Alice10",), click_id="c2"), EVERYTHING)
    # then
    assert result.agreement_id == 11
    assert result.commissionable
    assert result.evidence == {
        "order": {
            "placed_at": "2026-03-10T12:00:00+00:00",
            "discount_codes": ["Alice10"],
            "click_id": "c2",
            "landing_site": None,
        },
        "window_days": 30,
        "candidates": [
            {
                "source": "discount_code",
                "value": "Alice10",
                "discount_code_id": 101,
                "creator_id": 1,
                "code_status": "active",
                "verdict": "chosen",
            },
            {
                "source": "click_id",
                "value": "c2",
                "click_id": 201,
                "creator_id": 2,
                "link_id": 21,
                "clicked_at": "2026-03-09T12:00:00+00:00",
                "verdict": "rejected",
                "reason": "outranked by discount_code 'Alice10'",
            },
        ],
        "method": "code",
        "summary": "attributed to creator 1 by discount_code 'Alice10'",
        "decided_by": {
            "source": "discount_code",
            "value": "Alice10",
            "discount_code_id": 101,
            "creator_id": 1,
            "code_status": "active",
            "verdict": "chosen",
        },
        "agreement": {
            "id": 11,
            "campaign_id": None,
            "commission_rate_bps": 1000,
            "why": "the agreement the discount code belongs to",
            "considered": [{"id": 11, "campaign_id": None, "in_force": True}],
        },
        "self_referral": None,
    }


@pytest.mark.parametrize(
    ("status", "ends_at", "counts"),
    [
        ("active", None, True),
        ("deactivated", None, True),  # deactivated after the order: the order still used it
        ("deactivated", T0 + timedelta(hours=1), True),
        ("deactivated", T0 - timedelta(hours=1), False),
        ("pending", None, False),
        ("taken", None, False),  # the store's code belongs to someone else
        ("failed", None, False),
    ],
)
def test_code_status_at_order_time(status: str, ends_at: object, counts: bool) -> None:
    code = CodeCandidate(101, "alice10", 1, 11, status, ends_at)  # type: ignore[arg-type]
    candidates = Candidates(codes=(code,), creators=CREATORS, agreements=AGREEMENTS)
    result = attribute(order(discount_codes=("ALICE10",)), candidates)
    assert result.creator_id == (1 if counts else None)


@pytest.mark.parametrize(
    ("customer_id", "customer_email_hash", "matched_on"),
    [
        ("cust-1", None, "customer id"),
        (None, "hash-alice", "email"),
        ("cust-9", "hash-bob", None),
    ],
)
def test_self_referral_is_flagged_and_not_commissionable(
    customer_id: str | None, customer_email_hash: str | None, matched_on: str | None
) -> None:
    payload = order(
        discount_codes=("ALICE10",),
        customer_id=customer_id,
        customer_email_hash=customer_email_hash,
    )
    result = attribute(payload, EVERYTHING)
    assert result.creator_id == 1
    assert result.self_referral is (matched_on is not None)
    assert result.commissionable is (matched_on is None)
    expected = {"matched_on": matched_on} if matched_on else None
    assert result.evidence["self_referral"] == expected
    if matched_on:
        assert result.evidence["summary"] == (
            f"attributed to creator 1 by discount_code 'ALICE10'; self-referral "
            f"(the creator's own {matched_on}): no commission"
        )


def test_agreement_of_the_links_campaign_is_preferred() -> None:
    agreements = (
        AgreementTerms(31, 3, None, "active", T0 - timedelta(days=90), None, 500),
        AgreementTerms(32, 3, 903, "active", T0 - timedelta(days=60), None, 1500),
        AgreementTerms(33, 3, 904, "active", T0 - timedelta(days=5), None, 800),
    )
    candidates = Candidates(clicks=CLICKS, creators=CREATORS, agreements=agreements)
    result = attribute(order(click_id="c3"), candidates)
    assert (result.agreement_id, result.campaign_id) == (32, 903)
    assert result.evidence["agreement"]["why"] == "the agreement for the referral link's campaign"


def test_most_recently_started_agreement_in_force_sets_the_terms() -> None:
    agreements = (
        AgreementTerms(41, 4, None, "active", T0 - timedelta(days=90), None, 500),
        AgreementTerms(42, 4, None, "active", T0 - timedelta(days=10), None, 900),
        AgreementTerms(43, 4, None, "active", T0 + timedelta(days=1), None, 2000),  # not yet
        AgreementTerms(44, 4, None, "ended", T0 - timedelta(days=9), T0, 3000),  # ended at T0
    )
    candidates = Candidates(links=LINKS, creators=CREATORS, agreements=agreements)
    result = attribute(order(landing_site="/?ref=dave-link"), candidates)
    assert result.agreement_id == 42
    assert [c["in_force"] for c in result.evidence["agreement"]["considered"]] == [
        True,
        True,
        False,
        False,
    ]


def test_agreement_ended_after_the_order_still_applies() -> None:
    agreements = (AgreementTerms(44, 4, None, "ended", None, T0 + timedelta(seconds=1), 3000),)
    candidates = Candidates(links=LINKS, creators=CREATORS, agreements=agreements)
    result = attribute(order(landing_site="/?ref=dave-link"), candidates)
    assert result.agreement_id == 44


def test_attributed_without_agreement_is_not_commissionable() -> None:
    candidates = Candidates(links=LINKS, creators=CREATORS, agreements=())
    result = attribute(order(landing_site="/?ref=dave-link"), candidates)
    assert (result.creator_id, result.agreement_id, result.commissionable) == (4, None, False)
    assert result.evidence["agreement"] == {
        "id": None,
        "reason": "no agreement in force at order time",
        "considered": [],
    }
    assert result.evidence["summary"].endswith("no agreement in force at order time: no commission")


def test_referral_params_read_nested_redirects_and_ignore_foreign_utm() -> None:
    params = referral_params(
        "/discount/BOB?redirect=%2Fp%3Ftm_click%3Dk1%26utm_source%3Dtastemaker"
        "%26utm_content%3Dbob&tm_click=k0&utm_source=newsletter&utm_content=spring"
    )
    assert params.click_uids == ("k0", "k1")
    assert params.creator_handles == ("bob",)
    assert params.link_slugs == ()


def test_order_click_ids_split_and_deduplicate() -> None:
    assert order_click_uids(order(click_id=" a1, b2;a1  c3 ")) == ("a1", "b2", "c3")
    assert order_click_uids(order(click_id=None)) == ()
