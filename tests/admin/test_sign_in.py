"""Standalone sign-in: no secret in a URL, a POST form with CSRF, a rotated, hardened cookie;
and the API keys page merchants manage their integrations' keys on."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.crypto import sha256_hex
from plugin.models import ApiKey
from tests.admin.conftest import ShopKey
from tests.admin.signin import csrf, sign_in_with_key


def test_a_key_in_the_url_signs_nobody_in(client: FlaskClient, shop_a: ShopKey) -> None:
    # when a link carries a valid key
    response = client.get(f"/admin?key={shop_a.key}", follow_redirects=True)
    # then it is ignored: the sign-in form, no session
    assert response.status_code == 200
    assert "Sign in to your shop" in response.get_data(as_text=True)
    assert "Creator program" not in client.get("/admin").get_data(as_text=True)


def test_sign_in_needs_the_forms_csrf_token(client: FlaskClient, shop_a: ShopKey) -> None:
    # a cross-site form (login CSRF) has no token from this browser's session
    response = client.post("/admin/sign-in", data={"api_key": shop_a.key, "csrf_token": "x"})
    assert response.status_code == 400
    assert "Sign in to your shop" in client.get("/admin").get_data(as_text=True)


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("__Host-tastemaker")
    assert cookie is not None
    return cookie.value


def test_signing_in_rotates_the_session_and_the_cookie_is_hardened(
    client: FlaskClient, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    # given a browser that signed in to shop A
    page = client.get("/admin").get_data(as_text=True)
    before = csrf(page)
    response = client.post("/admin/sign-in", data={"api_key": shop_a.key, "csrf_token": before})
    # then the cookie is HttpOnly, Secure (https public URL), SameSite=Lax, __Host- prefixed
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-tastemaker=")
    assert "; Secure" in header
    assert "; HttpOnly" in header
    assert "; SameSite=Lax" in header
    assert "Domain=" not in header
    assert "; Path=/" in header
    first = session_cookie(client)
    dashboard = client.get("/admin").get_data(as_text=True)
    after = csrf(dashboard)
    # and the CSRF token of the anonymous session is gone
    assert after != before
    # when the same browser signs in to shop B
    client.post("/admin/sign-in", data={"api_key": shop_b.key, "csrf_token": after})
    # then it got a new session again
    assert session_cookie(client) != first
    assert csrf(client.get("/admin").get_data(as_text=True)) != after


def test_the_standalone_admin_may_not_be_framed(client: FlaskClient, shop_a: ShopKey) -> None:
    sign_in_with_key(client, shop_a.key)
    policy = client.get("/admin").headers["Content-Security-Policy"]
    assert policy.endswith("frame-ancestors 'none'")
    assert "script-src 'self';" in policy


def keys_page(client: FlaskClient) -> str:
    return client.get("/admin/keys").get_data(as_text=True)


def test_keys_are_created_with_a_label_and_shown_once(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    sign_in_with_key(client, shop_a.key)
    token = csrf(keys_page(client))
    # when
    created = client.post("/admin/keys", data={"csrf_token": token, "label": "Zapier"})
    # then the new key is on this page only, and it works on the API
    html = created.get_data(as_text=True)
    found = re.search(r'id="new-key" class="wide mono" type="text" readonly value="([^"]+)"', html)
    assert created.status_code == 200
    assert found is not None
    clear = found.group(1)
    api = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {clear}"})
    assert api.status_code == 200
    # and the list shows it by prefix only
    listing = keys_page(client)
    assert clear not in listing
    assert f"<code>{clear[:8]}…</code>" in listing
    assert "Zapier" in listing
    stored = session.scalars(select(ApiKey).where(ApiKey.label == "Zapier")).one()
    assert stored.key_hash == sha256_hex(clear)


def api_status(client: FlaskClient, key: str) -> int:
    return client.get("/api/v1/shop", headers={"Authorization": f"Bearer {key}"}).status_code


def test_a_key_is_revoked_after_a_confirmation_step(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given a second key
    sign_in_with_key(client, shop_a.key)
    token = csrf(keys_page(client))
    html = client.post("/admin/keys", data={"csrf_token": token, "label": "Reports"}).get_data(
        as_text=True
    )
    clear = re.search(r'readonly value="(tmk_[^"]+)"', html).group(1)  # type: ignore[union-attr]
    key_id = session.scalars(select(ApiKey.id).where(ApiKey.label == "Reports")).one()
    # when the merchant asks to revoke it, a confirmation page comes first
    confirm = client.get(f"/admin/keys/{key_id}/revoke").get_data(as_text=True)
    assert "Revoke Reports?" in confirm
    assert (
        client.get("/api/v1/shop", headers={"Authorization": f"Bearer {clear}"}).status_code == 200
    )
    # and confirming revokes it
    done = client.post(f"/admin/keys/{key_id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302
    assert "revoked" in keys_page(client)
    assert (
        client.get("/api/v1/shop", headers={"Authorization": f"Bearer {clear}"}).status_code == 401
    )


def test_another_shops_key_cannot_be_revoked(
    client: FlaskClient, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    b_key = session.scalars(select(ApiKey.id).where(ApiKey.shop_id == shop_b.id)).one()
    sign_in_with_key(client, shop_a.key)
    token = csrf(keys_page(client))
    assert client.get(f"/admin/keys/{b_key}/revoke").status_code == 404
    assert client.post(f"/admin/keys/{b_key}/revoke", data={"csrf_token": token}).status_code == 404
    assert session.get(ApiKey, b_key).revoked_at is None  # type: ignore[union-attr]


def test_key_actions_need_the_csrf_token(client: FlaskClient, shop_a: ShopKey) -> None:
    sign_in_with_key(client, shop_a.key)
    response = client.post("/admin/keys", data={"csrf_token": "forged", "label": "x"})
    assert response.status_code == 400


def test_a_key_needs_a_label(client: FlaskClient, shop_a: ShopKey) -> None:
    sign_in_with_key(client, shop_a.key)
    token = csrf(keys_page(client))
    response = client.post("/admin/keys", data={"csrf_token": token, "label": "  "})
    assert response.status_code == 400
    assert "Give the key a label" in response.get_data(as_text=True)
