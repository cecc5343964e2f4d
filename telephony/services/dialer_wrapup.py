"""The agent's wrap-up of a dialer call: the dispositions of the attempt just ended, and
saving one, which seals the ledger row and puts the agent back to work (ready, or paused with
the reason they picked), in one transaction.

The disposition is written into the ledger by the same UPDATE that seals the row
(`attempt_seal`): from then on the model and the database trigger refuse any change, so an
attempt takes one disposition, once, and only between its hang-up and the end of its wrap-up.
A wrap-up that ended without one (Ready, Pause, the campaign's limit in `wrapups_expire`)
has sealed the row with the system's NODISPO and given the lead back (`session_transition`):
the agent's disposition is refused then, as the limit means.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from telephony.dialer.preview import preview_reserve
from telephony.dialer.sessions import attempt_seal, session_transition
from telephony.models import AgentSession, Campaign, DialAttempt, Disposition, Lead, PauseCode
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.dispositions import disposition_apply, disposition_pick

State = AgentSession.State
THEN_CHOICES = ("ready", "pause")


def _not_found() -> CampaignServiceError:
    return CampaignServiceError("No such call.", code="not_found", status=404)


def own_attempt(user: Any, attempt_id: object) -> DialAttempt:
    """The user's dialer attempt `attempt_id` (they were its agent); another agent's attempt
    is "not found", like a missing one."""
    try:
        pk = uuid.UUID(str(attempt_id)) if len(str(attempt_id)) <= 45 else None
    except ValueError:
        pk = None
    attempt = DialAttempt.objects.filter(pk=pk, agent_id=user.pk).first() if pk else None
    if attempt is None:
        raise _not_found()
    return attempt


def attempt_wrapup(*, user: Any, attempt_id: object) -> dict[str, Any]:
    """What the wrap-up form shows: the campaign's dispositions, the lead, and whether the
    attempt still takes one (`done` once it is sealed)."""
    attempt = own_attempt(user, attempt_id)
    campaign = Campaign.objects.filter(pk=attempt.campaign_id).first()
    lead = Lead.objects.filter(pk=attempt.lead_id).first() if attempt.lead_id else None
    choices = (Disposition.objects.filter(campaign_id=attempt.campaign_id, is_active=True)
               .values("id", "name", "policy"))
    return {
        "call_id": str(attempt.pk), "campaign": campaign.name if campaign else None,
        "wrapup_seconds": campaign.wrapup_seconds if campaign else 0,
        "dispositions": list(choices) if campaign else [],
        "lead": {"name": f"{lead.first_name} {lead.last_name}".strip(),
                 "timezone": lead.timezone, "data": lead.data} if lead else None,
        "done": attempt.closed_at is not None,
    }


def attempt_disposition_record(*, user: Any, attempt_id: object, disposition_id: Any,
                               notes: str = "", callback_at: Any = None,
                               callback_mine: bool = True, then: str = "ready",
                               pause_code_id: Any = None) -> DialAttempt:
    """Save the agent's disposition of their own ended dialer call: the lead gets its policy,
    the ledger row its disposition and wrap-up time (and is sealed), and the agent's session,
    if still in wrap-up with this call, goes to ready or paused (`then`)."""
    attempt = own_attempt(user, attempt_id)
    if then not in THEN_CHOICES:
        raise CampaignServiceError("After the disposition: ready or pause.")
    pause_code = None
    if then == "pause":
        try:
            pause_code = PauseCode.objects.get(pk=int(pause_code_id), is_active=True)
        except (TypeError, ValueError, PauseCode.DoesNotExist):
            raise CampaignServiceError("Pick a pause reason.") from None
    disposition = disposition_pick(campaign_id=attempt.campaign_id,
                                   disposition_id=disposition_id, notes=notes)
    now = timezone.now()
    with transaction.atomic():
        # The session first, then the attempt, as agent_session_ready and wrapups_expire
        # lock them (the events lock a live call's attempt first, but this one has ended).
        session = (AgentSession.objects.select_for_update()
                   .filter(agent=user, ended_at__isnull=True, attempt_id=attempt.pk,
                           state=State.WRAP_UP).first())
        locked = DialAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.closed_at is not None:
            raise CampaignServiceError("This call's wrap-up is over: it has its disposition, "
                                       "or its time limit passed.", code="wrapup_over",
                                       status=409)
        if locked.status != DialAttempt.Status.COMPLETED:
            raise CampaignServiceError("Hang up first, then pick a disposition.",
                                       code="call_live", status=409)
        campaign = Campaign.objects.get(pk=locked.campaign_id)
        lead = (Lead.objects.select_for_update().filter(pk=locked.lead_id).first()
                if locked.lead_id else None)
        disposition_apply(user=user, disposition=disposition, campaign=campaign,
                          number=locked.phone_number, lead=lead, notes=notes,
                          callback_at=callback_at, callback_mine=callback_mine, now=now)
        attempt_seal(attempt_id=locked.pk, disposition=disposition.name, at=now,
                     wrap_since=session.state_since if session else locked.ended_at or now)
        if session is not None:
            session_transition(session, State.PAUSED if pause_code else State.READY, at=now,
                               pause_code=pause_code)
    if session is not None and pause_code is None:
        preview_reserve(session, now=now)  # a preview campaign's next lead, on screen at once
    return DialAttempt.objects.get(pk=attempt.pk)
