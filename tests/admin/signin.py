"""Signing a test client in to the merchant pages the way a self-hoster does: the POST form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def sign_in_with_key(client: FlaskClient, api_key: str) -> str:
    """POST the sign-in form with its CSRF token; returns the dashboard's HTML."""
    form = client.get("/admin").get_data(as_text=True)
    response = client.post("/admin/sign-in", data={"csrf_token": csrf(form), "api_key": api_key})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"
    return client.get("/admin").get_data(as_text=True)
