"""Sending email: one job per message id, safe to run twice (a sent message is left alone)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from plugin.db import get_session
from plugin.models import utcnow
from plugin.services import emails
from plugin.services.mailer import MailRejected, MailRetryable
from workers.registry import RetryableJobError, job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(minutes=15)


@job("email", timeout=60, retry_intervals=(30, 120, 600, 1800, 3600))
def send_email(message_id: int) -> None:
    session = get_session()
    now = utcnow()
    row = emails.claim(session, message_id, now)
    if row is None:
        session.rollback()  # gone, already sent, given up on, or another worker has it
        return
    if row.attempts > emails.MAX_ATTEMPTS:
        emails.mark_failed(row, f"gave up after {emails.MAX_ATTEMPTS} attempts: {row.last_error}")
        session.commit()
        return
    message = emails.as_message(row, current_app.config["TASTEMAKER"].mail_from)
    transport = emails.mailer()
    session.commit()  # the lease is ours; no transaction stays open across the SMTP call
    try:
        transport.send(message)
    except MailRetryable as exc:
        emails.release(row, str(exc))
        session.commit()
        logger.warning("email %s not sent yet (%s); retrying", message_id, exc)
        raise RetryableJobError(str(exc)) from exc
    except MailRejected as exc:
        emails.mark_failed(row, str(exc))
        session.commit()
        logger.error("email %s rejected by the server: %s", message_id, exc)
        return
    emails.mark_sent(row, transport.transport, utcnow())
    session.commit()


@job("periodic")
def sweep_unsent_email() -> int:
    session = get_session()
    ids = emails.stuck_ids(session, utcnow(), SWEEP_GRACE)
    session.rollback()
    for message_id in ids:
        enqueue(send_email, message_id)
    return len(ids)
