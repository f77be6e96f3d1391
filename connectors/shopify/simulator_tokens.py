"""The simulator's token authority: authorization codes, expiring offline tokens, their refresh.

It answers the three grants of Shopify's token endpoint the way the connector relies on: a code
works once, for its shop, for a minute; `expiring=1` adds `expires_in` and a refresh token; a
refresh returns a new pair while the old refresh token stays usable until the new access token
is first used (Shopify's 2026-08 behaviour); a token exchange needs a session token signed with
the client secret for that shop. Errors are OAuth-style JSON bodies with an HTTP status.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 90 * 24 * 3600
CODE_SECONDS = 60
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a grant name

Answer = tuple[dict[str, Any], int]


@dataclass
class _Access:
    shop: str
    expires_at: float | None  # None: a non-expiring (legacy) token


@dataclass
class _Refresh:
    shop: str
    expires_at: float
    scope: str
    successors: set[str] = field(default_factory=set)  # access tokens minted from it


@dataclass
class _Code:
    shop: str
    scope: str
    expires_at: float
    used: bool = False


class TokenAuthority:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        clock: Callable[[], float],
        access_token_seconds: int = ACCESS_TOKEN_SECONDS,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock = clock
        self.access_token_seconds = access_token_seconds
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}

    def issue_code(self, shop: str, scope: str) -> str:
        code = secrets.token_hex(16)
        self._codes[code] = _Code(shop, scope, self.clock() + CODE_SECONDS)
        return code

    def answer(self, shop: str, body: Mapping[str, Any]) -> Answer:
        """The token endpoint: (JSON body, HTTP status) for one request."""
        if body.get("client_id") != self.api_key or body.get("client_secret") != self.api_secret:
            return _error("invalid_client", "Client authentication failed", 401)
        grant = grant_name(body)
        expiring = str(body.get("expiring", "")) == "1"
        if grant == "code":
            code = self._codes.get(str(body.get("code")))
            if code is None or code.shop != shop or code.used or code.expires_at < self.clock():
                return _error(
                    "invalid_request", "The authorization code was not found or was already used"
                )
            code.used = True
            return self.mint(shop, expiring=expiring, scope=code.scope), 200
        if grant == "refresh":
            old = self._refresh.get(str(body.get("refresh_token")))
            if old is None or old.shop != shop or old.expires_at < self.clock():
                return _error("invalid_grant", "The refresh token is invalid or expired")
            token = self.mint(shop, expiring=True, scope=old.scope)
            old.successors.add(token["access_token"])
            return token, 200
        if grant == "token_exchange":
            try:
                claims = jwt.decode(
                    str(body.get("subject_token")),
                    self.api_secret,
                    algorithms=["HS256"],
                    audience=self.api_key,
                    leeway=10,
                )
            except jwt.PyJWTError as exc:
                return _error("invalid_subject_token", str(exc))
            if claims.get("dest") != f"https://{shop}":
                return _error("invalid_subject_token", "The token was issued for another shop")
            return self.mint(shop, expiring=expiring, scope=""), 200
        return _error("unsupported_grant_type", f"grant {grant!r} is not supported")

    def mint(
        self, shop: str, *, expiring: bool, scope: str, expires_in: int | None = None
    ) -> dict[str, Any]:
        access = "shpat_" + secrets.token_hex(16)
        if not expiring:
            self._access[access] = _Access(shop, None)
            return {"access_token": access, "scope": scope}
        now = self.clock()
        lifetime = self.access_token_seconds if expires_in is None else expires_in
        refresh = "shprt_" + secrets.token_hex(16)
        self._access[access] = _Access(shop, now + lifetime)
        self._refresh[refresh] = _Refresh(shop, now + REFRESH_TOKEN_SECONDS, scope)
        return {
            "access_token": access,
            "scope": scope,
            "expires_in": lifetime,
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        }

    def valid(self, shop: str, value: str | None) -> bool:
        token = self._access.get(value or "")
        if token is None or token.shop != shop:
            return False
        if token.expires_at is not None and token.expires_at <= self.clock():
            return False
        # The first use of a refreshed token retires the refresh token it replaced.
        for old, refresh in list(self._refresh.items()):
            if value in refresh.successors:
                del self._refresh[old]
        return True

    def revoke(self, shop: str) -> None:
        for value in [v for v, token in self._access.items() if token.shop == shop]:
            del self._access[value]
        for value in [v for v, token in self._refresh.items() if token.shop == shop]:
            del self._refresh[value]


def grant_name(body: Mapping[str, Any]) -> str:
    grant = str(body.get("grant_type") or "")
    if not grant and body.get("code"):
        return "code"
    if grant == "refresh_token":
        return "refresh"
    if grant == TOKEN_EXCHANGE:
        return "token_exchange"
    return grant or "unknown"


def _error(error: str, description: str, status: int = 400) -> Answer:
    return {"error": error, "error_description": description}, status
