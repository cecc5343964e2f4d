"""Agent sessions: the agent's phone is called once through ARI into our Stasis application
and parked in a holding bridge of its own; customers are added to that bridge.

Every state change goes through `session_transition`, which timestamps it in
AgentStateChange. Leaving wrap-up without the agent's disposition (Ready, Pause, the time
limit, the phone hung up) seals the call's ledger row with the system's NODISPO, writes it in
the lead's disposition history and gives the lead back to the pool, in the same transaction
as the state change: otherwise the lead would stay "in progress" for ever. A campaign with
`disposition_required` refuses Ready and Pause in wrap-up; the limit and the phone still end it.
The ARI side effects run after the rows are written, so a failure leaves a row that says what
happened rather than a call nobody knows about.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from telephony.asterisk.ari import AriClient, AriError
from telephony.models import (
    AgentSession,
    AgentStateChange,
    CallDisposition,
    Campaign,
    DialAttempt,
    Disposition,
    PauseCode,
    Phone,
)
from telephony.services.asterisk import ari_config_for
from telephony.services.leads import lead_undisposed_record

State = AgentSession.State
AGENT_APP_ARG = "agent"


class SessionError(Exception):
    """A session could not start or change; `message` is for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bridge_id_for(session: AgentSession) -> str:
    return f"agent-{session.pk}"


def session_transition(session: AgentSession, to_state: str, *, at: datetime | None = None,
                       pause_code: PauseCode | None = None, reason: str = "") -> None:
    """Move `session` to `to_state` and record the change (saved; call inside a transaction
    that holds the session row)."""
    at = at or timezone.now()
    from_state = session.state
    if from_state == State.WRAP_UP and to_state != State.WRAP_UP and session.attempt_id:
        # The disposition form seals the row before it moves the agent on, so a row still
        # open here ended without one.
        wrapup_end_undisposed(attempt_id=session.attempt_id, wrap_since=session.state_since,
                              at=at, agent_id=session.agent_id)
    session.state = to_state
    session.state_since = at
    session.pause_code = pause_code if to_state == State.PAUSED else None
    if to_state == State.READY:
        session.idle_since = at
        session.attempt_id = None
    if to_state == State.LOGGED_OUT:
        session.ended_at = session.ended_at or at
        session.live_agent_id = None
        session.end_reason = session.end_reason or reason[:80]
    session.save()
    AgentStateChange.objects.create(session=session, from_state=from_state, to_state=to_state,
                                    pause_code=pause_code.code if pause_code else "", at=at)


def attempt_seal(*, attempt_id, wrap_since: datetime, disposition: str = "",
                 at: datetime | None = None) -> DialAttempt | None:
    """Close a connected attempt once its wrap-up is over: from here it is read-only. The
    disposition goes in by the same UPDATE, the only one a sealed row ever gets. Returns the
    attempt, or None when it was not open (already sealed, or never connected)."""
    at = at or timezone.now()
    attempt = DialAttempt.objects.select_for_update().filter(
        pk=attempt_id, closed_at__isnull=True, status=DialAttempt.Status.COMPLETED).first()
    if attempt is None:
        return None
    attempt.wrap_seconds = max((at - wrap_since).total_seconds(), 0.0)
    attempt.disposition = disposition or attempt.disposition
    attempt.closed_at = at
    attempt.save(update_fields=["wrap_seconds", "disposition", "closed_at"])
    return attempt


def wrapup_end_undisposed(*, attempt_id, wrap_since: datetime, at: datetime,
                          agent_id: int | None = None) -> None:
    """The wrap-up of a connected call ended without the agent's disposition: the system's
    own (NODISPO) seals the ledger row, goes into the lead's disposition history (so a
    supervisor reading the lead sees the call ended undisposed, not nothing), and the lead
    goes back to the pool as a retry, or is used up (as VICIdial's dispo timeout does).
    Inside the transaction holding the session."""
    attempt = attempt_seal(attempt_id=attempt_id, wrap_since=wrap_since, at=at,
                           disposition=Disposition.NO_DISPOSITION)
    if attempt is None or not attempt.lead_id:
        return
    lead = lead_undisposed_record(lead_id=attempt.lead_id, at=at)
    if lead is not None:
        CallDisposition.objects.create(system_code=CallDisposition.SystemCode.NO_DISPOSITION,
                                       lead=lead, campaign_id=lead.campaign_id,
                                       agent_id=agent_id)


def wrapup_needs_disposition(session: AgentSession) -> bool:
    """Whether the session's campaign holds its agent in wrap-up until they save a
    disposition. Not when the campaign has no active disposition to pick: Ready would be the
    only way out, and refusing it would leave the agent stuck."""
    campaign = session.campaign
    return bool(campaign is not None and campaign.disposition_required
                and Disposition.objects.filter(campaign_id=campaign.pk, is_active=True)
                .exists())


DISPOSITION_FIRST = "Pick a disposition for this call first."


