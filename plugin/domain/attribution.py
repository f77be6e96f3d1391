"""Which creator, if any, an order belongs to, and the evidence for that decision.

Precedence, highest first:
1. a creator discount code used on the order (compared case-insensitively);
2. a click id the order carries (cart attribute / order meta), matching a recorded click;
3. referral parameters in the landing URL: `tm_click=<click id>`, then `ref=<link slug>`, then
   `utm_content=<creator handle>` together with `utm_source=tastemaker`;
4. none.
A click counts only inside the shop's attribution window at order time; among several valid
clicks of the same rank the last one wins. An order by the creator themself (same email hash or
one of their customer ids) is attributed but flagged as a self-referral, and earns nothing.

Every candidate looked at is written into the evidence with its verdict, so a merchant or a
creator can read why an order is, or is not, theirs. The evidence is plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.base import NormalizedOrder
from plugin.domain.attribution_inputs import (
    AgreementTerms,
    Candidates,
    ClickCandidate,
    CreatorFacts,
    attribution_inputs,
    normalize_code,
    order_click_uids,
    referral_params,
    unique,
)

METHODS = ("code", "click", "landing", "none")
# A click id carried by the order proves the click came first; only clock skew between our
# server and the platform can put it a little after the order.
CLOCK_SKEW = timedelta(minutes=10)
# Codes the platform could only have accepted if they were ours and live at checkout.
COUNTING_CODE_STATUSES = frozenset({"active", "deactivated"})


@dataclass(frozen=True)
class AttributionResult:
    method: str
    creator_id: int | None
    agreement_id: int | None
    campaign_id: int | None
    self_referral: bool
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def commissionable(self) -> bool:
        return (
            self.creator_id is not None and self.agreement_id is not None and not self.self_referral
        )


@dataclass
class _Winner:
    method: str
    creator_id: int
    agreement_hint: int | None
    campaign_hint: int | None
    record: dict[str, Any]


def attribute(order: NormalizedOrder, candidates: Candidates) -> AttributionResult:
    """Decide the order's creator; pure and deterministic for the same inputs."""
    placed = order.created_at
    window = timedelta(days=candidates.window_days)
    creators = {creator.creator_id: creator for creator in candidates.creators}
    examined: list[dict[str, Any]] = []
    ranks: list[list[_Winner]] = [
        _code_winners(order, candidates, examined),
        _click_winners(
            order_click_uids(order), "click", "click_id", candidates, placed, window, examined
        ),
        _landing_winners(order, candidates, placed, window, examined),
    ]
    winner = next((rank[0] for rank in ranks if rank), None)
    for rank in ranks:
        for other in rank:
            if winner is not None and other is not winner:
                other.record.update(verdict="rejected", reason=_outranked(winner, other))
    evidence: dict[str, Any] = {
        "order": attribution_inputs(order),
        "window_days": candidates.window_days,
        "candidates": examined,
    }
    if winner is None:
        evidence.update(method="none", summary=_no_winner_summary(examined))
        return AttributionResult("none", None, None, None, False, evidence)

    winner.record["verdict"] = "chosen"
    matched_on = _self_referral(order, creators.get(winner.creator_id))
    agreement, agreement_evidence = _pick_agreement(winner, candidates.agreements, placed)
    campaign_id = agreement.campaign_id if agreement is not None else winner.campaign_hint
    summary = f"attributed to creator {winner.creator_id} by {winner.record['source']}"
    summary += f" {winner.record['value']!r}"
    if matched_on is not None:
        summary += f"; self-referral (the creator's own {matched_on}): no commission"
    elif agreement is None:
        summary += "; no agreement in force at order time: no commission"
    evidence.update(
        method=winner.method,
        summary=summary,
        decided_by=winner.record,
        agreement=agreement_evidence,
        self_referral={"matched_on": matched_on} if matched_on else None,
    )
    return AttributionResult(
        method=winner.method,
        creator_id=winner.creator_id,
        agreement_id=agreement.agreement_id if agreement is not None else None,
        campaign_id=campaign_id,
        self_referral=matched_on is not None,
        evidence=evidence,
    )


def _code_winners(
    order: NormalizedOrder, candidates: Candidates, examined: list[dict[str, Any]]
) -> list[_Winner]:
    by_code = {code.normalized: code for code in candidates.codes}
    winners: list[_Winner] = []
    for raw in unique(order.discount_codes):
        record: dict[str, Any] = {"source": "discount_code", "value": raw}
        examined.append(record)
        code = by_code.get(normalize_code(raw))
        if code is None:
            record.update(verdict="rejected", reason="not a creator code of this shop")
            continue
        record.update(discount_code_id=code.discount_code_id, creator_id=code.creator_id)
        record["code_status"] = code.status
        if code.status not in COUNTING_CODE_STATUSES:
            record.update(verdict="rejected", reason=f"code is {code.status}, never live")
        elif code.ends_at is not None and code.ends_at <= order.created_at:
            record.update(
                verdict="rejected",
                reason=f"code ended at {code.ends_at.isoformat()}, before the order",
            )
        else:
            winners.append(_Winner("code", code.creator_id, code.agreement_id, None, record))
    return winners


