"""All exchange models; importing this registers every table on `database.Base.metadata`."""

from exchange.models.accounts import ApiKey, Organization, Role, User
from exchange.models.audit import AuditEvent
from exchange.models.leads import IdempotencyKey, Lead, LeadReason, LeadStatus
from exchange.models.niches import FieldType, Niche, NicheField

__all__ = [
    "ApiKey",
    "AuditEvent",
    "FieldType",
    "IdempotencyKey",
    "Lead",
    "LeadReason",
    "LeadStatus",
    "Niche",
    "NicheField",
    "Organization",
    "Role",
    "User",
]
