"""Security headers on the API, the OpenAPI document and the health checks; HSTS in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from plugin import create_app
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("path", "no_store"),
    [
        ("/api/v1/creators", True),
        ("/api/v1/no-such-route", True),
        ("/openapi.json", False),
        ("/healthz", True),
        ("/readyz", True),
    ],
)
def test_machine_endpoints_send_security_headers(
    client: FlaskClient, path: str, no_store: bool
) -> None:
    # when (unauthenticated API answers included: they are JSON too)
    response = client.get(path)
    # then
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["X-Frame-Options"] == "DENY"
    assert (headers.get("Cache-Control") == "no-store") is no_store
    assert "Strict-Transport-Security" not in headers  # not production


def test_production_sends_hsts(tmp_path: Path) -> None:
    # given
    settings = make_settings(
        tmp_path,
        env="production",
        public_url="https://tastemaker.example",
        encryption_key="M2Kv7h0mQyV2nQ5m0e2cO6H1hWd3aJw5oYw4d0r6x8Q=",
    )
    app = create_app(settings)
    # when
    response = app.test_client().get("/healthz")
    # then
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
