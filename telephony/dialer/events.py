"""What the dialer does with each ARI event of its Stasis application.

`handle_event(server, event, ari)` is a plain synchronous function, like
`services.call_events.handle_event`: the run_dialer worker calls it for every event, tests call
it directly. Events may come twice or late (a reconnect, two workers), so each change only
moves forward: an attempt dialing < ringing < answered < connected < an ending, a sealed
attempt never changes, and a session that ended stays ended.

Channel ids are ours: a customer leg's id is its DialAttempt's id, an agent leg's id is its
AgentSession's id, so every event finds its row by primary key.

  StasisStart of an agent leg      -> create the agent's holding bridge, put the phone in it,
                                      the agent is ready
  StasisStart of a customer leg    -> the longest-idle ready agent of the campaign on this
                                      server gets it (added to the agent's bridge); none: the
                                      customer waits, and `waiting_expire` plays the
                                      safe-harbor message and hangs up after the grace period.
                                      A campaign with answering-machine detection first sends
                                      the leg to the AMD dialplan context
  StasisStart "amd,<status>,<cause>" -> AMD's verdict: a person is connected as above (the
                                      grace period counts from the verdict), a machine is
                                      recorded, hung up or played the campaign's message
  ChannelStateChange Ringing,
  Dial RINGING                     -> the attempt rings
  Dial BUSY / NOANSWER / ...       -> how a call that never answered ended (its
                                      ChannelDestroyed then closes it)
  PlaybackFinished (safe harbor,
                    machine message) -> hang the customer up
  ChannelDestroyed of a customer   -> the attempt ends with an outcome from the cause; its
                                      agent goes to wrap-up
  ChannelDestroyed of an agent leg -> the session ends (a customer with them is hung up)
  ContactStatusChange Unreachable  -> an agent's phone stopped answering qualify (unplugged):
    (endpoint offline)                its session ends, its leg is hung up
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from telephony.asterisk.ari import AriClient, AriError
from telephony.asterisk.confgen import AMD_CONTEXT, AMD_STASIS_ARG
from telephony.dialer.sessions import bridge_id_for, session_transition
from telephony.dialer.worker import LEAD_OUTCOMES, lead_outcome
from telephony.models import AgentSession, AsteriskServer, Campaign, DialAttempt, Phone

Status = DialAttempt.Status
State = AgentSession.State
GRACE = timedelta(seconds=2)
SAFE_HARBOR_DEFAULT = "sound:vm-goodbye"
SAFE_HARBOR_LONGEST = timedelta(seconds=30)
# A machine's message that has not ended by then (Asterisk lost the playback) is cut.
MACHINE_MESSAGE_LONGEST = timedelta(seconds=120)

_RANK = {Status.DIALING: 0, Status.RINGING: 1, Status.DETECTING: 2, Status.ANSWERED: 3,
         Status.CONNECTED: 4}
# ChannelDestroyed cause of a leg that never answered -> the attempt's outcome.
_UNANSWERED = {17: Status.BUSY, 18: Status.NO_ANSWER, 19: Status.NO_ANSWER,
               20: Status.NO_ANSWER, 21: Status.FAILED}


_HANDLED = frozenset({"StasisStart", "ChannelStateChange", "ChannelDestroyed", "Dial",
                      "PlaybackFinished", "ContactStatusChange"})
# Dial events about a leg we originated carry it as `peer`; their dialstatus says how a call
# that never answered ended (a Local or some trunk legs end with cause 0 "Unknown", see
# tests/fakes/transcripts/ari_stasis_local.txt).
_DIALSTATUS = {"RINGING": Status.RINGING, "BUSY": Status.BUSY, "NOANSWER": Status.NO_ANSWER,
               "CONGESTION": Status.FAILED, "CHANUNAVAIL": Status.FAILED,
               "CANCEL": Status.NO_ANSWER}
SAFE_HARBOR_PLAYBACK = "safeharbor-"
# ContactStatusChange statuses of a phone Asterisk can no longer reach (qualify unanswered; the
# registration gone).
UNREACHABLE_CONTACT = frozenset({"Unreachable", "Removed"})
MACHINE_PLAYBACK = "machine-"  # the campaign's message to an answering machine
PREVIEW_WORKER = "preview"  # DialAttempt.worker of a preview call (dialer/preview.py)


def event_wanted(event: dict[str, Any]) -> bool:
    """Could this event change a row? Decided from the event alone, without the database:
    the worker skips the rest (ChannelVarset, Dial, bridge and playback events, ...)."""
    kind = event.get("type")
    if kind not in _HANDLED:
        return False
    if kind == "ChannelStateChange" and (event.get("channel") or {}).get("state") != "Ringing":
        return False
    if kind == "Dial" and event.get("dialstatus") not in _DIALSTATUS:
        return False
    if kind == "PlaybackFinished":
        return str((event.get("playback") or {}).get("id", "")).startswith(
            (SAFE_HARBOR_PLAYBACK, MACHINE_PLAYBACK))
    if kind == "ContactStatusChange":  # an agent's phone: only its last contact failing matters
        endpoint = event.get("endpoint") or {}
        status = (event.get("contact_info") or {}).get("contact_status")
        # "offline": no contact of the endpoint is reachable any more (another one of a phone
        # with several would keep it online: its calls still ring somewhere).
        return (endpoint.get("technology") == "PJSIP" and endpoint.get("state") == "offline"
                and status in UNREACHABLE_CONTACT)
    return _id(event) is not None


def _id(event: dict[str, Any]) -> uuid.UUID | None:
    holder = event.get("peer") if event.get("type") == "Dial" else event.get("channel")
    try:
        return uuid.UUID(str((holder or {}).get("id", "")))
    except ValueError:
        return None  # not one of ours (a channel someone else created, a Local ";2" leg)


def handle_event(server: AsteriskServer, event: dict[str, Any], ari: AriClient, *,
                 now: datetime | None = None) -> None:
    if not event_wanted(event):
        return
    now = now or timezone.now()
    kind = event.get("type")
    if kind == "PlaybackFinished":  # the safe-harbor or machine message has played: hang up
        target = str(event["playback"].get("target_uri", ""))
        if target.startswith("channel:"):
            _quietly(ari.hangup, target.removeprefix("channel:"))
        return
    if kind == "ContactStatusChange":
        _agent_phone_offline(server, str(event["endpoint"].get("resource", "")), ari, now)
        return
    channel_id = _id(event)
    if kind == "Dial":
        status = _DIALSTATUS[event["dialstatus"]]
        live = (Status.DIALING,) if status == Status.RINGING else (Status.DIALING,
                                                                   Status.RINGING)
        DialAttempt.objects.open().filter(pk=channel_id, status__in=live).update(status=status)
        return
    if kind == "StasisStart":
        args = event.get("args") or []
        if args[:1] == [AMD_STASIS_ARG]:  # back from the AMD context with its verdict
            _amd_verdict(server, channel_id, [str(arg) for arg in args[1:3]], ari, now)
        elif AgentSession.objects.filter(pk=channel_id).exists():
            _agent_answered(channel_id, ari, now)
        else:
            _customer_answered(server, channel_id, ari, now)
    elif kind == "ChannelStateChange" and (event["channel"].get("state") == "Ringing"):
        DialAttempt.objects.open().filter(pk=channel_id, status=Status.DIALING).update(
            status=Status.RINGING)
    elif kind == "ChannelDestroyed":
        cause = event.get("cause")
        if AgentSession.objects.filter(pk=channel_id).exists():
            _agent_gone(channel_id, ari, now, event.get("cause_txt", ""))
        else:
            _customer_gone(channel_id, now, cause if isinstance(cause, int) else None,
                           str(event.get("cause_txt", "")))


def _agent_answered(session_id: uuid.UUID, ari: AriClient, now: datetime) -> None:
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().get(pk=session_id)
        if not session.is_live or session.connected_at is not None:
            return
        session.connected_at = now
        session.bridge_id = bridge_id_for(session)
        session.save(update_fields=["connected_at", "bridge_id"])
    try:
        ari.bridge_create(bridge_id=session.bridge_id, name=f"agent {session.agent_id}")
        ari.bridge_add_channel(session.bridge_id, str(session_id))
    except AriError as exc:
        with transaction.atomic():
            session = AgentSession.objects.select_for_update().get(pk=session_id)
            session_transition(session, State.LOGGED_OUT, at=now,
                               reason=f"no holding bridge: {exc.message}")
        _quietly(ari.hangup, str(session_id))
        return
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().get(pk=session_id)
        if session.is_live and session.state == State.LOGGED_OUT:
            session_transition(session, State.READY, at=now)
    agent_phone_watch(session, ari)
    waiting_assign(session.server, ari, now=now)


def agent_phone_watch(session: AgentSession, ari: AriClient) -> None:
    """Subscribe our application to the agent's endpoint: an unplugged phone sends no BYE and
    its leg stays up in Asterisk, but its next qualify fails: ContactStatusChange Unreachable
    with the endpoint offline (transcripts/ari_phone_unplugged.txt), which ends the session
    (_agent_phone_offline). Without it the
    agent would stay "ready" and customers would be put through to a dead phone."""
    extension = (Phone.objects.filter(pk=session.phone_id).values_list("extension", flat=True)
                 .first())
    if extension:
        _quietly(ari.subscribe_endpoint, "PJSIP", extension)


def _agent_phone_offline(server: AsteriskServer, extension: str, ari: AriClient,
                         now: datetime) -> None:
    sessions = AgentSession.objects.filter(server=server, ended_at__isnull=True,
                                           phone__extension=extension).values_list("pk",
                                                                                   flat=True)
    for session_id in list(sessions):
        _agent_end(session_id, ari, now, "phone unreachable (it stopped answering Asterisk's "
                                         "qualify)")
        _quietly(ari.hangup, str(session_id))  # its leg is still up in Asterisk


def _customer_answered(server: AsteriskServer, attempt_id: uuid.UUID, ari: AriClient,
                       now: datetime) -> None:
    with transaction.atomic():
        attempt = DialAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if attempt is None or attempt.closed_at or _RANK.get(attempt.status, 9) >= 2:
            return
        # A preview call's agent is already listening: no machine detection for it.
        detect = attempt.worker != PREVIEW_WORKER and Campaign.objects.filter(
            pk=attempt.campaign_id, amd_enabled=True).exists()
        attempt.status = Status.DETECTING if detect else Status.ANSWERED
        attempt.answered_at = now
        attempt.ring_seconds = (now - attempt.created_at).total_seconds()
        attempt.save(update_fields=["status", "answered_at", "ring_seconds"])
    if detect:
        _amd_start(attempt_id, ari)
    else:
        _connect(server, attempt_id, ari, now)


def _amd_start(attempt_id: uuid.UUID, ari: AriClient) -> None:
    """Send the answered customer to the AMD context. No subscription is needed: a channel
    originated into our application stays subscribed to it after it leaves Stasis, so its
    hang-up during the analysis still reaches us (recorded: ari_stasis_amd_hangup.txt)."""
    try:
        ari.continue_in_dialplan(str(attempt_id), context=AMD_CONTEXT)
    except AriError as exc:
        # Not detected, not connected: hang up (ChannelDestroyed closes the row).
        with transaction.atomic():
            DialAttempt.objects.open().filter(pk=attempt_id).update(
                error=f"Machine detection could not start: {exc.message}"[:255])
        _quietly(ari.hangup, str(attempt_id))


def _amd_verdict(server: AsteriskServer, attempt_id: uuid.UUID, verdict: list[str],
                 ari: AriClient, now: datetime) -> None:
    """AMD() decided (AMDSTATUS HUMAN, MACHINE, NOTSURE; AMDCAUSE why). A person goes on to
    an agent, the grace period counting from now (the end of the greeting); a machine is
    recorded MACHINE and hung up, or played the campaign's message first."""
    status, cause = (verdict + ["", ""])[:2]
    with transaction.atomic():
        attempt = DialAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if attempt is None or attempt.closed_at or attempt.status != Status.DETECTING:
            return
        campaign = Campaign.objects.filter(pk=attempt.campaign_id).first()
        machine = status == "MACHINE" or (
            status != "HUMAN" and campaign is not None
            and campaign.amd_notsure == Campaign.NotSure.MACHINE)
        attempt.amd_result, attempt.amd_cause, attempt.amd_at = status[:20], cause[:64], now
        attempt.status = Status.MACHINE if machine else Status.ANSWERED
        attempt.save(update_fields=["amd_result", "amd_cause", "amd_at", "status"])
    if not machine:
        _connect(server, attempt_id, ari, now)
        return
    sound = (campaign.amd_machine_sound if campaign is not None and campaign.amd_machine_action
             == Campaign.MachineAction.MESSAGE else "")
    if sound:
        try:  # hung up on PlaybackFinished
            ari.play(str(attempt_id), f"sound:{sound}",
                     playback_id=f"{MACHINE_PLAYBACK}{attempt_id}")
            return
        except AriError:
            pass
    _quietly(ari.hangup, str(attempt_id))


