"""A real SMTP server (aiosmtpd) and a local oEmbed server, started by the tests, and the app
pointed at both (loopback fetches allowed only here, by the explicit test setting)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plugin.settings import Settings
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_key, make_shop
from tests.admin.signin import sign_in_with_key
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """What the SMTP server received; `refuse` makes it answer RCPT with that code."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: tuple[int, str] | None = None

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse is not None:
            code, text = self.refuse
            return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@dataclass
class OEmbedServer:
    """Answers /oembed?url=<post> like YouTube/TikTok do; `posts` maps a post URL to its answer."""

    port: int
    posts: dict[str, tuple[int, dict[str, Any] | bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    redirect_to: str | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/oembed"

    def live(self, url: str, caption: str, author: str = "lena") -> None:
        self.posts[url] = (
            200,
            {
                "version": "1.0",
                "type": "video",
                "title": caption,
                "author_name": author,
                "provider_name": "TikTok",
            },
        )

    def gone(self, url: str) -> None:
        self.posts[url] = (404, b"Not Found")


@pytest.fixture
def oembed() -> Iterator[OEmbedServer]:
    server_state = OEmbedServer(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append(self.path)
            if server_state.redirect_to:
                self.send_response(302)
                self.send_header("Location", server_state.redirect_to)
                self.end_headers()
                return
            post = parse_qs(urlsplit(self.path).query).get("url", [""])[0]
            status, body = server_state.posts.get(post, (404, b"Not Found"))
            payload = json.dumps(body).encode() if isinstance(body, dict) else body
            self.send_response(status)
            kind = "application/json" if isinstance(body, dict) else "text/plain"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", server_state.port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def settings(tmp_path: Path, inbox: Inbox, oembed: OEmbedServer) -> Settings:
    return make_settings(
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
        mail_from="Tastemaker <mail@tastemaker.test>",
        allow_loopback_fetch=True,
        post_check_endpoints=dict.fromkeys(
            ("instagram", "tiktok", "youtube", "pinterest"), oembed.endpoint
        ),
    )


@pytest.fixture
def shop_a(session: Session) -> ShopKey:
    shop = make_shop(session, "alpha.example", payout_minimum_minor=0)
    shop.name = "Alpha Outfitters"
    key = make_key(session, shop)
    session.commit()
    return ShopKey(shop, key)


def sign_in(client: FlaskClient, who: ShopKey) -> None:
    sign_in_with_key(client, who.key)


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, html) of a multipart/alternative message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())
