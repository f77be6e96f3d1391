"""Approving a Try & Tag post issues exactly one discount code in the store, whatever happens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.base import (
    CredentialsRevoked,
    DiscountCodeSpec,
    DiscountCodeTaken,
    RetryableConnectorError,
    TerminalConnectorError,
)
from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.models import Shop, utcnow
from plugin.models.ugc import Reward, UgcPost
from plugin.services import ugc
from plugin.services.shops import shop_context
from plugin.tenancy import Tenant
from tests.admin.conftest import ShopKey
from tests.rewards.conftest import CreatedThenTimedOut, ScriptedStore, backend, reload
from tests.rewards.factories import PRODUCT, open_program, submit
from tests.ugc.factories import image_media
from workers.jobs.rewards import issue_try_and_tag_reward, sweep_pending_rewards
from workers.registry import spec_for
from workers.runtime import enqueue

JOB = "workers.jobs.rewards.issue_try_and_tag_reward"
RunJobs = Callable[[], int]


def moderate(session: Session, reward: Reward, action: str, reason: str | None = None) -> None:
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    ugc.moderate(Tenant(get_session(), post.shop_id), post, action, reason=reason)
    get_session().commit()


def probe(shop: Shop, code: str) -> str:
    """Create a code in the sandbox store through the connector, as anything else would."""
    context = shop_context(get_session(), credentials(), shop)
    spec = DiscountCodeSpec(code, code, "percentage", 100, shop.currency, utcnow())
    return connectors().get("sandbox").create_discount_code(context, spec).platform_id


def test_approval_creates_a_single_use_code_in_the_sandbox_store_once(
    app: Flask, session: Session, shop_a: ShopKey, run_jobs: RunJobs
) -> None:
    # given a submission for a 15%-off program
    open_program(session, shop_a.shop, code_valid_days=14)
    reward, _token = submit(session, shop_a.shop)
    # when the merchant approves it, and the job then runs twice more
    moderate(session, reward, "approve")
    assert backend(app).enqueued == [(JOB, (reward.ugc_post_id,))]
    assert spec_for(issue_try_and_tag_reward).queue == "rewards"
    assert run_jobs() == 2  # the code, then the email that carries it to the shopper
    enqueue(issue_try_and_tag_reward, reward.ugc_post_id)
    enqueue(issue_try_and_tag_reward, reward.ugc_post_id)
    assert run_jobs() == 2
    # then the reward holds one code that the store knows, made once
    reward = reload(reward)
    assert reward.status == "issued"
    assert reward.code is not None
    assert reward.code.startswith("TAG-")
    assert reward.platform_id == "sandbox-discount-1"
    assert reward.issued_at is not None
    assert reward.expires_at == reward.issued_at + timedelta(days=14)
    assert (reward.discount_kind, reward.discount_value, reward.attempts) == ("percentage", 1500, 1)
    with pytest.raises(DiscountCodeTaken):
        probe(shop_a.shop, reward.code.lower())
    assert probe(shop_a.shop, "PROBE") == "sandbox-discount-2"  # nothing else was created
    count = get_session().scalar(select(func.count(Reward.id)))
    assert count == 1


def test_the_store_gets_the_shops_offer_as_a_single_use_once_per_customer_code(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop, discount_kind="fixed_amount", discount_value=500)
    reward, _token = submit(session, scripted_shop)
    moderate(session, reward, "approve")
    run_jobs()
    reward = reload(reward)
    [spec] = store.calls
    assert (spec.code, spec.title) == (reward.code, f"Try & Tag @lena.daily: {reward.code}")
    assert (spec.kind, spec.value, spec.currency) == ("fixed_amount", 500, "USD")
    assert (spec.usage_limit, spec.once_per_customer) == (1, True)
    assert spec.ends_at == spec.starts_at + timedelta(days=30)
    assert (reward.status, reward.amount_minor) == ("issued", 500)


def test_a_taken_code_is_replaced_by_the_stores_alternative(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    # given the reward's code name already exists in the store
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    reward.code = "TAG-TAKEN"
    session.commit()
    store.codes["tag-taken"] = "gid://discount/someone-else"
    # when
    moderate(session, reward, "approve")
    assert run_jobs() == 2  # the code and its email
    # then
    reward = reload(reward)
    assert [spec.code for spec in store.calls] == ["TAG-TAKEN", "TAG-TAKENX"]
    assert (reward.status, reward.code, reward.platform_id) == (
        "issued",
        "TAG-TAKENX",
        "gid://discount/2",
    )


def test_when_every_candidate_is_taken_the_reward_fails_visibly(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    reward.code = "TAG-A"
    session.commit()
    store.outcomes = [DiscountCodeTaken(code, [code]) for code in ("TAG-A", "X", "Y", "Z")]
    moderate(session, reward, "approve")
    run_jobs()
    reward = reload(reward)
    assert len(store.calls) == 4
    assert reward.status == "failed"
    assert reward.error is not None
    assert reward.error.startswith("the store had every candidate code already: TAG-A, ")


def test_a_transient_store_failure_is_retried_until_the_store_accepts(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    store.outcomes = [RetryableConnectorError("503"), RetryableConnectorError("429")]
    moderate(session, reward, "approve")
    ran = run_jobs()
    reward = reload(reward)
    assert ran == 4  # three store calls, then the email
    assert len({spec.code for spec in store.calls}) == 1
    assert (reward.status, reward.attempts, reward.error, reward.lease_until) == (
        "issued",
        3,
        None,
        None,
    )


def test_a_code_created_by_a_call_that_timed_out_is_adopted_not_duplicated(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    store.outcomes = [CreatedThenTimedOut("read timed out")]
    moderate(session, reward, "approve")
    run_jobs()
    reward = reload(reward)
    assert [spec.code for spec in store.calls] == [reward.code, reward.code]
    assert list(store.codes) == [str(reward.code).lower()]
    assert (reward.status, reward.platform_id, reward.unconfirmed_code) == ("issued", None, None)


def test_a_terminal_store_error_fails_the_reward_without_retrying(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    store.outcomes = [TerminalConnectorError("value must be positive")]
    moderate(session, reward, "approve")
    assert run_jobs() == 1
    reward = reload(reward)
    assert (reward.status, reward.error, reward.lease_until) == (
        "failed",
        "value must be positive",
        None,
    )


def test_revoked_credentials_park_the_reward_until_the_shop_is_reconnected(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    # given the store refuses our token once
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    store.outcomes = [CredentialsRevoked("401")]
    moderate(session, reward, "approve")
    run_jobs()
    reward, shop = reload(reward), reload(scripted_shop)
    assert (reward.status, reward.error, shop.status) == ("pending", "401", "needs_reconnect")
    # when the shop is reconnected and the sweeper comes by after the grace period
    shop.status = "active"
    reward.updated_at = utcnow() - timedelta(hours=1)
    get_session().commit()
    assert sweep_pending_rewards() == 1
    run_jobs()
    # then
    assert reload(reward).status == "issued"
    assert len(store.calls) == 2


@pytest.mark.parametrize(("action", "reason"), [("reject", "not our product"), ("hide", None)])
def test_rejected_or_hidden_posts_earn_nothing(
    app: Flask,
    session: Session,
    scripted_shop: Shop,
    store: ScriptedStore,
    run_jobs: RunJobs,
    action: str,
    reason: str | None,
) -> None:
    # given a submission, approved, then rejected or hidden before its job ran
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    moderate(session, reward, "approve")
    moderate(session, reward, action, reason)
    # when the job that approval queued runs
    run_jobs()
    # then nothing was created and the shopper's slot is free again
    reward = reload(reward)
    assert (reward.status, reward.is_open, reward.code) == ("void", None, None)
    assert store.calls == []
    assert backend(app).enqueued == [(JOB, (reward.ugc_post_id,))]


def test_retries_are_bounded_then_the_sweeper_resumes_and_finally_gives_up(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    # given a store that keeps failing
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    store.outcomes = [RetryableConnectorError("down")] * 20
    moderate(session, reward, "approve")
    # when the job and its three retries fail
    assert run_jobs() == 4
    # then the reward waits for the sweeper, and is not re-sent before the grace period
    reward = reload(reward)
    assert (reward.status, reward.attempts, reward.error) == ("pending", 4, "down")
    assert reward.unconfirmed_code == reward.code
    assert sweep_pending_rewards() == 0
    # when the sweeper has re-sent it until the attempts run out
    reward.updated_at = utcnow() - timedelta(hours=1)
    reward.attempts = 8
    get_session().commit()
    assert sweep_pending_rewards() == 1
    run_jobs()
    # then it is recorded as failed, without another store call
    reward = reload(reward)
    assert (reward.status, reward.error) == ("failed", "gave up after 8 attempts: down")
    assert len(store.calls) == 4


def test_an_imported_try_and_tag_post_is_rewarded_only_under_an_enabled_program(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    # given two merchant-imported shopper posts, one before the program exists
    tenant = Tenant(session, scripted_shop.id)
    before = ugc.create_post(
        tenant, source="try_and_tag", media=image_media(), author_handle="early", product_ids=[]
    )
    ugc.moderate(tenant, before, "approve")
    session.commit()
    run_jobs()
    open_program(session, scripted_shop)
    after = ugc.create_post(
        tenant, source="try_and_tag", media=image_media(), author_handle="late", product_ids=[]
    )
    ugc.moderate(tenant, after, "approve")
    session.commit()
    # when
    run_jobs()
    # then
    rewards = get_session().scalars(select(Reward)).all()
    assert [(r.ugc_post_id, r.status, r.discount_value) for r in rewards] == [
        (after.id, "issued", 1500)
    ]
    assert [spec.title for spec in store.calls] == [f"Try & Tag @late: {rewards[0].code}"]


def test_the_sweeper_finds_approved_posts_whose_job_was_lost(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore
) -> None:
    # given an approved submission whose job never ran (the queue was down), an hour ago
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop)
    moderate(session, reward, "approve")
    queue = backend(app)
    queue.enqueued.clear()
    while not queue._tasks.empty():
        queue._tasks.get_nowait()
        queue._done()
    reward = reload(reward)
    reward.updated_at = utcnow() - timedelta(hours=1)
    get_session().commit()
    # when
    count = sweep_pending_rewards()
    # then
    assert count == 1
    assert queue.enqueued == [(JOB, (reward.ugc_post_id,))]
    assert queue.drain() == 2  # the code, then its email
    assert reload(reward).status == "issued"


def test_gone_posts_and_shops_that_are_not_active_are_left_alone(
    app: Flask, session: Session, scripted_shop: Shop, store: ScriptedStore, run_jobs: RunJobs
) -> None:
    open_program(session, scripted_shop)
    reward, _token = submit(session, scripted_shop, product_id=PRODUCT)
    moderate(session, reward, "approve")
    shop = reload(scripted_shop)
    shop.status = "needs_reconnect"
    get_session().commit()
    enqueue(issue_try_and_tag_reward, 987_654)
    run_jobs()
    assert (reload(reward).status, store.calls) == ("pending", [])
