"""Demo data for the creator side: the Try & Tag program switched on, two shopper posts (one
disclosed and rewarded, one sent back for a missing disclosure), creator applications waiting for
review, an invitation, and the emails all of that sent, in the Outbox (no SMTP in the demo).

Post checks need a network to ask: the demo starts a tiny local oEmbed server that answers for
its own sample posts, and points the app at it (a demo-only setting; real shops fetch the
networks' public endpoints).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import select

from plugin.db import get_db
from plugin.models import Shop
from plugin.models.ugc import ProductSnapshot, UgcPost
from plugin.services import joining
from plugin.services import rewards as tag
from plugin.services.ugc import moderate
from plugin.tenancy import Tenant

DISCLOSED = "https://www.tiktok.com/@nora.wears/video/7301"
UNDISCLOSED = "https://www.tiktok.com/@sol.daily/video/7302"
CAPTIONS = {
    DISCLOSED: "#ad Two weeks in this serum and my skin says thanks",
    UNDISCLOSED: "Two weeks in this serum and my skin says thanks",
}


def _start_oembed() -> str:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            post = parse_qs(urlsplit(self.path).query).get("url", [""])[0]
            caption = CAPTIONS.get(post)
            body = (
                json.dumps({"version": "1.0", "title": caption, "author_name": "demo"}).encode()
                if caption
                else b"Not Found"
            )
            self.send_response(200 if caption else 404)
            self.send_header("Content-Type", "application/json" if caption else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Silent: the demo's console ends with its banner, not with request logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="demo-oembed", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/oembed"


def start(app: Flask, base_url: str) -> list[str]:
    endpoint = _start_oembed()
    app.config["TASTEMAKER"] = app.config["TASTEMAKER"].with_overrides(
        allow_loopback_fetch=True,
        post_check_endpoints=dict.fromkeys(
            ("instagram", "tiktok", "youtube", "pinterest"), endpoint
        ),
    )
    lines: list[str] = []
    with app.app_context(), app.test_request_context(base_url=base_url):
        session = get_db(app).session()
        shop = session.scalars(
            select(Shop).where(Shop.platform == "sandbox", Shop.status == "active")
        ).first()
        if shop is None:
            return []
        tenant = Tenant(session, shop.id)
        tag.save_program(
            tenant,
            {"enabled": True, "discount_kind": "percentage", "discount_value": 1500},
        )
        first_product = session.scalars(
            select(ProductSnapshot.product_id).where(ProductSnapshot.shop_id == shop.id)
        ).first()
        rewards = []
        for url, email, handle in (
            (DISCLOSED, "nora@example.com", "nora.wears"),
            (UNDISCLOSED, "sol@example.com", "sol.daily"),
        ):
            reward, _token = tag.submit(
                tenant,
                shop,
                tag.Submission(
                    email=email, post_url=url, handle=handle, product_id=first_product or ""
                ),
            )
            rewards.append(reward)
        for name, email, handles, niche, audience in (
            ("Ivy Chen", "ivy@example.com", {"instagram": "ivy.skin"}, "skincare", 8_400),
            ("Omar Haddad", "omar@example.com", {"tiktok": "omar.routine"}, "grooming", 22_000),
        ):
            joining.apply(
                tenant,
                shop,
                {
                    "name": name,
                    "email": email,
                    "social_handles": handles,
                    "niche": niche,
                    "audience_size": audience,
                    "pitch": "I review one product a week, honestly.",
                },
            )
        joining.invite(
            tenant,
            shop,
            email="rae@example.com",
            name="Rae",
            message="We loved your serum routine video!",
            public_url=base_url,
        )
        session.commit()
    _drain(app)
    with app.app_context(), app.test_request_context(base_url=base_url):
        session = get_db(app).session()
        for reward in rewards:
            post = session.get(UgcPost, reward.ugc_post_id)
            if post is not None:
                moderate(Tenant(session, post.shop_id), post, "approve", actor="demo")
        session.commit()
    _drain(app)
    lines.append(
        f"Creator side: applications {base_url}/admin/applications · outbox "
        f"{base_url}/admin/outbox · apply page {base_url}/apply/{shop.public_key} · "
        f"Try & Tag {base_url}/try-and-tag/{shop.public_key}"
    )
    return lines


def _drain(app: Flask) -> None:
    from workers.backends import InProcessBackend
    from workers.runtime import get_backend

    backend = get_backend(app)
    if isinstance(backend, InProcessBackend):
        backend.drain(timeout=60)