def _connect(server: AsteriskServer, attempt_id: uuid.UUID, ari: AriClient,
             now: datetime) -> bool:
    """Give an answered, waiting customer to the longest-idle ready agent, if any."""
    with transaction.atomic():
        attempt = DialAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status != Status.ANSWERED or attempt.closed_at:
            return False
        # A preview call belongs to the agent who dialled it, reserved and waiting in their
        # bridge; it is never handed to anyone else.
        session = (AgentSession.objects.select_for_update()
                   .filter(attempt_id=attempt.pk, state=State.RESERVED, ended_at__isnull=True)
                   .first())
        if session is None and attempt.worker == PREVIEW_WORKER:
            return False
        if session is None:
            # skip_locked: two workers handing out customers never wait on, or take, one agent.
            session = (AgentSession.objects.select_for_update(skip_locked=True)
                       .filter(campaign_id=attempt.campaign_id, server_id=server.pk,
                               state=State.READY, ended_at__isnull=True)
                       .order_by("idle_since").first())
        if session is None:
            return False
        session_transition(session, State.ON_CALL, at=now)
        session.attempt_id = attempt.pk
        session.save(update_fields=["attempt_id"])
        attempt.status = Status.CONNECTED
        attempt.connected_at = now
        attempt.agent_id = session.agent_id
        # Not select_related: FOR UPDATE may not lock the nullable side of an outer join.
        attempt.agent_username = session.agent.get_username() if session.agent_id else ""
        attempt.save(update_fields=["status", "connected_at", "agent_id", "agent_username"])
    try:
        ari.bridge_add_channel(session.bridge_id, str(attempt_id))
    except AriError as exc:
        # The agent's bridge is gone (their phone dropped): the customer cannot be given to
        # them. Hang the customer up; the ChannelDestroyed events end both rows honestly.
        with transaction.atomic():
            DialAttempt.objects.open().filter(pk=attempt_id).update(error=exc.message[:255])
        _quietly(ari.hangup, str(attempt_id))
        _quietly(ari.hangup, str(session.pk))
    return True


