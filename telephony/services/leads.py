"""Lead write paths the dialer and the pages share: claim, release, record an attempt,
export a list. Imports are in services/lead_import.py."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import F

from telephony.calling.rules import lead_callable, local_time
from telephony.calling.selection import dialable_leads
from telephony.csvcells import defuse
from telephony.models import Campaign, Lead, LeadList
from telephony.services.campaign_errors import CampaignServiceError

OUTCOMES = ("no_answer", "busy", "congestion", "failed", "machine", "dropped", "answered")
# How long the timestamps of past attempts are kept on the lead (the longest rule window).
RECENT_KEEP = datetime.timedelta(hours=72)


def lead_list_create(*, campaign: Campaign, name: str, default_region: str = "US",
                     user: Any = None) -> LeadList:
    name = name.strip()
    if not name:
        raise CampaignServiceError("Give the list a name.", field="name")
    if LeadList.objects.filter(campaign=campaign, name=name).exists():
        raise CampaignServiceError(f"The campaign already has a list called {name}.",
                                   field="name")
    return LeadList.objects.create(campaign=campaign, name=name,
                                   default_region=default_region.upper(), created_by=user)


def leads_claim(*, campaign: Campaign, at: datetime.datetime, limit: int,
                claimed_by: str) -> list[Lead]:
    """Up to `limit` leads that lead_callable allows at `at`, each moved to IN_PROGRESS by a
    conditional UPDATE: a lead another process claimed first is skipped, never shared."""
    claimed: list[Lead] = []
    candidates = dialable_leads(campaign, at).order_by(
        F("next_eligible_at").asc(nulls_first=True), "pk")[:limit * 2]
    for lead in candidates:
        if not lead_callable(lead, at)[0]:
            continue  # the limits the query cannot see (calls in the last 24 hours)
        won = Lead.objects.filter(pk=lead.pk, state=lead.state, claimed_by="").update(
            state=Lead.State.IN_PROGRESS, claimed_by=claimed_by[:64], claimed_at=at)
        if won:
            lead.previous_state = lead.state
            lead.state, lead.claimed_by, lead.claimed_at = (Lead.State.IN_PROGRESS,
                                                            claimed_by[:64], at)
            claimed.append(lead)
            if len(claimed) >= limit:
                break
    return claimed


def lead_release(*, lead: Lead, state: str = Lead.State.RETRY) -> None:
    """Give back a claimed lead that was not dialled (no agent came free)."""
    Lead.objects.filter(pk=lead.pk, state=Lead.State.IN_PROGRESS).update(
        state=state, claimed_by="", claimed_at=None)


def lead_attempt_record(*, lead: Lead, outcome: str, at: datetime.datetime) -> Lead:
    """Count one dialled call to `lead` that ended with `outcome` and decide what comes
    next: an answered call waits for the agent's disposition (stays IN_PROGRESS); any other
    outcome schedules a retry after the campaign's delay, or EXHAUSTED when the attempts
    are used up."""
    if outcome not in OUTCOMES:
        raise CampaignServiceError(f"Unknown call outcome {outcome!r}.")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().select_related("campaign").get(pk=lead.pk)
        campaign = lead.campaign
        local_date = local_time(lead.timezone, at, campaign.default_timezone).date()
        lead.day_attempts = lead.day_attempts + 1 if lead.day_attempts_date == local_date else 1
        lead.day_attempts_date = local_date
        lead.attempts += 1
        keep_after = (at - RECENT_KEEP).timestamp()
        lead.recent_attempts = [stamp for stamp in lead.recent_attempts or ()
                                if stamp > keep_after] + [int(at.timestamp())]
        lead.last_attempt_at, lead.last_outcome = at, outcome
        lead.claimed_by, lead.claimed_at = "", None
        if outcome == "answered":
            lead.state = Lead.State.IN_PROGRESS
        elif lead.state in Lead.TERMINAL_STATES:
            pass  # a DNC added while the call rang wins
        elif lead.attempts >= campaign.max_attempts:
            lead.state = Lead.State.EXHAUSTED
        else:
            if outcome == "machine":
                lead.last_machine_drop_at = at  # Ofcom's 72-hour rule counts from here
            lead.state = Lead.State.RETRY
            lead.next_eligible_at = at + datetime.timedelta(
                minutes=campaign.retry_delay_for(outcome) or campaign.retry_no_answer_minutes)
        lead.save()
    return lead


def lead_undisposed_record(*, lead_id: int, at: datetime.datetime) -> Lead | None:
    """An answered call's wrap-up ended without the agent's disposition: the lead must not
    stay IN_PROGRESS for ever (never called, never finished). It goes back to the pool after
    the campaign's no-answer delay, as a call nobody dispositioned is no verdict, or EXHAUSTED
    when its attempts are used up (the call was counted when it was answered). Call it inside
    the transaction that seals the attempt."""
    lead = (Lead.objects.select_for_update().select_related("campaign")
            .filter(pk=lead_id).first())
    if lead is None or lead.state != Lead.State.IN_PROGRESS or lead.claimed_by:
        return lead  # a DNC added meanwhile, or a deleted list: nothing to give back
    campaign = lead.campaign
    if lead.attempts >= campaign.max_attempts:
        lead.state = Lead.State.EXHAUSTED
    else:
        lead.state = Lead.State.RETRY
        lead.next_eligible_at = at + datetime.timedelta(
            minutes=campaign.retry_no_answer_minutes)
    lead.save(update_fields=["state", "next_eligible_at", "updated_at"])
    return lead


LEAD_EXPORT_COLUMNS = ["phone_number", "first_name", "last_name", "timezone", "line_type",
                       "state", "attempts", "last_outcome", "last_attempt_at",
                       "next_eligible_at", "disposition", "list", "data"]


def leads_export(*, lead_list: LeadList) -> Iterator[str]:
    """CSV lines of a list with each lead's status and attempts (cells spreadsheet-safe)."""
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LEAD_EXPORT_COLUMNS)
    yield buffer.getvalue()
    leads = (lead_list.leads.select_related("disposition").order_by("pk")
             .iterator(chunk_size=2000))
    for lead in leads:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([
            defuse(lead.phone_number), defuse(lead.first_name), defuse(lead.last_name),
            lead.timezone, lead.line_type, lead.state, lead.attempts, lead.last_outcome,
            lead.last_attempt_at.isoformat() if lead.last_attempt_at else "",
            lead.next_eligible_at.isoformat() if lead.next_eligible_at else "",
            defuse(lead.disposition.name) if lead.disposition else "",
            defuse(lead_list.name), defuse(json.dumps(lead.data, ensure_ascii=False))
            if lead.data else "",
        ])
        yield buffer.getvalue()