def _click_winners(
    uids: Iterable[str],
    method: str,
    source: str,
    candidates: Candidates,
    placed: datetime,
    window: timedelta,
    examined: list[dict[str, Any]],
) -> list[_Winner]:
    by_uid = {click.click_uid: click for click in candidates.clicks}
    valid: list[tuple[ClickCandidate, _Winner]] = []
    for uid in uids:
        record: dict[str, Any] = {"source": source, "value": uid}
        examined.append(record)
        click = by_uid.get(uid)
        if click is None:
            record.update(verdict="rejected", reason="no click with this id in this shop")
            continue
        record.update(
            click_id=click.click_id,
            creator_id=click.creator_id,
            link_id=click.link_id,
            clicked_at=click.occurred_at.isoformat(),
        )
        age = placed - click.occurred_at
        if age > window:
            record.update(
                verdict="rejected",
                reason=f"click is {_days(age)} days before the order, outside the "
                f"{window.days}-day window",
            )
        elif age < -CLOCK_SKEW:
            record.update(verdict="rejected", reason="click is after the order")
        else:
            winner = _Winner(method, click.creator_id, None, click.campaign_id, record)
            valid.append((click, winner))
    # Last click wins: the latest valid click first.
    valid.sort(key=lambda pair: (pair[0].occurred_at, pair[0].click_id), reverse=True)
    return [winner for _, winner in valid]


def _landing_winners(
    order: NormalizedOrder,
    candidates: Candidates,
    placed: datetime,
    window: timedelta,
    examined: list[dict[str, Any]],
) -> list[_Winner]:
    params = referral_params(order.landing_site)
    winners = _click_winners(
        params.click_uids, "landing", "landing_tm_click", candidates, placed, window, examined
    )
    links = {link.slug: link for link in candidates.links}
    for slug in params.link_slugs:
        record: dict[str, Any] = {"source": "landing_ref", "value": slug}
        examined.append(record)
        link = links.get(slug)
        if link is None:
            record.update(verdict="rejected", reason="no referral link with this slug in this shop")
            continue
        record.update(link_id=link.link_id, creator_id=link.creator_id)
        winners.append(_Winner("landing", link.creator_id, None, link.campaign_id, record))
    by_handle = {creator.handle.lower(): creator for creator in candidates.creators}
    for handle in params.creator_handles:
        record = {"source": "landing_utm_content", "value": handle}
        examined.append(record)
        creator = by_handle.get(handle.lower())
        if creator is None:
            record.update(verdict="rejected", reason="no creator with this handle in this shop")
            continue
        record["creator_id"] = creator.creator_id
        winners.append(_Winner("landing", creator.creator_id, None, None, record))
    return winners


def _outranked(winner: _Winner, other: _Winner) -> str:
    same_rank_clicks = winner.method == other.method and all(
        "clicked_at" in record for record in (winner.record, other.record)
    )
    if same_rank_clicks:
        return f"a later click wins ({winner.record['value']!r})"
    return f"outranked by {winner.record['source']} {winner.record['value']!r}"


def _self_referral(order: NormalizedOrder, creator: CreatorFacts | None) -> str | None:
    if creator is None:
        return None
    if order.customer_email_hash and creator.email_hash == order.customer_email_hash:
        return "email"
    if order.customer_id and order.customer_id in creator.customer_ids:
        return "customer id"
    return None


def _pick_agreement(
    winner: _Winner, agreements: Sequence[AgreementTerms], placed: datetime
) -> tuple[AgreementTerms | None, dict[str, Any]]:
    mine = [terms for terms in agreements if terms.creator_id == winner.creator_id]
    live = [terms for terms in mine if terms.active_at(placed)]
    chosen: AgreementTerms | None = None
    why = ""
    if winner.agreement_hint is not None:
        chosen = next((t for t in live if t.agreement_id == winner.agreement_hint), None)
        why = "the agreement the discount code belongs to"
    if chosen is None and winner.campaign_hint is not None:
        chosen = next((t for t in live if t.campaign_id == winner.campaign_hint), None)
        why = "the agreement for the referral link's campaign"
    if chosen is None and live:
        # Several live agreements: the most recently started one sets the terms.
        chosen = max(live, key=lambda t: (t.starts_at is not None, t.starts_at, t.agreement_id))
        why = "the creator's agreement in force at order time"
    considered = [
        {
            "id": terms.agreement_id,
            "campaign_id": terms.campaign_id,
            "in_force": terms in live,
        }
        for terms in mine
    ]
    if chosen is None:
        return None, {
            "id": None,
            "reason": "no agreement in force at order time",
            "considered": considered,
        }
    return chosen, {
        "id": chosen.agreement_id,
        "campaign_id": chosen.campaign_id,
        "commission_rate_bps": chosen.commission_rate_bps,
        "why": why,
        "considered": considered,
    }


def _no_winner_summary(examined: Sequence[dict[str, Any]]) -> str:
    if not examined:
        return "no creator code, click id or referral parameter on the order"
    return "no candidate qualified: " + "; ".join(
        f"{record['source']} {record['value']!r}: {record['reason']}" for record in examined
    )


def _days(age: timedelta) -> str:
    return f"{age.total_seconds() / 86_400:.1f}"
