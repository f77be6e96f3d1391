"""Who is held out of a link-holdout lift test: a pure, deterministic draw per visitor.

Kept apart from the statistics (no numpy import) because the referral redirect calls it.
"""

from __future__ import annotations

import hashlib

BPS = 10_000


def holdout_salt(test_id: int, seed: int) -> str:
    """Per test, so the same visitor is drawn independently in different tests."""
    return f"lift-{test_id}-{seed}"


def in_holdout(salt: str, visitor_hash: str, share_bps: int) -> bool:
    """A hash of (test, visitor) read as a number in 0..9999, held out when below the share.
    The same visitor always gets the same answer in the same test."""
    if share_bps <= 0:
        return False
    digest = hashlib.sha256(f"{salt}:{visitor_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BPS < share_bps