def waiting_assign(server: AsteriskServer, ari: AriClient, *, now: datetime | None = None
                   ) -> None:
    """Customers waiting (oldest first) for agents who just became ready."""
    now = now or timezone.now()
    waiting = (_waiting(server).filter(grace_from__gt=now - GRACE)
               .order_by("grace_from").values_list("pk", flat=True))
    for attempt_id in list(waiting):
        if not _connect(server, attempt_id, ari, now):
            break


def _waiting(server: AsteriskServer):
    """Answered customers waiting for an agent, with when their grace period began: AMD's
    verdict if it listened (the end of the greeting), else the answer."""
    return (DialAttempt.objects.open().filter(server_id=server.pk, status=Status.ANSWERED)
            .annotate(grace_from=Coalesce(F("amd_at"), F("answered_at"))))


def waiting_expire(server: AsteriskServer, ari: AriClient, *, now: datetime | None = None,
                   safe_harbor: str = SAFE_HARBOR_DEFAULT) -> int:
    """Customers who answered more than the grace period ago and still have no agent: play the
    safe-harbor message, hang up, record them abandoned. Returns how many."""
    now = now or timezone.now()
    due = list(_waiting(server).filter(grace_from__lte=now - GRACE)
               .values_list("pk", "campaign_id"))
    expired = [attempt_id for attempt_id, _campaign in due]
    # Each campaign's own message (uploaded on its form, services/safe_harbor.py); the
    # default only for a campaign without one.
    sounds = dict(Campaign.objects.filter(pk__in={campaign for _a, campaign in due})
                  .exclude(safe_harbor_sound="").values_list("pk", "safe_harbor_sound"))
    for attempt_id, campaign_id in due:
        message = f"sound:{sounds[campaign_id]}" if campaign_id in sounds else safe_harbor
        with transaction.atomic():
            changed = DialAttempt.objects.open().filter(
                pk=attempt_id, status=Status.ANSWERED).update(status=Status.ABANDONED,
                                                              abandoned=True)
        if changed:
            # Hang up once the message has played (PlaybackFinished); at once if it cannot.
            try:
                ari.play(str(attempt_id), message,
                         playback_id=f"{SAFE_HARBOR_PLAYBACK}{attempt_id}")
            except AriError:
                _quietly(ari.hangup, str(attempt_id))
    # A message that never finished (Asterisk lost the playback): do not keep the line.
    stuck = DialAttempt.objects.open().filter(
        server_id=server.pk, status=Status.ABANDONED, ended_at__isnull=True,
        answered_at__lte=now - SAFE_HARBOR_LONGEST).values_list("pk", flat=True)
    stuck_machines = DialAttempt.objects.open().filter(
        server_id=server.pk, status=Status.MACHINE, ended_at__isnull=True,
        amd_at__lte=now - MACHINE_MESSAGE_LONGEST).values_list("pk", flat=True)
    for attempt_id in [*stuck, *stuck_machines]:
        _quietly(ari.hangup, str(attempt_id))
    return len(expired)


