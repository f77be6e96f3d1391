"""Try & Tag post checks: fetch a submitted post's public metadata, SSRF-safe, with retries."""

from __future__ import annotations

import logging

from flask import current_app

from plugin.db import get_session
from plugin.domain import post_check as rules
from plugin.models import Shop, utcnow
from plugin.models.ugc import UgcPost
from plugin.services import post_checks
from plugin.services.safe_fetch import FetchBlocked, FetchFailed, fetch
from workers.registry import RetryableJobError, job

logger = logging.getLogger(__name__)


@job("rewards", timeout=30, retry_intervals=(30, 120, 600, 1800))
def check_try_and_tag_post(post_id: int) -> None:
    session = get_session()
    post = session.get(UgcPost, post_id)
    if post is None or post.source != "try_and_tag" or not post.post_url:
        session.rollback()
        return
    shop = session.get(Shop, post.shop_id)
    if shop is None or not shop.is_active:
        session.rollback()
        return
    url = post_checks.metadata_url(post)
    session.rollback()  # no transaction stays open across the fetch
    allow_loopback = bool(current_app.config["TASTEMAKER"].allow_loopback_fetch)
    try:
        answer = fetch(url, allow_loopback=allow_loopback)
        outcome = rules.interpret(answer.status, answer.content_type, answer.body)
    except FetchBlocked as exc:
        logger.warning("post %s: metadata fetch refused: %s", post_id, exc)
        outcome = rules.CheckOutcome("unreachable", reason=f"refused to fetch: {exc}")
    except FetchFailed as exc:
        outcome = rules.CheckOutcome("unreachable", reason=str(exc))
    post = session.get(UgcPost, post_id)
    shop = session.get(Shop, shop.id)
    if post is None or shop is None:
        session.rollback()
        return
    post_checks.apply_outcome(session, shop, post, outcome, utcnow())
    session.commit()
    if outcome.status == "unreachable" and "refused to fetch" not in outcome.reason:
        raise RetryableJobError(outcome.reason)
