"""The supervisors' live board: every agent, their phone, whether it is registered, the call
they are on, and today's numbers. Read-only; a page polls it every few seconds, so it costs
the same few queries whatever the number of agents (asserted in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

from telephony.models import AgentSession, AsteriskServer, Call, Phone
from telephony.realtime.registration import Registration
from telephony.services.calls import calls_expire_stale
from telephony.services.registration import registrations_by_server
from users.roles import AGENT

# DeviceStateList states of a phone on a call (RINGING is a phone ringing, not yet talking).
IN_USE = frozenset({"INUSE", "BUSY", "ONHOLD", "RINGINUSE"})


class AgentState(models.TextChoices):
    NO_PHONE = "no_phone", "No phone"
    OFFLINE = "offline", "Phone offline"
    # Registered, but Asterisk would not ring it (its contact failed the last qualify).
    UNREACHABLE = "unreachable", "Phone unreachable"
    AVAILABLE = "available", "Available"
    DIALING = "dialing", "Dialling"
    ON_CALL = "on_call", "On a call"


@dataclass
class AgentRow:
    user: object
    extension: str | None  # of the agent's active phone
    registration: Registration
    call: Call | None  # the live one
    calls_today: int
    answered_today: int
    talk_seconds_today: int  # of today's ended calls
    # In a live dialer session: the phone's leg is up in Stasis between customers, so its
    # device state says INUSE while the agent waits (the dialer's page shows that state).
    in_dialer_session: bool = False

    @property
    def state(self) -> str:
        if self.call is not None:
            return (AgentState.ON_CALL if self.call.status == Call.Status.ANSWERED
                    else AgentState.DIALING)
        # No call in the log (the listener missed it), but Asterisk says the phone is busy.
        if self.registration.device_state in IN_USE and not self.in_dialer_session:
            return AgentState.ON_CALL
        if self.registration.device_state == "RINGING" and not self.in_dialer_session:
            return AgentState.DIALING
        if self.extension is None:
            return AgentState.NO_PHONE
        if self.registration.unreachable:
            return AgentState.UNREACHABLE
        return AgentState.AVAILABLE if self.registration.registered else AgentState.OFFLINE

    @property
    def state_label(self) -> str:
        return AgentState(self.state).label

    def call_seconds(self, now: datetime) -> int | None:
        """Talk time of the live call if answered, else how long it has been dialling."""
        if self.call is None:
            return None
        since = self.call.answered_at or self.call.created_at
        return max(int((now - since).total_seconds()), 0)


@dataclass
class Board:
    rows: list[AgentRow]
    now: datetime
    registration_problem: str = ""  # why Asterisk could not be asked (services/registration)

    @property
    def counts(self) -> dict[str, int]:
        """Agents per AgentState value."""
        counts = dict.fromkeys(AgentState.values, 0)
        for row in self.rows:
            counts[row.state] += 1
        return counts

    @property
    def registered(self) -> int:
        return sum(row.registration.registered for row in self.rows)

    @property
    def with_phone(self) -> int:
        return sum(row.extension is not None for row in self.rows)

    @property
    def calls_today(self) -> int:
        return sum(row.calls_today for row in self.rows)

    @property
    def answered_today(self) -> int:
        return sum(row.answered_today for row in self.rows)

    @property
    def talk_seconds_today(self) -> int:
        return sum(row.talk_seconds_today for row in self.rows)


def live_board(*, now: datetime | None = None) -> Board:
    """Every active agent, in seven queries (the stale-call sweep, agents, phones, servers,
    live dialer sessions, live calls, today's numbers) and one login per server
    (PJSIPShowContacts, DeviceStateList), shared by the boards polling within
    LIVE_BOARD_CACHE_SECONDS; an eighth query (ps_contacts) when Asterisk cannot be asked."""
    now = now or timezone.now()
    # A queued call nothing reported on must not show an agent "dialling" for ever.
    calls_expire_stale()
    # Only the columns shown, and the agents as a subquery rather than a list of ids: the board
    # is re-read every few seconds by every open wallboard (benchmarks/live_board.py).
    agent_users = get_user_model().objects.filter(is_active=True, groups__name=AGENT)
    agents = list(agent_users.only("id", "username", "first_name", "last_name")
                  .order_by("username").distinct())
    ids = agent_users.values("id")
    # Tuples, and each server once: 300 Phone and AsteriskServer instances per poll were a
    # tenth of the request.
    phones = list(Phone.objects.filter(user_id__in=ids, is_active=True)
                  .values_list("user_id", "extension", "server_id"))
    extensions = {user_id: extension for user_id, extension, _server in phones}
    servers = AsteriskServer.objects.in_bulk({server for _u, _e, server in phones} - {None})
    groups: dict[int | None, tuple[AsteriskServer | None, list[str]]] = {}
    for _user, extension, server_id in phones:
        groups.setdefault(server_id, (servers.get(server_id), []))[1].append(extension)
    # Twenty wallboards are twenty polls every 3 s: within LIVE_BOARD_CACHE_SECONDS they share
    # one AMI answer per server (a login is about 14 ms of the request, and Asterisk's work).
    registrations = registrations_by_server(groups.values(),
                                            max_age=settings.LIVE_BOARD_CACHE_SECONDS)
    in_session = set(AgentSession.objects.filter(live_agent_id__isnull=False)
                     .values_list("agent_id", flat=True))
    live: dict[int, Call] = {}
    # By status (indexed) alone: live calls are few, and rows of non-agents are never read.
    for call in (Call.objects.filter(status__in=Call.LIVE_STATUSES, user__isnull=False)
                 .select_related("campaign")
                 .only("id", "user_id", "status", "number", "created_at", "answered_at",
                       "campaign__name").order_by("created_at")):
        live[call.user_id] = call  # the newest wins; an agent has one live call at a time
    # "Today" in the call centre's TIME_ZONE, not UTC: the numbers reset at local midnight.
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = {
        row["user_id"]: row for row in
        Call.objects.filter(created_at__gte=midnight, user__isnull=False).values("user_id")
        .annotate(total=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)),
                  talk=Sum("duration", filter=Q(ended_at__isnull=False)))
    }
    rows = []
    for agent in agents:
        extension = extensions.get(agent.pk)
        stats = today.get(agent.pk, {})
        rows.append(AgentRow(
            user=agent, extension=extension,
            registration=registrations.get(extension),
            call=live.get(agent.pk), calls_today=stats.get("total", 0),
            answered_today=stats.get("answered", 0), talk_seconds_today=stats.get("talk") or 0,
            in_dialer_session=agent.pk in in_session))
    return Board(rows=rows, now=now, registration_problem=registrations.problem)
