from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Sandbox-Hmac-Sha256"
TOPIC_HEADER = "X-Sandbox-Topic"
EVENT_ID_HEADER = "X-Sandbox-Event-Id"
SHOP_HEADER = "X-Sandbox-Shop-Domain"
TRIGGERED_AT_HEADER = "X-Sandbox-Triggered-At"


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
