"""The errors the campaign, lead, DNC and disposition services raise: a message for the
user, and nothing was changed."""

from __future__ import annotations

from telephony.services.errors import ServiceError


class CampaignServiceError(ServiceError):
    code = "invalid_campaign_data"
