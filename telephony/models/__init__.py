"""Telephony models, one module per subdomain (see docs/architecture.md)."""

from telephony.models.calls import Call, IdempotentRequest
from telephony.models.campaigns import Campaign, CampaignStatusChange
from telephony.models.carriers import Carrier
from telephony.models.dialer_attempts import DialAttempt, LedgerSealed
from telephony.models.dialer_sessions import (
    AgentSession,
    AgentStateChange,
    PauseCode,
    PreviewSkip,
)
from telephony.models.dialer_workers import DialerWorker
from telephony.models.dialplan import DialplanContext, DialplanExtension
from telephony.models.dispositions import Callback, CallDisposition, Disposition
from telephony.models.dnc import DncEntry
from telephony.models.lead_imports import LeadImport, LeadImportIssue
from telephony.models.leads import Lead, LeadList
from telephony.models.phone_imports import PhoneImportJob
from telephony.models.phones import Phone
from telephony.models.realtime import (
    ExtensionsTable,
    PsAor,
    PsAuth,
    PsContact,
    PsDomainAlias,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)
from telephony.models.rules import BlockedDate, CallingRules
from telephony.models.servers import AsteriskServer

__all__ = [
    "AgentSession",
    "AgentStateChange",
    "AsteriskServer",
    "BlockedDate",
    "Call",
    "CallDisposition",
    "Callback",
    "CallingRules",
    "Campaign",
    "CampaignStatusChange",
    "Carrier",
    "DialAttempt",
    "DialerWorker",
    "DialplanContext",
    "DialplanExtension",
    "Disposition",
    "DncEntry",
    "ExtensionsTable",
    "IdempotentRequest",
    "LedgerSealed",
    "PauseCode",
    "PreviewSkip",
    "Lead",
    "LeadImport",
    "LeadImportIssue",
    "LeadList",
    "Phone",
    "PhoneImportJob",
    "PsAor",
    "PsAuth",
    "PsContact",
    "PsDomainAlias",
    "PsEndpoint",
    "PsEndpointIdIp",
    "PsRegistration",
]
