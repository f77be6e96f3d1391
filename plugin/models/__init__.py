"""All models, imported here so that metadata (and Alembic) sees every table."""

from plugin.models.base import Base, utcnow
from plugin.models.contracts import (
    AgreementAcceptance,
    AgreementVersion,
    Deliverable,
    DeliverableEvent,
    HeldLink,
)
from plugin.models.creators import Agreement, Campaign, Creator
from plugin.models.email import OutboundEmail
from plugin.models.joining import CreatorApplication, CreatorInvitation
from plugin.models.ledger import LedgerEntry, Payout
from plugin.models.lift import LiftAssignment, LiftTest
from plugin.models.metrics import (
    BalanceReleaseDay,
    BalanceTotal,
    ClickDay,
    CohortDay,
    CustomerCohort,
    MetricState,
    OrderContribution,
    OrderDay,
    VisitorBlock,
)
from plugin.models.orders import Attribution, Order, Refund
from plugin.models.rewards import ReferralSprint, TryAndTagProgram
from plugin.models.shop import ApiKey, OAuthState, Shop
from plugin.models.tracking import Click, DiscountCode, ReferralLink
from plugin.models.ugc import Reward, UgcPost
from plugin.models.webhooks import WebhookEvent

__all__ = [
    "Agreement",
    "AgreementAcceptance",
    "AgreementVersion",
    "ApiKey",
    "Attribution",
    "BalanceReleaseDay",
    "BalanceTotal",
    "Base",
    "Campaign",
    "Click",
    "ClickDay",
    "CohortDay",
    "Creator",
    "CreatorApplication",
    "CreatorInvitation",
    "CustomerCohort",
    "Deliverable",
    "DeliverableEvent",
    "DiscountCode",
    "HeldLink",
    "LedgerEntry",
    "LiftAssignment",
    "LiftTest",
    "MetricState",
    "OAuthState",
    "Order",
    "OrderContribution",
    "OrderDay",
    "OutboundEmail",
    "Payout",
    "ReferralLink",
    "ReferralSprint",
    "Refund",
    "Reward",
    "Shop",
    "TryAndTagProgram",
    "UgcPost",
    "VisitorBlock",
    "WebhookEvent",
    "utcnow",
]
