"""The mail transport, with two twins chosen by setting (`TASTEMAKER_SMTP_URL`).

- `SmtpMailer` talks to a real SMTP server: `smtp://[user:pass@]host[:port]` (STARTTLS when the
  server offers it, required when `?starttls=required`) or `smtps://` (TLS from the first byte).
- `OutboxMailer` is the embedded default: the message row in the database *is* the delivery, and
  the merchant's Outbox page shows it. Nothing leaves the machine.

Failures are sorted once, here: `MailRetryable` (the server or network may recover: 4xx,
timeouts, refused connections) and `MailRejected` (5xx: retrying cannot help).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

SMTP_TIMEOUT_SECONDS = 20


class MailRetryable(Exception):
    """A transient failure: try again later."""


class MailRejected(Exception):
    """The server refused the message for good."""


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    sender: str
    # Stable per event, so a receiving system can also drop a duplicate.
    message_id: str


class Mailer(Protocol):
    transport: str

    def send(self, message: Message) -> None: ...


def build_mime(message: Message) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part second."""
    mime = EmailMessage()
    mime["From"] = message.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    mime["Message-ID"] = message.message_id
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


def message_id_for(key: str, domain: str = "tastemaker.invalid") -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in key)
    return f"<{safe}@{domain}>" if safe else make_msgid(domain=domain)


class OutboxMailer:
    transport = "outbox"

    def send(self, message: Message) -> None:
        build_mime(message)  # the same checks as a real send (headers, parts), nothing leaves


class SmtpMailer:
    transport = "smtp"

    def __init__(self, url: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "TASTEMAKER_SMTP_URL must be smtp://host[:port] or smtps://host[:port]"
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["auto"])[0]
        self.timeout = timeout

    def send(self, message: Message) -> None:
        mime = build_mime(message)
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if not self.implicit_tls and (
                    self.starttls == "required" or smtp.has_extn("starttls")
                ):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mime)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailRejected(f"recipient refused: {exc.recipients}") from exc
            raise MailRetryable(f"recipient deferred: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise MailRejected(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise MailRetryable(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailRetryable(f"{type(exc).__name__}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def build_mailer(smtp_url: str | None) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else OutboxMailer()
