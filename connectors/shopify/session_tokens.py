"""App Bridge session tokens: the JWT an embedded admin sends as `Authorization: Bearer`.

Only HS256 signed with the app's client secret is accepted (PyJWT is never given another
algorithm, so `alg: none` and RS/HS confusion fail), `aud` must be our API key, and `exp`/`nbf`
are checked here, with Shopify's 10 s leeway, against an injectable clock so tests can use
published tokens. The shop is `dest`, which must be a myshopify domain and match `iss`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse

import jwt

from connectors.shopify.urls import valid_shop_domain

ALGORITHM = "HS256"
LEEWAY_SECONDS = 10
REQUIRED_CLAIMS = ("iss", "dest", "aud", "sub", "exp", "nbf", "jti", "sid")


class InvalidSessionToken(Exception):
    """The token must not authenticate anyone; `reason` is a short label for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SessionToken:
    shop: str
    user_id: str
    session_id: str
    raw: str
    claims: Mapping[str, Any]


def decode_session_token(
    token: str, api_key: str, secrets: Sequence[str], now: float | None = None
) -> SessionToken:
    if not api_key or not any(secrets):
        raise InvalidSessionToken("app_not_configured")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidSessionToken("not_a_jwt") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidSessionToken("algorithm_not_allowed")
    claims = _verified_claims(token, api_key, [secret for secret in secrets if secret])
    current = time.time() if now is None else now
    if current > int(claims["exp"]) + LEEWAY_SECONDS:
        raise InvalidSessionToken("expired")
    if current < int(claims["nbf"]) - LEEWAY_SECONDS:
        raise InvalidSessionToken("not_yet_valid")
    dest = str(claims["dest"])
    if urljoin(str(claims["iss"]), "/") != urljoin(dest, "/"):
        raise InvalidSessionToken("issuer_dest_mismatch")
    parsed = urlparse(dest)
    shop = valid_shop_domain(parsed.hostname or "")
    if parsed.scheme != "https" or shop is None or parsed.netloc != shop:
        raise InvalidSessionToken("bad_dest")
    return SessionToken(
        shop=shop,
        user_id=str(claims["sub"]),
        session_id=str(claims["sid"]),
        raw=token,
        claims=claims,
    )


def _verified_claims(token: str, api_key: str, secrets: Sequence[str]) -> dict[str, Any]:
    for secret in secrets:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=api_key,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    # Checked by the caller against its own clock (see module docstring).
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidAudienceError:
            raise InvalidSessionToken("wrong_audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidSessionToken(f"missing_{exc.claim}") from None
        except jwt.PyJWTError:
            raise InvalidSessionToken("invalid") from None
        return claims
    raise InvalidSessionToken("bad_signature")
