"""The merchant's JSON admin API under /api/v1, and its OpenAPI document at /openapi.json.

One module per resource group; each declares its routes on the shared blueprint with
`api_route`, which also feeds the OpenAPI document.
"""

from plugin.web.admin_api import (  # noqa: F401 - importing registers the routes
    agreements,
    campaigns,
    codes,
    creators,
    deliverables,
    keys,
    ledger,
    lift_tests,
    metrics,
    openapi,
    payouts,
)
from plugin.web.admin_api.base import bp

__all__ = ["bp"]
