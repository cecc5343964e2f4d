"""Campaigns, lists and leads for tests, made the way the services make them."""

from __future__ import annotations

import datetime

from telephony.models import Campaign, Lead, LeadList


def running_campaign(name: str = "Spring", *, agents=(), **fields) -> Campaign:
    campaign = Campaign.objects.create(name=name, status=Campaign.Status.RUNNING, **fields)
    campaign.agents.set(agents)
    return campaign


def lead_for(campaign: Campaign, number: str = "+12125550100", *,
             timezone: str = "America/New_York", lead_list: LeadList | None = None,
             **fields) -> Lead:
    lead_list = lead_list or LeadList.objects.get_or_create(campaign=campaign, name="List")[0]
    return Lead.objects.create(campaign=campaign, lead_list=lead_list, phone_number=number,
                               timezone=timezone, **fields)


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)
