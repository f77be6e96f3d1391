"""All models, imported here so that metadata (and Alembic) sees every table."""

from plugin.models.base import Base, utcnow
from plugin.models.creators import Agreement, Campaign, Creator
from plugin.models.ledger import LedgerEntry, Payout
from plugin.models.lift import LiftAssignment, LiftTest
from plugin.models.orders import Attribution, Order, Refund
from plugin.models.rewards import ReferralSprint, TryAndTagProgram
from plugin.models.shop import ApiKey, OAuthState, Shop
from plugin.models.tracking import Click, DiscountCode, ReferralLink
from plugin.models.ugc import Reward, UgcPost
from plugin.models.webhooks import WebhookEvent

__all__ = [
    "Agreement",
    "ApiKey",
    "Attribution",
    "Base",
    "Campaign",
    "Click",
    "Creator",
    "DiscountCode",
    "LedgerEntry",
    "LiftAssignment",
    "LiftTest",
    "OAuthState",
    "Order",
    "Payout",
    "ReferralLink",
    "ReferralSprint",
    "Refund",
    "Reward",
    "Shop",
    "TryAndTagProgram",
    "UgcPost",
    "WebhookEvent",
    "utcnow",
]