def agent_session_start(*, agent, campaign: Campaign, ari: AriClient | None = None
                        ) -> AgentSession:
    """Call the agent's phone into Stasis. The session is live (and blocks a second start)
    from here; it becomes ready when the phone answers (StasisStart)."""
    phone = Phone.objects.active_of(agent)
    if phone is None:
        raise SessionError("You have no active phone to take calls on.")
    if campaign.carrier is not None and campaign.carrier_on(phone.server_id) is None:
        # Its customers would be dialled on another server, where no bridge of theirs is.
        raise SessionError(f"{campaign.name} has no carrier on {phone.server.name}, the "
                           f"Asterisk server of your phone: tell your supervisor.")
    try:
        with transaction.atomic():
            session = AgentSession.objects.create(agent=agent, campaign=campaign, phone=phone,
                                                  server=phone.server, live_agent_id=agent.pk)
            AgentStateChange.objects.create(session=session, from_state="",
                                            to_state=State.LOGGED_OUT, at=session.started_at)
    except IntegrityError:
        raise SessionError("You are already in a session.") from None
    client = ari or AriClient(ari_config_for(phone.server))
    try:
        client.originate_to_app(endpoint=f"PJSIP/{phone.extension}", channel_id=str(session.pk),
                                caller_id=f"{campaign.name[:30]} <{phone.extension}>",
                                timeout=30, app_args=AGENT_APP_ARG)
    except AriError as exc:
        with transaction.atomic():
            session = AgentSession.objects.select_for_update().get(pk=session.pk)
            session_transition(session, State.LOGGED_OUT, reason=f"phone not called: "
                                                                 f"{exc.message}")
        raise SessionError(f"Your phone could not be called: {exc.message}") from None
    finally:
        if ari is None:
            client.close()
    return session


def agent_session_pause(*, session: AgentSession, pause_code: PauseCode) -> AgentSession:
    """Ready or wrap-up -> paused. An agent on a call pauses after it (wrap-up first)."""
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().get(pk=session.pk)
        if session.state not in (State.READY, State.WRAP_UP, State.PAUSED):
            raise SessionError("You can pause when you are ready or in wrap-up.")
        if session.state == State.WRAP_UP and wrapup_needs_disposition(session):
            raise SessionError(DISPOSITION_FIRST)
        # Leaving wrap-up ends it, as Ready does: session_transition seals the call's row
        # (NODISPO, with its wrap-up time) and gives its lead back.
        session_transition(session, State.PAUSED, pause_code=pause_code)
    return session


def agent_session_ready(*, session: AgentSession) -> AgentSession:
    """Paused or wrap-up -> ready (the disposition, if any, is saved first by its own form)."""
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().get(pk=session.pk)
        if session.state not in (State.PAUSED, State.WRAP_UP):
            raise SessionError("Only a paused agent or one in wrap-up can become ready.")
        if session.connected_at is None:
            raise SessionError("Your phone has not answered yet.")
        if session.state == State.WRAP_UP and wrapup_needs_disposition(session):
            raise SessionError(DISPOSITION_FIRST)
        session_transition(session, State.READY)  # from wrap-up: NODISPO, as in pause
    return session


def wrapups_expire(*, now: datetime | None = None) -> int:
    """Agents in wrap-up longer than their campaign's limit (`wrapup_seconds`, 0 = none) are
    made ready, as if they had pressed Ready: the dialer may give them the next customer. The
    attempt is sealed with its wrap-up time and NODISPO, its lead given back (see
    session_transition). Returns how many."""
    from datetime import timedelta

    now = now or timezone.now()
    due = []
    candidates = (AgentSession.objects.filter(state=State.WRAP_UP, ended_at__isnull=True,
                                              campaign__wrapup_seconds__gt=0)
                  .values_list("pk", "state_since", "campaign__wrapup_seconds"))
    for pk, since, limit in candidates:
        if since <= now - timedelta(seconds=limit):
            due.append(pk)
    for pk in due:
        with transaction.atomic():
            session = AgentSession.objects.select_for_update().get(pk=pk)
            if session.state != State.WRAP_UP or session.ended_at is not None:
                continue  # the agent acted first
            session_transition(session, State.READY, at=now, reason="wrap-up limit")
    return len(due)


def agent_session_stop(*, session: AgentSession, ari: AriClient | None = None) -> None:
    """Hang up the agent's phone leg; its ChannelDestroyed ends the session. If Asterisk no
    longer has the channel, end the session here."""
    client = ari or AriClient(ari_config_for(session.server))
    try:
        client.hangup(str(session.pk))
    except AriError as exc:
        if exc.status != 404:
            raise SessionError(f"Asterisk did not hang up your phone: {exc.message}") from None
        with transaction.atomic():
            locked = AgentSession.objects.select_for_update().get(pk=session.pk)
            if locked.is_live:
                session_transition(locked, State.LOGGED_OUT, reason="stopped")
    finally:
        if ari is None:
            client.close()
