"""Build a campaign's PacingState from the database: the agent sessions and the ledger.

A fixed number of queries per campaign (sessions, calls in flight, one aggregate per window),
whatever the number of agents or attempts: the worker does this every second.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from telephony.dialer.pacing import PacingState, WindowStats
from telephony.models import AgentSession, DialAttempt

State = AgentSession.State
Status = DialAttempt.Status
GRACE_SECONDS = 2.0
DEFAULT_TARGET = 0.03
DEFAULT_RING_TIMEOUT = 25


def _window(campaign_id: int, since: datetime | None) -> WindowStats:
    base = DialAttempt.objects.filter(campaign_id=campaign_id)
    answered_in = Q(answered_at__isnull=False) & ~Q(status=Status.MACHINE)
    if since is not None:
        ring_end = (Q(answered_at__gte=since) | Q(answered_at__isnull=True, ended_at__gte=since))
        answered_in &= Q(answered_at__gte=since)
        connected_in = Q(connected_at__gte=since)
        ended_in = Q(ended_at__gte=since)
        closed_in = Q(closed_at__gte=since)
    else:
        ring_end = Q(answered_at__isnull=False) | Q(ended_at__isnull=False)
        connected_in = Q(connected_at__isnull=False)
        ended_in = Q(ended_at__isnull=False)
        closed_in = Q(closed_at__isnull=False)
    talked = ended_in & Q(talk_seconds__isnull=False)
    wrapped = closed_in & Q(wrap_seconds__isnull=False)
    row = base.aggregate(
        dialed=Count("pk", filter=ring_end),
        answered=Count("pk", filter=answered_in),
        machines=Count("pk", filter=ended_in & Q(status=Status.MACHINE)),
        connects=Count("pk", filter=connected_in),
        abandons=Count("pk", filter=answered_in & Q(abandoned=True)),
        ring=Avg("ring_seconds", filter=answered_in),
        ring2=Avg(F("ring_seconds") * F("ring_seconds"), filter=answered_in),
        talks=Count("pk", filter=talked),
        talk=Avg("talk_seconds", filter=talked),
        talk2=Avg(F("talk_seconds") * F("talk_seconds"), filter=talked),
        wraps=Count("pk", filter=wrapped),
        wrap=Avg("wrap_seconds", filter=wrapped),
        wrap2=Avg(F("wrap_seconds") * F("wrap_seconds"), filter=wrapped),
    )
    return WindowStats(
        dialed=row["dialed"], answered=row["answered"], machines=row["machines"],
        connects=row["connects"], abandons=row["abandons"],
        ring_mean=row["ring"] or 0.0, ring_sd=_sd(row["ring"], row["ring2"]),
        talk_mean=row["talk"] or 0.0, talk_sd=_sd(row["talk"], row["talk2"]),
        wrap_mean=row["wrap"] or 0.0, wrap_sd=_sd(row["wrap"], row["wrap2"]),
        talks=row["talks"], wraps=row["wraps"])


def _sd(mean: float | None, mean_of_squares: float | None) -> float:
    # Two averages instead of StdDev: SQLite has no standard deviation function.
    if mean is None or mean_of_squares is None:
        return 0.0
    return math.sqrt(max(mean_of_squares - mean * mean, 0.0))


def compliance_window_start(campaign, now: datetime) -> datetime:
    window = getattr(campaign, "abandon_window", "")
    if window == "30d":
        return now - timedelta(days=30)
    if window == "24h":
        return now - timedelta(hours=24)
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def pacing_state_for(campaign, *, now: datetime | None = None,
                     since: datetime | None = None, server_id: int | None = None
                     ) -> PacingState:
    """`since`: the start of the `campaign` window (default: the campaign's abandon window,
    30 days or 24 hours, as the regulator counts it; today when it has none).

    `server_id`: the agents and the calls in flight of that Asterisk server only, since a
    customer is given only to an agent on the server that carries the call; the rates and
    durations stay the campaign's (the same lists and the same people: one abandon rate, as
    the regulator counts it, whatever the server)."""
    now = now or timezone.now()
    if since is None:
        since = compliance_window_start(campaign, now)
    ready = on_call = wrap = total = 0
    talk_elapsed: list[float] = []
    wrap_elapsed: list[float] = []
    sessions = AgentSession.objects.filter(campaign=campaign, ended_at__isnull=True,
                                           connected_at__isnull=False)
    if server_id is not None:
        sessions = sessions.filter(server_id=server_id)
    for state, state_since in sessions.values_list("state", "state_since"):
        total += 1
        elapsed = max((now - state_since).total_seconds(), 0.0)
        if state == State.READY:
            ready += 1
        elif state in (State.RESERVED, State.ON_CALL):
            on_call += 1
            talk_elapsed.append(elapsed)
        elif state == State.WRAP_UP:
            wrap += 1
            wrap_elapsed.append(elapsed)
    ringing: list[float] = []
    waiting = 0
    live = DialAttempt.objects.open().filter(
        campaign_id=campaign.pk, status__in=(Status.DIALING, Status.RINGING, Status.DETECTING,
                                             Status.ANSWERED))
    if server_id is not None:
        live = live.filter(server_id=server_id)
    for status, created_at in live.values_list("status", "created_at"):
        # A call in machine detection may be a person about to need an agent.
        if status in (Status.ANSWERED, Status.DETECTING):
            waiting += 1
        else:
            ringing.append(max((now - created_at).total_seconds(), 0.0))
    target = getattr(campaign, "abandon_target_percent", None)
    return PacingState(
        now=now.timestamp(),
        abandon_target=float(target) / 100 if target is not None else DEFAULT_TARGET,
        grace_period=GRACE_SECONDS,
        ring_timeout=float(getattr(campaign, "ring_timeout", None) or DEFAULT_RING_TIMEOUT),
        agents_total=total, agents_ready=ready, agents_on_call=on_call, agents_wrap_up=wrap,
        calls_ringing=len(ringing), calls_waiting=waiting,
        last_5min=_window(campaign.pk, now - timedelta(minutes=5)),
        last_30min=_window(campaign.pk, now - timedelta(minutes=30)),
        campaign=_window(campaign.pk, since),
        ring_elapsed=tuple(ringing), talk_elapsed=tuple(talk_elapsed),
        wrap_elapsed=tuple(wrap_elapsed))
