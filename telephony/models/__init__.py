"""Telephony models, one module per subdomain (see docs/architecture.md)."""

from telephony.models.calls import Call, IdempotentRequest
from telephony.models.campaigns import Campaign
from telephony.models.carriers import Carrier
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
    "AsteriskServer",
    "Call",
    "Campaign",
    "Carrier",
    "DialplanContext",
    "DialplanExtension",
    "ExtensionsTable",
    "IdempotentRequest",
    "Phone",
    "PsAor",
    "PsAuth",
    "PsContact",
    "PsDomainAlias",
    "PsEndpoint",
    "PsEndpointIdIp",
    "PsRegistration",
]
