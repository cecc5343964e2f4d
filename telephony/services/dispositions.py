"""Dispositions: an agent's verdict on a campaign call, applied by its policy, and callbacks.

Policies: FINAL ends the lead; RETRY makes it eligible again after the disposition's delay;
CALLBACK schedules a `Callback` (a date and time in the lead's zone, for the same agent or
anyone) and the lead is eligible from then, by the same calling rules; DNC adds the number to
the campaign's do-not-call list at once.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from telephony.calling.zones import zone
from telephony.models import Call, Callback, CallDisposition, Disposition, DncEntry, Lead
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.dnc import dnc_add

MAX_NOTES = 4000
MAX_CALLBACK_AHEAD = datetime.timedelta(days=365)


def disposition_save(*, campaign: Any, fields: dict, disposition: Disposition | None = None
                     ) -> Disposition:
    disposition = disposition or Disposition(campaign=campaign)
    for name, value in fields.items():
        setattr(disposition, name, value)
    disposition.full_clean()  # a "retry" policy with no delay is refused here
    disposition.save()
    return disposition


def _callback_time(raw: Any, lead: Lead | None, now: datetime.datetime) -> datetime.datetime:
    """An aware datetime from a naive one taken as the lead's local time."""
    if not isinstance(raw, datetime.datetime):
        raise CampaignServiceError("Give the callback's date and time.", field="callback_at")
    if timezone.is_naive(raw):
        name = lead.timezone if lead else "UTC"
        # fold=0: an hour that happens twice (November) is its first occurrence.
        raw = raw.replace(tzinfo=zone(name))
        if raw.astimezone(datetime.UTC).astimezone(zone(name)).replace(tzinfo=None) != \
                raw.replace(tzinfo=None):
            raise CampaignServiceError("That time does not exist in the lead's zone (the clocks "
                                       "jump over it).", field="callback_at")
    if raw <= now:
        raise CampaignServiceError("The callback must be in the future.", field="callback_at")
    if raw - now > MAX_CALLBACK_AHEAD:
        raise CampaignServiceError("The callback must be within a year.", field="callback_at")
    return raw


def disposition_pick(*, campaign_id: int, disposition_id: Any, notes: Any) -> Disposition:
    """One of the campaign's active dispositions, after checking the notes that go with it."""
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise CampaignServiceError(f"Notes are text of at most {MAX_NOTES} characters.")
    try:
        return Disposition.objects.get(pk=int(disposition_id), campaign_id=campaign_id,
                                       is_active=True)
    except (TypeError, ValueError, Disposition.DoesNotExist):
        raise CampaignServiceError("Pick one of the campaign's dispositions.") from None


def disposition_apply(*, user: Any, disposition: Disposition, campaign: Any, number: str,
                      lead: Lead | None, notes: str, callback_at: Any, callback_mine: bool,
                      call: Call | None = None, now: datetime.datetime) -> CallDisposition:
    """Record one disposition and apply its policy to the (locked) lead; call it inside the
    transaction that holds the call or attempt it is about."""
    when = (_callback_time(callback_at, lead, now)
            if disposition.policy == Disposition.Policy.CALLBACK else None)
    record = CallDisposition.objects.create(
        disposition=disposition, call=call, lead=lead, campaign_id=campaign.pk, agent=user,
        notes=notes)
    if disposition.policy == Disposition.Policy.DNC:
        dnc_add(number=number, campaign=campaign,
                reason=f"Agent's disposition: {disposition.name}",
                source=DncEntry.Source.DISPOSITION, user=user)
    if lead is not None:
        _apply(lead, disposition, when, user if callback_mine else None, user, notes, now)
    return record


def call_disposition_record(*, user: Any, call: Call, disposition_id: Any, notes: str = "",
                            callback_at: Any = None, callback_mine: bool = True
                            ) -> CallDisposition:
    """Record the agent's disposition of their own ended campaign call and apply its policy
    to the call's lead, in one transaction."""
    if call.user_id != user.pk:
        raise CampaignServiceError("Not your call.")
    if call.campaign_id is None:
        raise CampaignServiceError("Only campaign calls take a disposition.")
    if call.is_live:
        raise CampaignServiceError("Hang up first, then pick a disposition.")
    disposition = disposition_pick(campaign_id=call.campaign_id, disposition_id=disposition_id,
                                   notes=notes)
    now = timezone.now()
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if CallDisposition.objects.filter(call=locked).exists():
            raise CampaignServiceError("This call already has a disposition.")
        lead = (Lead.objects.select_for_update().filter(pk=locked.lead_id).first()
                if locked.lead_id else None)
        return disposition_apply(user=user, disposition=disposition, campaign=locked.campaign,
                                 number=locked.number, lead=lead, notes=notes,
                                 callback_at=callback_at, callback_mine=callback_mine,
                                 call=locked, now=now)


def _apply(lead: Lead, disposition: Disposition, when, callback_agent, user, notes, now) -> None:
    lead.disposition = disposition
    lead.claimed_by, lead.claimed_at = "", None
    policy = disposition.policy
    if policy == Disposition.Policy.DNC:
        lead.refresh_from_db(fields=["state"])  # dnc_add moved it
        lead.state = Lead.State.DNC
    elif policy == Disposition.Policy.FINAL:
        lead.state = Lead.State.FINAL
    elif policy == Disposition.Policy.RETRY:
        lead.state = (Lead.State.EXHAUSTED if lead.attempts >= lead.campaign.max_attempts
                      else Lead.State.RETRY)
        lead.next_eligible_at = now + datetime.timedelta(minutes=disposition.retry_minutes)
    elif policy == Disposition.Policy.CALLBACK:
        Callback.objects.filter(lead=lead, completed_at__isnull=True).update(completed_at=now)
        Callback.objects.create(lead=lead, campaign_id=lead.campaign_id, scheduled_at=when,
                                agent=callback_agent, note=notes, created_by=user)
        lead.state, lead.next_eligible_at = Lead.State.CALLBACK, when
    lead.save()


def callbacks_due(*, user: Any, now: datetime.datetime | None = None, ahead_minutes: int = 60):
    """The user's open callbacks (theirs, and "anyone" ones of their campaigns) due within
    the next hour or overdue, for the agent panel."""
    from django.db.models import Q

    now = now or timezone.now()
    return (Callback.objects.filter(completed_at__isnull=True,
                                    scheduled_at__lte=now + datetime.timedelta(
                                        minutes=ahead_minutes))
            .filter(Q(agent=user) | Q(agent__isnull=True, campaign__agents=user))
            .select_related("lead", "campaign").order_by("scheduled_at").distinct()[:20])


def callback_complete(*, callback: Callback) -> None:
    Callback.objects.filter(pk=callback.pk, completed_at__isnull=True).update(
        completed_at=timezone.now())
