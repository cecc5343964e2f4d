"""Campaign write paths: create and edit (with their agents and safe-harbor message), status
changes with their history, and the default dispositions a new campaign starts with."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from telephony.models import Campaign, CampaignStatusChange, Disposition
from telephony.services.campaign_errors import CampaignServiceError

P = Disposition.Policy
# name, policy, retry minutes, is_sale, is_contact: what VICIdial and OMniLeads ship, trimmed.
DEFAULT_DISPOSITIONS = [
    ("Sale", P.FINAL, None, True, True),
    ("Not interested", P.FINAL, None, False, True),
    ("Call back", P.CALLBACK, None, False, True),
    ("Wrong number", P.FINAL, None, False, False),
    ("Do not call", P.DNC, None, False, True),
    ("Answering machine", P.RETRY, 240, False, False),
    ("No answer", P.RETRY, 120, False, False),
    ("Busy", P.RETRY, 15, False, False),
]


def dispositions_create_defaults(*, campaign: Campaign) -> list[Disposition]:
    return Disposition.objects.bulk_create([
        Disposition(campaign=campaign, name=name, policy=policy, retry_minutes=minutes,
                    is_sale=sale, is_contact=contact, order=index)
        for index, (name, policy, minutes, sale, contact) in enumerate(DEFAULT_DISPOSITIONS)
    ])


def campaign_create(*, fields: dict[str, Any], agents: Any = (), user: Any = None,
                    safe_harbor: Any = None, other_carriers: Any = ()) -> Campaign:
    """A new campaign in DRAFT, with the default dispositions and its first history row."""
    from telephony.services.safe_harbor import safe_harbor_store

    with transaction.atomic():
        campaign = Campaign(**fields, created_by=user, status=Campaign.Status.DRAFT)
        campaign.full_clean()
        campaign.save()
        campaign.agents.set(agents)
        campaign.other_carriers.set(other_carriers)
        dispositions_create_defaults(campaign=campaign)
        CampaignStatusChange.objects.create(campaign=campaign, from_status="",
                                            to_status=campaign.status, changed_by=user)
        if safe_harbor is not None:
            safe_harbor_store(campaign=campaign, upload=safe_harbor)
    return campaign


def campaign_update(*, campaign: Campaign, fields: dict[str, Any], agents: Any = None,
                    safe_harbor: Any = None, other_carriers: Any = None) -> Campaign:
    from telephony.services.safe_harbor import safe_harbor_store

    with transaction.atomic():
        for name, value in fields.items():
            if name in ("status", "created_by", "safe_harbor_sound"):
                raise CampaignServiceError(f"{name} cannot be edited here.")
            setattr(campaign, name, value)
        campaign.full_clean()
        campaign.save()
        if agents is not None:
            campaign.agents.set(agents)
        if other_carriers is not None:
            campaign.other_carriers.set(other_carriers)
        if safe_harbor is not None:
            safe_harbor_store(campaign=campaign, upload=safe_harbor)
    return campaign


def campaign_status_change(*, campaign: Campaign, to_status: str, user: Any = None) -> Campaign:
    """Move the campaign along draft → running ⇄ paused → finished, and record who did it."""
    if to_status not in Campaign.Status.values:
        raise CampaignServiceError(f"Unknown status {to_status!r}.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        allowed = Campaign.TRANSITIONS[Campaign.Status(locked.status)]
        if to_status not in allowed:
            raise CampaignServiceError(
                f"A {locked.get_status_display().lower()} campaign cannot become "
                f"{Campaign.Status(to_status).label.lower()}.")
        if to_status == Campaign.Status.RUNNING and locked.dial_mode != Campaign.DialMode.MANUAL \
                and not locked.agents.exists():
            raise CampaignServiceError("Assign at least one agent before starting a dialling "
                                       "campaign.")
        CampaignStatusChange.objects.create(campaign=locked, from_status=locked.status,
                                            to_status=to_status, changed_by=user)
        locked.status = to_status
        locked.save(update_fields=["status", "updated_at"])
    campaign.status = to_status
    return campaign


def campaigns_of_agent(user: Any):
    """The campaigns a user may call for: running or paused, and for an agent assigned to
    them (supervisors and admins may call for any)."""
    from users.roles import is_supervisor

    campaigns = Campaign.objects.filter(status__in=Campaign.OPEN_STATUSES)
    return campaigns if is_supervisor(user) else campaigns.filter(agents=user)
