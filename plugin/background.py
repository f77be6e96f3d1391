"""The one seam through which services and web handlers ask for background work.

They name the job instead of importing its module: job modules import the services they run,
so a service that imported a job module to enqueue it closed an import circle. The names are
checked against the job registry by tests/test_background.py, and again when a job is enqueued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workers.runtime import enqueue_after_commit, job_spec

CHECK_TRY_AND_TAG_POST = "workers.jobs.try_and_tag.check_try_and_tag_post"
CREATE_DISCOUNT_CODE = "workers.jobs.codes.create_discount_code"
DEACTIVATE_CODE = "workers.jobs.codes.deactivate_code"
DEACTIVATE_CREATOR_CODES = "workers.jobs.codes.deactivate_creator_codes"
DISCONNECT_WOOCOMMERCE = "workers.jobs.woocommerce.disconnect_woocommerce"
DRAIN_WEBHOOK_INBOX = "workers.jobs.webhooks.drain_webhook_inbox"
FLUSH_CLICKS = "workers.jobs.clicks.flush_clicks"
ISSUE_TRY_AND_TAG_REWARD = "workers.jobs.rewards.issue_try_and_tag_reward"
PAY_IN_STORE_CREDIT = "workers.jobs.payouts.pay_in_store_credit"
POST_SHOP_FLAT_FEES = "workers.jobs.ledger.post_shop_flat_fees"
PUBLISH_SHOPIFY_APP_DATA = "workers.jobs.shopify.publish_shopify_app_data"
REASSERT_DEACTIVATION = "workers.jobs.codes.reassert_deactivation"
REGISTER_SHOPIFY_WEBHOOKS = "workers.jobs.shopify.register_shopify_webhooks"
REGISTER_WOOCOMMERCE_WEBHOOKS = "workers.jobs.woocommerce.register_woocommerce_webhooks"
REVOKE_UNUSED_WOOCOMMERCE_KEYS = "workers.jobs.woocommerce.revoke_unused_woocommerce_keys"
SEND_EMAIL = "workers.jobs.email.send_email"
SETTLE_SPRINT = "workers.jobs.rewards.settle_sprint"


def after_commit(session: Session, job: str, *args: Any, job_id: str | None = None) -> None:
    """Run `job(*args)` in the background once `session` commits; a rollback drops it."""
    enqueue_after_commit(session, job, *args, job_id=job_id)


def run_here(job: str, *args: Any) -> Any:
    """Run `job(*args)` in this process and app context, now (the demo's seeding does)."""
    return job_spec(job).func(*args)
