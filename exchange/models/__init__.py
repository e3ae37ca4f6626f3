"""All exchange models; importing this registers every table on `database.Base.metadata`."""

from exchange.models.accounts import ApiKey, Organization, Role, User
from exchange.models.audit import AuditEvent
from exchange.models.campaigns import Campaign, CampaignStatus, CampaignTarget
from exchange.models.leads import IdempotencyKey, Lead, LeadReason, LeadStatus
from exchange.models.niches import FieldType, Niche, NicheField
from exchange.models.outcomes import ConversionModel, LeadOutcome, Outcome
from exchange.models.prices import NichePricing, PriceRule, PublisherPayout
from exchange.models.returns import (
    RETURN_REASONS,
    BuyerTerms,
    LeadReturn,
    PublisherFlag,
    ReturnStage,
    ReturnStatus,
    SourceStats,
)
from exchange.models.sales import (
    Conversion,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Ping,
    Sale,
    SaleStatus,
)
from exchange.models.uploads import LeadUpload, LeadUploadRow, UploadStatus

__all__ = [
    "RETURN_REASONS",
    "ApiKey",
    "AuditEvent",
    "BuyerTerms",
    "Campaign",
    "CampaignStatus",
    "CampaignTarget",
    "Conversion",
    "ConversionModel",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "FieldType",
    "IdempotencyKey",
    "Lead",
    "LeadOutcome",
    "LeadReason",
    "LeadReturn",
    "LeadStatus",
    "LeadUpload",
    "LeadUploadRow",
    "Niche",
    "NicheField",
    "NichePricing",
    "Organization",
    "Outcome",
    "Ping",
    "PriceRule",
    "PublisherFlag",
    "PublisherPayout",
    "ReturnStage",
    "ReturnStatus",
    "Role",
    "Sale",
    "SaleStatus",
    "SourceStats",
    "UploadStatus",
    "User",
]
