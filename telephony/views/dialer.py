"""The dialer's pages: the agent's session (start, pause, ready, stop; dial and skip in
preview mode) and a campaign's live numbers for supervisors."""

from __future__ import annotations

import datetime
import json
import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from telephony.dialer.preview import preview_dial, preview_skip
from telephony.dialer.screen import session_screen
from telephony.dialer.sessions import (
    SessionError,
    agent_session_pause,
    agent_session_ready,
    agent_session_start,
    agent_session_stop,
)
from telephony.forms.dialer import PauseForm, SessionStartForm, SkipForm
from telephony.models import AgentSession, Campaign
from telephony.services.dialer_health import dialer_health
from telephony.services.dialer_live import campaign_live
from telephony.services.ledger_export import ledger_export
from telephony.views.calls import api_view
from users.roles import ADMIN, AGENT, SUPERVISOR, role_required


def _live_session(user) -> AgentSession | None:
    return (AgentSession.objects.filter(agent=user, ended_at__isnull=True)
            .select_related("campaign", "pause_code").first())


@never_cache
@role_required(AGENT)
def agent_dialer(request: HttpRequest) -> HttpResponse:
    return render(request, "telephony/dialer/agent_session.html", {
        "session": _live_session(request.user), "start_form": SessionStartForm(),
        "pause_form": PauseForm(), "skip_form": SkipForm(),
        "screen": session_screen(request.user)})


@api_view(methods=("GET",))
def agent_dialer_state(request: HttpRequest) -> JsonResponse:
    """The agent's session and customer as JSON (what each pushed event carries)."""
    return JsonResponse(session_screen(request.user))


def _screen_events(user, *, seconds: float, interval: float):
    """Server-sent events: one `screen` event now and one on every change, a comment line
    as a heartbeat, for `seconds`; then the stream ends and EventSource reconnects (after
    `retry` ms), so one stream never holds a worker for long."""
    yield f"retry: {settings.DIALER_PUSH_RETRY_MS}\n\n"
    # No connection clean-up here: the handler's request_finished, sent when the server
    # closes the streamed response, closes this request's database connection as usual.
    last, deadline, beat = None, time.monotonic() + seconds, time.monotonic()
    while time.monotonic() < deadline:
        screen = session_screen(user)
        if screen["version"] != last:
            last = screen["version"]
            yield f"event: screen\ndata: {json.dumps(screen)}\n\n"
            beat = time.monotonic()
        elif time.monotonic() - beat > 10:
            yield ": still here\n\n"
            beat = time.monotonic()
        time.sleep(interval)


