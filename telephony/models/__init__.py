"""Telephony models, one module per subdomain (see docs/architecture.md)."""

from telephony.models.calls import Call, IdempotentRequest
from telephony.models.campaigns import Campaign
from telephony.models.carriers import Carrier
from telephony.models.dialer_attempts import DialAttempt, LedgerSealed
from telephony.models.dialer_sessions import AgentSession, AgentStateChange, PauseCode
from telephony.models.dialplan import DialplanContext, DialplanExtension
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
from telephony.models.servers import AsteriskServer

__all__ = [
    "AgentSession",
    "AgentStateChange",
    "AsteriskServer",
    "Call",
    "Campaign",
    "Carrier",
    "DialAttempt",
    "DialplanContext",
    "DialplanExtension",
    "ExtensionsTable",
    "IdempotentRequest",
    "LedgerSealed",
    "PauseCode",
    "Phone",
    "PsAor",
    "PsAuth",
    "PsContact",
    "PsDomainAlias",
    "PsEndpoint",
    "PsEndpointIdIp",
    "PsRegistration",
]
