"""Email reaches a real SMTP server (aiosmtpd), once per event, with text and HTML parts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.extensions import connectors
from plugin.models import Creator, Payout, utcnow
from plugin.models.email import OutboundEmail
from plugin.services import notifications, payouts
from plugin.services.mailer import MailRejected, MailRetryable, SmtpMailer, message_id_for
from plugin.services.mailer import Message as MailMessage
from plugin.settings import ConfigurationError, load_settings
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_creator
from tests.creator.conftest import Inbox, free_port, parts
from workers.jobs.email import send_email
from workers.jobs.payouts import pay_in_store_credit

RunJobs = Callable[[], int]


def _payout(session: Session, shop: ShopKey, **fields: object) -> Payout:
    creator = make_creator(session, shop.shop, "mia", name="Mia", email="mia@example.com")
    values: dict[str, object] = {
        "shop_id": shop.id,
        "creator_id": creator.id,
        "amount_minor": 12345,
        "currency": "USD",
        "status": "pending_approval",
        "idempotency_key": "batch:b1:creator:1",
        "batch_key": "b1",
        **fields,
    }
    payout = Payout(**values)
    session.add(payout)
    session.commit()
    return payout


def test_payout_approval_and_payment_each_send_one_email_that_arrives(
    app: Flask, session: Session, shop_a: ShopKey, inbox: Inbox, run_jobs: RunJobs
) -> None:
    # given a payout waiting for approval
    payout = _payout(session, shop_a)
    # when the merchant approves it twice (a double click) and then marks it paid
    payouts.approve_payout(session, shop_a.id, payout.id)
    session.commit()
    payouts.approve_payout(session, shop_a.id, payout.id)
    session.commit()
    run_jobs()
    payouts.mark_paid(session, shop_a.id, payout.id, "PAYPAL-77")
    session.commit()
    run_jobs()
    # then exactly two emails arrived, each with a plain-text and an HTML part
    arrived = inbox.to("mia@example.com")
    assert [m["Subject"] for m in arrived] == [
        "Your payout of USD 123.45 is approved",
        "You have been paid USD 123.45",
    ]
    text, html = parts(arrived[1])
    assert "has paid you USD 123.45" in text
    assert "Payment reference: PAYPAL-77" in text
    assert "<strong>USD 123.45</strong>" in html
    assert arrived[1]["From"] == "Tastemaker <mail@tastemaker.test>"
    assert arrived[1]["Message-ID"] == message_id_for(f"tm-{shop_a.id}-payout:{payout.id}:paid")
    rows = session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(r.event, r.status, r.transport) for r in rows] == [
        ("payout_approved", "sent", "smtp"),
        ("payout_paid", "sent", "smtp"),
    ]


def test_the_same_event_queued_twice_is_one_message_and_a_rerun_job_sends_nothing(
    app: Flask, session: Session, shop_a: ShopKey, inbox: Inbox, run_jobs: RunJobs
) -> None:
    payout = _payout(session, shop_a, status="approved", approved_at=utcnow())
    first = notifications.payout_status_changed(session, payout)
    second = notifications.payout_status_changed(session, payout)
    session.commit()
    assert first is not None
    assert second is None
    run_jobs()
    send_email(first)  # a duplicate delivery of the job
    assert len(inbox.messages) == 1
    assert session.scalar(select(func.count(OutboundEmail.id))) == 1


def test_a_down_server_is_retried_and_a_refused_recipient_fails_without_retrying(
    app: Flask, session: Session, shop_a: ShopKey, inbox: Inbox, run_jobs: RunJobs
) -> None:
    # given the server refuses the recipient for good
    inbox.refuse = (550, "5.1.1 no such mailbox")
    payout = _payout(session, shop_a, status="approved", approved_at=utcnow())
    message_id = notifications.payout_status_changed(session, payout)
    session.commit()
    # when
    assert run_jobs() == 1
    # then it is failed after one attempt, with the server's answer
    row = session.get(OutboundEmail, message_id)
    assert row is not None
    session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "no such mailbox" in (row.last_error or "")


def test_smtp_failures_are_sorted_into_retryable_and_rejected(inbox: Inbox) -> None:
    message = MailMessage("a@example.com", "s", "t", "<p>h</p>", "x@example.com", "<id@x>")
    port = inbox.port  # type: ignore[attr-defined]
    # nothing listens on this port: retryable
    with pytest.raises(MailRetryable):
        SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2).send(message)
    inbox.refuse = (450, "4.2.1 try later")
    with pytest.raises(MailRetryable, match="try later"):
        SmtpMailer(f"smtp://127.0.0.1:{port}").send(message)
    inbox.refuse = (550, "no")
    with pytest.raises(MailRejected):
        SmtpMailer(f"smtp://127.0.0.1:{port}").send(message)
    assert inbox.messages == []


def test_a_creator_who_prefers_store_credit_is_paid_in_the_store_once_and_told(
    app: Flask, session: Session, shop_a: ShopKey, inbox: Inbox, run_jobs: RunJobs
) -> None:
    # given a creator paid in store credit, and a payout waiting for approval
    payout = _payout(session, shop_a)
    creator = session.get(Creator, payout.creator_id)
    assert creator is not None
    creator.payout_method = "store_credit"
    session.commit()
    # when the merchant approves it, and the job is delivered twice
    payouts.approve_payout(session, shop_a.id, payout.id)
    session.commit()
    run_jobs()
    pay_in_store_credit(payout.id)
    # then the store credited the creator once and the payout is paid with that reference
    sandbox = connectors().get("sandbox")
    assert sandbox.store_credit[shop_a.shop.domain] == {  # type: ignore[attr-defined]
        f"payout:{payout.id}": ("mia@example.com", 12345)
    }
    paid = session.get(Payout, payout.id)
    assert paid is not None
    session.refresh(paid)
    assert (paid.status, paid.external_reference) == (
        "paid",
        f"store credit sandbox-credit-payout:{payout.id}",
    )
    subjects = [m["Subject"] for m in inbox.to("mia@example.com")]
    assert subjects == ["Your payout of USD 123.45 is approved", "You have been paid USD 123.45"]
    assert "by store credit" in parts(inbox.to("mia@example.com")[1])[0]


def test_the_smtp_url_setting_is_checked_at_start() -> None:
    assert load_settings({"TASTEMAKER_SMTP_URL": "smtps://u:p@mail.example:465"}).smtp_url == (
        "smtps://u:p@mail.example:465"
    )
    assert load_settings({}).smtp_url is None  # the outbox twin
    with pytest.raises(ConfigurationError, match="TASTEMAKER_SMTP_URL"):
        load_settings({"TASTEMAKER_SMTP_URL": "http://mail.example"})
    mailer = SmtpMailer("smtp://user%40x:s3cret@mail.example:2525?starttls=required")
    assert (mailer.host, mailer.port, mailer.username, mailer.password, mailer.starttls) == (
        "mail.example",
        2525,
        "user@x",
        "s3cret",
        "required",
    )
