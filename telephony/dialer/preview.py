"""Preview mode: the agent in session sees the next lead with its data, then dials or skips it.

A lead is reserved for one ready agent with the worker's own claim (`leads_claim_locked`:
SELECT ... FOR UPDATE SKIP LOCKED, so two agents never get the same lead), marked
`claimed_by = "preview-<session id>"`. The reservation lasts DIALER_PREVIEW_SECONDS undialled,
or until the session ends; then `previews_expire` gives the lead back. `run_dialer` reserves a
lead for every ready agent of a running preview campaign each tick (`previews_reserve`), and
the agent's own Skip or disposition reserves the next at once; the worker never launches a
preview call itself.

Dial writes the attempt row first (our UUID, `worker="preview"`) with the agent's session
*reserved* for it, then originates the customer leg through ARI into Stasis, exactly as the
worker does. When the customer answers, `events._connect` gives them to that reserved agent,
already waiting in their holding bridge, so a preview call is never abandoned for want of an
agent; the ledger records it like any call (answered, connected, abandoned no) and, should the
bridge fail and the customer wait past the grace period, as abandoned, because that is what
they heard. Hang-up, wrap-up and disposition follow the dialer's path.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from telephony.asterisk.ari import AriClient
from telephony.dialer.events import PREVIEW_WORKER
from telephony.dialer.sessions import SessionError, session_transition
from telephony.dialer.worker import PREVIEW_CLAIM, attempt_originate, leads_claim_locked
from telephony.models import AgentSession, Campaign, DialAttempt, Lead, PreviewSkip
from telephony.services.asterisk import ari_config_for

State = AgentSession.State


def preview_claim_name(session: AgentSession) -> str:
    return f"{PREVIEW_CLAIM}{session.pk}"


def _is_preview(session: AgentSession) -> bool:
    campaign = session.campaign
    return (campaign is not None and campaign.dial_mode == Campaign.DialMode.PREVIEW
            and campaign.status == Campaign.Status.RUNNING)


def preview_reserved(session: AgentSession) -> Lead | None:
    """The lead reserved for `session`, undialled or being dialled, if any."""
    return (Lead.objects.select_related("lead_list")
            .filter(campaign_id=session.campaign_id, state=Lead.State.IN_PROGRESS,
                    claimed_by=preview_claim_name(session)).first())


def preview_reserve(session: AgentSession, *, now: datetime | None = None) -> Lead | None:
    """Reserve the next dialable lead for a ready agent of a running preview campaign (or
    return the one they already have)."""
    now = now or timezone.now()
    if not (session.is_live and session.state == State.READY and _is_preview(session)):
        return None
    lead = preview_reserved(session)
    if lead is not None:
        return lead
    claimed = leads_claim_locked(campaign=session.campaign, at=now, limit=1,
                                 claimed_by=preview_claim_name(session))
    return claimed[0] if claimed else None


def previews_reserve(*, now: datetime | None = None) -> int:
    """One worker step: a lead for every ready agent of a running preview campaign who has
    none. Returns how many were reserved."""
    now = now or timezone.now()
    sessions = (AgentSession.objects.filter(
        state=State.READY, ended_at__isnull=True, campaign__status=Campaign.Status.RUNNING,
        campaign__dial_mode=Campaign.DialMode.PREVIEW).select_related("campaign"))
    reserved = 0
    for session in sessions:
        held = Lead.objects.filter(state=Lead.State.IN_PROGRESS,
                                   claimed_by=preview_claim_name(session)).exists()
        if not held and preview_reserve(session, now=now) is not None:
            reserved += 1
    return reserved


def _give_back(lead_ids: list[int], *, next_eligible_at: datetime | None = None) -> int:
    """Undialled reserved leads back to the pool: NEW if never called, else RETRY."""
    still = Lead.objects.filter(pk__in=lead_ids, state=Lead.State.IN_PROGRESS)
    values = {"claimed_by": "", "claimed_at": None}
    if next_eligible_at is not None:
        values["next_eligible_at"] = next_eligible_at
    return (still.filter(attempts=0).update(state=Lead.State.NEW, **values)
            + still.filter(attempts__gt=0).update(state=Lead.State.RETRY, **values))


def previews_expire(*, now: datetime | None = None) -> int:
    """Give back reserved leads nobody dialled: held longer than DIALER_PREVIEW_SECONDS, or
    whose session ended or left preview. A lead being dialled (an attempt since the claim) is
    left to its call. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DIALER_PREVIEW_SECONDS)
    held = list(Lead.objects.filter(state=Lead.State.IN_PROGRESS,
                                    claimed_by__startswith=PREVIEW_CLAIM)
                .values_list("pk", "claimed_by", "claimed_at"))
    if not held:
        return 0
    sessions = {str(pk): (state, ended) for pk, state, ended in AgentSession.objects.filter(
        pk__in=[_session_id(claim) for _pk, claim, _at in held if _session_id(claim)])
        .values_list("pk", "state", "ended_at")}
    dialled = set(DialAttempt.objects.filter(lead_id__in=[pk for pk, _c, _a in held],
                                             worker=PREVIEW_WORKER, closed_at__isnull=True)
                  .values_list("lead_id", flat=True))
    due = []
    for pk, claim, claimed_at in held:
        state, ended = sessions.get(str(_session_id(claim)), (None, now))
        if pk in dialled:
            continue
        if ended is not None or claimed_at is None or claimed_at < cutoff or \
                state not in (State.READY, State.RESERVED, State.PAUSED):
            due.append(pk)
    return _give_back(due) if due else 0


