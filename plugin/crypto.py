"""Platform credentials are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class CredentialError(Exception):
    """Stored credentials cannot be decrypted with the configured key."""


class CredentialBox:
    def __init__(self, key: str | None, *, fallback_secret: str) -> None:
        # Without an explicit key (development only; production refuses to start), derive one so
        # the embedded demo still never writes credentials in clear text.
        material = key.encode() if key else derive_fernet_key(fallback_secret)
        self._fernet = Fernet(material)

    def seal(self, credentials: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode())

    def open(self, token: bytes | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise CredentialError("credentials cannot be decrypted with this key") from None
        return data


def derive_fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(
        hashlib.sha256(b"tastemaker-credentials:" + secret.encode()).digest()
    )


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_email(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    return sha256_hex(email.strip().lower())


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)
