"""After a restart or a lost event stream: make the rows agree with what Asterisk still has.

ARI `GET /channels` lists every channel; ours are the ones whose id is an open attempt's or a
live session's id. An open attempt Asterisk no longer has ended while nobody listened (or was
never dialled: the worker stopped between writing the row and the originate): it is closed
with an honest outcome (one it still has that answered unheard is given to the safe-harbor
sweep, see below), its lead is told that outcome and its agent goes to wrap-up. A live
session whose phone leg is gone is ended. Rows Asterisk still has are left alone: their events
will come. run_dialer runs it after every connect of the event stream and every
RECONCILE_SECONDS, since an attempt younger than IN_FLIGHT is passed over at the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from telephony.asterisk.ari import AriClient
from telephony.dialer.events import GRACE, agent_phone_watch
from telephony.dialer.sessions import session_transition
from telephony.dialer.worker import LEAD_OUTCOMES, lead_outcome
from telephony.models import AgentSession, AsteriskServer, DialAttempt

Status = DialAttempt.Status
# An attempt younger than this may be between its row and its originate in another worker.
IN_FLIGHT = timedelta(seconds=10)
# AMD() decides within its total analysis time (5 s, amd.conf); a call still "detecting" this
# long after its answer lost its verdict (it came back into Stasis while nobody listened).
AMD_LONGEST = timedelta(seconds=15)


@dataclass
class Reconciled:
    attempts_closed: int = 0
    answered_unheard: int = 0
    sessions_ended: int = 0
    still_live: int = 0


def dialer_reconcile(server: AsteriskServer, ari: AriClient, *,
                     now: datetime | None = None) -> Reconciled:
    """Raises AriError when Asterisk cannot be asked: then nothing is changed."""
    now = now or timezone.now()
    present = {channel.get("id"): channel.get("state") for channel in ari.channels()}
    result = Reconciled()
    attempts = DialAttempt.objects.open().filter(server_id=server.pk, ended_at__isnull=True,
                                                 created_at__lt=now - IN_FLIGHT)
    rows = attempts.values_list("pk", "status", "created_at", "answered_at")
    for attempt_id, status, created_at, answered_at in rows:
        if str(attempt_id) in present:
            result.still_live += 1
            if status == Status.DETECTING and answered_at and answered_at < now - AMD_LONGEST:
                # Its verdict never reached us: taken as a person past the grace period, so
                # the next sweep plays the safe-harbor message and records it abandoned.
                DialAttempt.objects.open().filter(pk=attempt_id, status=status).update(
                    status=Status.ANSWERED, amd_at=now - GRACE,
                    error="Machine detection verdict lost (the dialer was not listening)")
                result.answered_unheard += 1
                continue
            if present[str(attempt_id)] == "Up" and status in (Status.DIALING,
                                                                 Status.RINGING):
                # It answered while nobody listened (its StasisStart was lost): the customer
                # sits in silence in our application. When is unknown, so past the 2 s grace:
                # answered now and at once due for the safe-harbor message and hang-up
                # (waiting_expire), counted as abandoned. Seen on the real Asterisk after a
                # kill -9 of the worker.
                DialAttempt.objects.open().filter(pk=attempt_id, status=status).update(
                    status=Status.ANSWERED, answered_at=now - GRACE,
                    ring_seconds=max((now - GRACE - created_at).total_seconds(), 0.0),
                    error="Answered while the dialer was not listening")
                result.answered_unheard += 1
            continue
        with transaction.atomic():
            attempt = DialAttempt.objects.select_for_update().get(pk=attempt_id)
            if attempt.closed_at or attempt.ended_at:
                continue
            attempt.ended_at = now
            if status == Status.DIALING:
                attempt.status = Status.FAILED
                attempt.error = "Not dialled or lost before ringing (the dialer restarted)"
            elif status == Status.RINGING:
                attempt.status = Status.FAILED
                attempt.error = "Ended while the dialer was not listening (outcome unknown)"
            elif status in (Status.ANSWERED, Status.DETECTING):
                attempt.status, attempt.abandoned = Status.ABANDONED, True
                attempt.error = "Answered, ended while the dialer was not listening"
            elif status in (Status.ABANDONED, Status.MACHINE):
                pass  # its message was playing: the outcome is already known
            else:  # connected: the talk happened, its end time is unknown
                attempt.status = Status.COMPLETED
                attempt.error = "Ended while the dialer was not listening"
            if attempt.status != Status.COMPLETED:
                attempt.closed_at = now
            attempt.save()
            # The lead learns how it ended too, or it would stay "in progress" for ever.
            lead_outcome(lead_id=attempt.lead_id, outcome=LEAD_OUTCOMES[attempt.status],
                         at=now)
            # And its agent, still "on call" with a customer who is gone, goes to wrap-up;
            # one reserved for a preview call that never connected, back to ready.
            agent = (AgentSession.objects.select_for_update()
                     .filter(attempt_id=attempt_id, state__in=(
                         AgentSession.State.ON_CALL, AgentSession.State.RESERVED)).first())
            if agent is not None:
                session_transition(agent, AgentSession.State.WRAP_UP
                                   if agent.state == AgentSession.State.ON_CALL
                                   else AgentSession.State.READY, at=now)
            result.attempts_closed += 1
    sessions = AgentSession.objects.filter(server=server, ended_at__isnull=True,
                                           started_at__lt=now - IN_FLIGHT)
    for session in sessions.only("pk", "phone_id"):
        session_id = session.pk
        if str(session_id) in present:
            result.still_live += 1
            # Asterisk may have lost our endpoint subscription with the event stream: a phone
            # unplugged meanwhile must still end its session.
            agent_phone_watch(session, ari)
            continue
        with transaction.atomic():
            session = AgentSession.objects.select_for_update().get(pk=session_id)
            if session.is_live:
                session_transition(session, AgentSession.State.LOGGED_OUT, at=now,
                                   reason="phone leg gone (found at reconcile)")
                result.sessions_ended += 1
    return result