def _session_id(claim: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(claim.removeprefix(PREVIEW_CLAIM))
    except ValueError:
        return None


def preview_skip(*, session: AgentSession, reason: str, now: datetime | None = None
                 ) -> Lead | None:
    """Give the shown lead back undialled, record why, and reserve the next one (returned).
    The skipped lead waits the campaign's no-answer retry delay, so it is not shown again at
    once; a skip is not an attempt."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise SessionError("Say why you skip this lead.")
    with transaction.atomic():
        # Not select_related: FOR UPDATE may not lock the nullable side of an outer join.
        session = AgentSession.objects.select_for_update().get(pk=session.pk)
        lead = preview_reserved(session) if session.state == State.READY else None
        if lead is None:
            raise SessionError("You have no lead on screen to skip.")
        PreviewSkip.objects.create(
            session=session, campaign_id=lead.campaign_id, lead_id=lead.pk,
            phone_number=lead.phone_number, agent_id=session.agent_id,
            agent_username=session.agent.get_username() if session.agent else "",
            reason=reason[:120], at=now)
        _give_back([lead.pk], next_eligible_at=now + timedelta(
            minutes=session.campaign.retry_no_answer_minutes))
    return preview_reserve(session, now=now)


def preview_dial(*, session: AgentSession, ari: AriClient | None = None,
                 now: datetime | None = None) -> DialAttempt:
    """Call the lead on screen: the attempt row first, the agent reserved for it, then the
    customer leg through the campaign's carrier into Stasis (it joins the agent's bridge when
    it answers)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Not select_related: FOR UPDATE may not lock the nullable side of an outer join.
        session = AgentSession.objects.select_for_update().get(pk=session.pk)
        if not session.is_live or session.state != State.READY or not _is_preview(session):
            raise SessionError("Dial works when you are ready in a running preview campaign.")
        lead = preview_reserved(session)
        if lead is None:
            raise SessionError("You have no lead on screen to dial.")
        # The call goes out on the agent's own server, where their bridge is.
        carrier = session.campaign.carrier_on(session.server_id)
        if carrier is None:
            raise SessionError("The campaign has no active carrier on your phone's Asterisk "
                               "server: tell your supervisor.")
        attempt = DialAttempt.objects.create(
            id=uuid.uuid4(), campaign_id=session.campaign_id, lead_id=lead.pk,
            phone_number=lead.phone_number, server_id=carrier.server_id, carrier_id=carrier.pk,
            carrier_name=carrier.name, worker=PREVIEW_WORKER, created_at=now,
            agent_id=session.agent_id,
            agent_username=session.agent.get_username() if session.agent else "")
        session_transition(session, State.RESERVED, at=now)
        session.attempt_id = attempt.pk
        session.save(update_fields=["attempt_id"])
    client = ari or AriClient(ari_config_for(carrier.server))
    try:
        placed = attempt_originate(session.campaign, carrier, attempt, client, now=now)
    finally:
        if ari is None:
            client.close()
    if not placed:
        with transaction.atomic():
            locked = AgentSession.objects.select_for_update().get(pk=session.pk)
            if locked.state == State.RESERVED and locked.attempt_id == attempt.pk:
                session_transition(locked, State.READY, at=now)
        attempt.refresh_from_db()
        raise SessionError(f"The call could not be placed: {attempt.error or 'refused'}")
    return attempt

