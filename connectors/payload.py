"""Reading a verified webhook body as JSON, with a bound on what parsing it may cost.

A signed body is trusted to come from the store, not to be reasonable: a body nested 100,000
levels deep makes `json.loads` raise RecursionError, and a huge one costs memory and time in
every worker that retries it. Bodies past these bounds are malformed payloads like any other.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connectors.base import MalformedPayload

# Real order, refund and customer payloads nest 5 or 6 levels; 64 leaves room for meta data.
MAX_DEPTH = 64
MAX_BYTES = 8 * 1024 * 1024

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings aside)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    opening = brackets.count(b"[") + brackets.count(b"{")
    if opening <= 1:
        return opening
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def load_json(body: bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a body, raising MalformedPayload for invalid JSON or a body past the bounds."""
    if len(body) > max_bytes:
        raise MalformedPayload(f"body is {len(body)} bytes, more than {max_bytes}")
    # Cheap first: most bodies have fewer brackets in all than the depth allowed.
    if body.count(b"[") + body.count(b"{") > max_depth:
        depth = nesting_depth(body)
        if depth > max_depth:
            raise MalformedPayload(f"JSON nested {depth} levels deep, more than {max_depth}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedPayload(f"malformed JSON body: {exc}") from None