def _customer_gone(attempt_id: uuid.UUID, now: datetime, cause: int | None,
                   cause_text: str) -> None:
    with transaction.atomic():
        attempt = DialAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if attempt is None or attempt.closed_at or attempt.ended_at:
            return
        attempt.ended_at = now
        attempt.hangup_cause, attempt.hangup_cause_text = cause, cause_text[:80]
        if attempt.ring_seconds is None:
            attempt.ring_seconds = (now - attempt.created_at).total_seconds()
        if attempt.status in (Status.DIALING, Status.RINGING):
            attempt.status = _UNANSWERED.get(cause, Status.FAILED if attempt.status ==
                                             Status.DIALING else Status.NO_ANSWER)
        # busy / no answer / failed already came with the Dial event: keep them
        elif attempt.status == Status.ANSWERED:  # hung up while waiting for an agent
            attempt.status, attempt.abandoned = Status.ABANDONED, True
        elif attempt.status == Status.DETECTING:
            # Hung up while AMD listened: nobody can say it was a machine, so it counts as a
            # person who was not given an agent (the abandon rate errs on the safe side).
            attempt.status, attempt.abandoned = Status.ABANDONED, True
            attempt.error = "Hung up during answering-machine detection"
        elif attempt.status == Status.CONNECTED:
            attempt.status = Status.COMPLETED
            attempt.talk_seconds = max((now - attempt.connected_at).total_seconds(), 0.0)
        # A connected call stays open for its disposition; everything else is final now.
        if attempt.status != Status.COMPLETED:
            attempt.closed_at = now
        attempt.save()
        lead_outcome(lead_id=attempt.lead_id, outcome=LEAD_OUTCOMES[attempt.status], at=now)
        session = (AgentSession.objects.select_for_update()
                   .filter(attempt_id=attempt_id, state__in=(State.ON_CALL, State.RESERVED))
                   .first())
        if session is not None and session.state == State.ON_CALL:
            session_transition(session, State.WRAP_UP, at=now)
        elif session is not None:  # a preview call that never connected: next lead
            session_transition(session, State.READY, at=now)


def _agent_gone(session_id: uuid.UUID, ari: AriClient, now: datetime, cause_text: str) -> None:
    _agent_end(session_id, ari, now,
               f"phone hung up ({cause_text})" if cause_text else "hung up")


def _agent_end(session_id: uuid.UUID, ari: AriClient, now: datetime, reason: str) -> None:
    """End a live session (once): its bridge goes, and a customer with the agent is hung up."""
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().get(pk=session_id)
        if not session.is_live:
            return
        customer = (session.attempt_id if session.state in (State.ON_CALL, State.RESERVED)
                    else None)
        session_transition(session, State.LOGGED_OUT, at=now, reason=reason)
    if session.bridge_id:
        _quietly(ari.bridge_destroy, session.bridge_id)
    if customer:
        _quietly(ari.hangup, str(customer))


def _quietly(action, *args) -> None:
    """Clean-up calls: the channel or bridge may already be gone, which is fine."""
    try:
        action(*args)
    except AriError:
        pass
