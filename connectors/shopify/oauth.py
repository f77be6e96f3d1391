"""OAuth with Shopify: the install query HMAC, the authorize URL and the token endpoint.

ShopifyAPI 12.7 cannot ask for expiring offline tokens, refresh them or exchange a session token,
and it posts without a timeout, so the token endpoint is called here with `requests`. The query
HMAC is the package's own algorithm (on a throwaway subclass, so no secret is set process-wide).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
import shopify

from connectors.base import CredentialsRevoked, RetryableConnectorError, TerminalConnectorError
from connectors.shopify.urls import ShopifyUrls

logger = logging.getLogger(__name__)

TIMEOUT = (3.05, 15)  # (connect, read) seconds
TIMESTAMP_WINDOW_SECONDS = 300
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a grant name
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a token type name
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105

QueryParams = Mapping[str, str | Sequence[str]]


def calculate_query_hmac(params: QueryParams, secret: str) -> str:
    session_class: Any = type("_OneAppSession", (shopify.Session,), {"secret": secret})
    digest: str = session_class.calculate_hmac(dict(params))
    return digest


def query_hmac_valid(params: QueryParams, secrets: Sequence[str]) -> bool:
    given = params.get("hmac")
    if not isinstance(given, str) or not given:
        return False
    matched = False
    for secret in (secret for secret in secrets if secret):
        expected = calculate_query_hmac(params, secret)
        matched |= hmac.compare_digest(expected.encode(), given.strip().lower().encode())
    return matched


def timestamp_fresh(value: object, now: float | None = None) -> bool:
    try:
        stamp = int(str(value))
    except ValueError:
        return False
    current = time.time() if now is None else now
    return abs(current - stamp) <= TIMESTAMP_WINDOW_SECONDS


@dataclass(frozen=True)
class TokenSet:
    """An offline token as the token endpoint returns it, with absolute expiry times."""

    access_token: str
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: datetime | None = None) -> TokenSet:
        issued = now or datetime.now(UTC)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise TerminalConnectorError("token endpoint answered without an access_token")
        return cls(
            access_token=token,
            scope=str(data.get("scope") or ""),
            expires_at=_after(issued, data.get("expires_in")),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            refresh_token_expires_at=_after(issued, data.get("refresh_token_expires_in")),
        )

    def as_credentials(self) -> dict[str, Any]:
        """The JSON kept (encrypted) in Shop.credentials_encrypted."""
        return {
            "access_token": self.access_token,
            "scope": self.scope,
            "expires_at": _iso(self.expires_at),
            "refresh_token": self.refresh_token,
            "refresh_token_expires_at": _iso(self.refresh_token_expires_at),
        }


def authorize_url(
    urls: ShopifyUrls, shop: str, api_key: str, scopes: Sequence[str], redirect_uri: str, state: str
) -> str:
    # No grant_options[]=per-user: the app needs an offline token that outlives the browser.
    query = urlencode(
        {
            "client_id": api_key,
            "scope": ",".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{urls.authorize(shop)}?{query}"


class TokenClient:
    def __init__(
        self,
        urls: ShopifyUrls,
        api_key: str,
        api_secret: str,
        http: requests.Session | None = None,
    ) -> None:
        self.urls = urls
        self.api_key = api_key
        self.api_secret = api_secret
        self.http = http or requests.Session()

    def exchange_code(self, shop: str, code: str) -> TokenSet:
        return TokenSet.from_response(self._post(shop, {"code": code, "expiring": "1"}, "code"))

    def refresh(self, shop: str, refresh_token: str) -> TokenSet:
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return TokenSet.from_response(self._post(shop, body, "refresh"))

    def exchange_session_token(self, shop: str, session_token: str) -> TokenSet:
        body = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": session_token,
            "subject_token_type": ID_TOKEN,
            "requested_token_type": OFFLINE_TOKEN,
            "expiring": "1",
        }
        return TokenSet.from_response(self._post(shop, body, "token_exchange"))

    def _post(self, shop: str, body: dict[str, str], grant: str) -> dict[str, Any]:
        payload = {"client_id": self.api_key, "client_secret": self.api_secret, **body}
        try:
            response = self.http.post(
                self.urls.access_token(shop),
                json=payload,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise RetryableConnectorError(f"shopify token endpoint unreachable: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableConnectorError(
                f"shopify token endpoint answered {response.status_code}",
                retry_after=_retry_after(response),
            )
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) else None
            description = data.get("error_description") if isinstance(data, dict) else None
            message = (
                f"shopify {grant} grant refused ({response.status_code} {error}): {description}"
            )
            logger.warning("%s for shop %s", message, shop)
            if grant == "refresh":
                # A refused refresh token cannot be retried into validity: reconnect the shop.
                raise CredentialsRevoked(message)
            raise TerminalConnectorError(message)
        return data


def _after(issued: datetime, seconds: object) -> datetime | None:
    if seconds in (None, ""):
        return None
    return issued + timedelta(seconds=int(str(seconds)))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def parse_iso(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