@api_view(methods=("GET",))
def agent_dialer_events(request: HttpRequest) -> HttpResponse:
    """The session page's push channel (text/event-stream). The dialer worker writes the
    session row when a customer is connected; this stream reads it every
    DIALER_PUSH_INTERVAL_MS and sends it the moment it changed."""
    response = StreamingHttpResponse(
        _screen_events(request.user, seconds=settings.DIALER_PUSH_STREAM_SECONDS,
                       interval=settings.DIALER_PUSH_INTERVAL_MS / 1000),
        content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@role_required(AGENT)  # the role first: anonymous visitors go to login, whatever the method
@require_POST
def agent_dialer_action(request: HttpRequest, action: str) -> HttpResponse:
    session = _live_session(request.user)
    try:
        if action == "start":
            form = SessionStartForm(request.POST)
            if not form.is_valid():
                raise SessionError("Pick a campaign you may work.")
            agent_session_start(agent=request.user, campaign=form.cleaned_data["campaign"])
            messages.success(request, "Your phone is ringing: answer it to start taking calls.")
        elif session is None:
            raise SessionError("You are not in a session.")
        elif action == "pause":
            form = PauseForm(request.POST)
            if not form.is_valid():
                raise SessionError("Pick a pause reason.")
            agent_session_pause(session=session, pause_code=form.cleaned_data["pause_code"])
        elif action == "ready":
            agent_session_ready(session=session)
        elif action == "dial":
            preview_dial(session=session)
        elif action == "skip":
            form = SkipForm(request.POST)
            if not form.is_valid():
                raise SessionError("Say why you skip this lead.")
            preview_skip(session=session, reason=form.cleaned_data["reason"])
        else:  # stop
            agent_session_stop(session=session)
            messages.success(request, "Session ended.")
    except SessionError as exc:
        messages.error(request, exc.message)
    return redirect("telephony:agent_dialer")


# How often the dialer page re-fetches its numbers (live-fragment.js).
LIVE_REFRESH_SECONDS = 3


def _live_context(campaign: Campaign) -> dict:
    live = campaign_live(campaign)
    agents = [(label, live.agents[value]) for value, label in AgentSession.State.choices
              if value != AgentSession.State.LOGGED_OUT]
    return {"campaign": campaign, "live": live, "agents": agents,
            "cap_percent": live.abandon_target * 100,
            "window_percent": live.abandon_rate_window * 100,
            "today_percent": live.abandon_rate_today * 100,
            "health": dialer_health(campaign), "refresh_seconds": LIVE_REFRESH_SECONDS}


@never_cache
@role_required(ADMIN, SUPERVISOR)
def campaign_dialer_live(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("carrier"), pk=pk)
    return render(request, "telephony/dialer/campaign_live.html",
                  {**_live_context(campaign), "controls": _controls(campaign)})


@never_cache
@role_required(ADMIN, SUPERVISOR)
def campaign_dialer_live_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's live part alone, for its poll."""
    campaign = get_object_or_404(Campaign.objects.select_related("carrier"), pk=pk)
    return render(request, "telephony/dialer/_campaign_live.html", _live_context(campaign))


# The supervisor's buttons on the dialer page: (target status, label, button style), in the
# order shown, for the moves the campaign's status allows.
_CONTROL_LABELS = {Campaign.Status.RUNNING: ("Start dialling", "btn-success"),
                   Campaign.Status.PAUSED: ("Pause dialling", "btn-warning"),
                   Campaign.Status.FINISHED: ("Stop the campaign", "btn-outline-danger")}


def _controls(campaign: Campaign) -> list[tuple[str, str, str]]:
    allowed = Campaign.TRANSITIONS[Campaign.Status(campaign.status)]
    return [(status, *_CONTROL_LABELS[status]) for status in _CONTROL_LABELS
            if status in allowed]


@role_required(ADMIN, SUPERVISOR)
def campaign_ledger_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign's dial attempts as CSV; ?from=YYYY-MM-DD&to=YYYY-MM-DD (to inclusive)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        since = _day(request.GET.get("from"))
        until = _day(request.GET.get("to"))
    except ValueError:
        return HttpResponse("from and to are dates like 2026-12-01.", status=400,
                            content_type="text/plain; charset=utf-8")
    end = until + datetime.timedelta(days=1) if until else None
    response = StreamingHttpResponse(
        ledger_export(campaign_id=campaign.pk, since=since, until=end),
        content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ledger-campaign-{pk}.csv"'
    return response


def _day(value: str | None) -> datetime.datetime | None:
    """Midnight (in the site's time zone) of a YYYY-MM-DD date; ValueError otherwise."""
    if not value:
        return None
    if len(value) != 10:
        raise ValueError(value)
    day = datetime.date.fromisoformat(value)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


urlpatterns = [
    path("agent/dialer/", agent_dialer, name="agent_dialer"),
    path("agent/dialer/state/", agent_dialer_state, name="agent_dialer_state"),
    path("agent/dialer/events/", agent_dialer_events, name="agent_dialer_events"),
    *[path(f"agent/dialer/{action}/", agent_dialer_action, {"action": action},
           name=f"agent_dialer_{action}")
      for action in ("start", "pause", "ready", "stop", "dial", "skip")],
    path("campaigns/<int:pk>/dialer/", campaign_dialer_live, name="campaign_dialer_live"),
    path("campaigns/<int:pk>/dialer/live/", campaign_dialer_live_fragment,
         name="campaign_dialer_live_fragment"),
    path("campaigns/<int:pk>/dialer/ledger.csv", campaign_ledger_export,
         name="campaign_ledger_export"),
]
