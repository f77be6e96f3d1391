"""The fields a merchant may set on a creator: one schema for the JSON API, the pages and the
CSV import, so all three accept and refuse the same values."""

from __future__ import annotations

from plugin.domain.validation import Field, Schema

CREATOR_STATUSES = ("active", "paused", "terminated")
PAYOUT_METHODS = ("bank_transfer", "paypal", "store_credit")
HANDLE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

CREATOR_INPUT = Schema(
    "CreatorInput",
    (
        Field(
            "handle",
            "string",
            required=True,
            max_length=64,
            pattern=HANDLE_PATTERN,
            pattern_hint="must start with a letter or digit and use only letters, digits, . _ -",
        ),
        Field("name", "string", max_length=200),
        Field("email", "email", nullable=True),
        Field("customer_ids", "array", item_kind="string", max_length=50),
        Field("social_handles", "object", items=Schema("SocialHandles", (), free_form=True)),
        Field("niche", "string", max_length=120),
        Field("audience_size", "integer", minimum=0, maximum=10_000_000_000),
        Field("engagement_rate_bps", "integer", minimum=0, maximum=10_000),
        Field("status", "string", choices=CREATOR_STATUSES),
        Field("payout_email", "email", nullable=True),
        Field("payout_method", "string", choices=PAYOUT_METHODS),
    ),
)
