"""The dialer's pages: the agent's session (start, pause, ready, stop) and a campaign's live
numbers for supervisors."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from telephony.dialer.sessions import (
    SessionError,
    agent_session_pause,
    agent_session_ready,
    agent_session_start,
    agent_session_stop,
)
from telephony.forms.dialer import PauseForm, SessionStartForm
from telephony.models import AgentSession, Campaign
from telephony.services.dialer_live import campaign_live
from users.roles import ADMIN, AGENT, SUPERVISOR, role_required


def _live_session(user) -> AgentSession | None:
    return (AgentSession.objects.filter(agent=user, ended_at__isnull=True)
            .select_related("campaign", "pause_code").first())


@never_cache
@role_required(AGENT)
def agent_dialer(request: HttpRequest) -> HttpResponse:
    return render(request, "telephony/dialer/agent_session.html", {
        "session": _live_session(request.user), "start_form": SessionStartForm(),
        "pause_form": PauseForm()})


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
        else:  # stop
            agent_session_stop(session=session)
            messages.success(request, "Session ended.")
    except SessionError as exc:
        messages.error(request, exc.message)
    return redirect("telephony:agent_dialer")


@never_cache
@role_required(ADMIN, SUPERVISOR)
def campaign_dialer_live(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    live = campaign_live(campaign)
    agents = [(label, live.agents[value]) for value, label in AgentSession.State.choices
              if value != AgentSession.State.LOGGED_OUT]
    return render(request, "telephony/dialer/campaign_live.html",
                  {"campaign": campaign, "live": live, "agents": agents,
                   "cap_percent": live.abandon_target * 100,
                   "window_percent": live.abandon_rate_window * 100,
                   "today_percent": live.abandon_rate_today * 100})


urlpatterns = [
    path("agent/dialer/", agent_dialer, name="agent_dialer"),
    *[path(f"agent/dialer/{action}/", agent_dialer_action, {"action": action},
           name=f"agent_dialer_{action}") for action in ("start", "pause", "ready", "stop")],
    path("campaigns/<int:pk>/dialer/", campaign_dialer_live, name="campaign_dialer_live"),
]
